"""What the viewer's end-to-end tests share: the real `gitsess serve` process, and a real
Chromium driven by Playwright.

Chromium is Debian's (`apt-get install chromium`; Playwright's own browser download is
not reachable here), found through GITSESS_CHROMIUM or on PATH. Without it, or without
Playwright, the browser tests skip and say why (pytest runs with -ra: a skip is never
silent); everything else runs.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import gitsess_exe

CHROMIUM_ENV = "GITSESS_CHROMIUM"
# A name the browser resolves to 127.0.0.1 (Chromium's own resolver rule, no DNS): a page
# at it is what a DNS-rebinding attack looks like to the server.
REBOUND_NAME = "rebind.test"
HANG_GUARD = 60  # seconds: a server that never answers fails the test, it does not hang it


def find_chromium() -> tuple[str | None, str]:
    """Chromium's executable, or None and why not."""
    named = os.environ.get(CHROMIUM_ENV, "")
    if named:
        if os.access(named, os.X_OK):
            return named, ""
        return None, f"{CHROMIUM_ENV}={named} is not an executable"
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found, ""
    return None, (
        "no chromium on PATH (apt-get install chromium, or set GITSESS_CHROMIUM to a "
        "Chromium executable): the viewer's browser tests need a real browser"
    )


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    executable, why = find_chromium()
    return None if executable else why


def launch_args() -> list[str]:
    return [
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--headless=new",
        f"--host-resolver-rules=MAP {REBOUND_NAME} 127.0.0.1",
    ]


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A real Chromium (a module's fixture: each test opens its own contexts); skips the
    test, saying why, where there is none."""
    why = browser_unavailable()
    if why:
        pytest.skip(f"browser tests skipped: {why}")
    from playwright.sync_api import sync_playwright

    executable, _ = find_chromium()
    driver = sync_playwright().start()
    try:
        browser = driver.chromium.launch(executable_path=executable, args=launch_args())
        try:
            yield browser
        finally:
            browser.close()
    finally:
        driver.stop()


# -- the server, as a user runs it -----------------------------------------------------


@dataclass
class Served:
    """A running `gitsess serve`: its process and the address it printed."""

    proc: subprocess.Popen[bytes]
    url: str  # as printed: with the token
    errors: Path  # its stderr, in a file (a pipe nobody reads could fill and block it)
    rest: bytes = b""  # stdout after the first line
    stopped: bool = field(default=False)

    @property
    def base(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None, self.url
        return port

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.url).query)["token"][0]

    def stderr(self) -> str:
        return self.errors.read_text(encoding="utf-8", errors="replace")

    def interrupt(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        """Ctrl-C (SIGINT), as a terminal sends it, or ``sig`` (SIGTERM: a service manager,
        `kill`): the exit status and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"gitsess serve did not stop on signal {sig}") from None
        self.stopped = True
        assert self.proc.stdout is not None
        self.rest += self.proc.stdout.read()
        return self.proc.returncode, self.stderr()

    def stop_cleanly(self) -> str:
        """Stop it with SIGINT and check it stopped as it should: exit 0, no traceback."""
        code, err = self.interrupt()
        assert code == 0, f"gitsess serve exited {code} on SIGINT: {err}"
        assert "Traceback" not in err and "internal error" not in err, err
        return err


def first_line(proc: subprocess.Popen[bytes], errors: Path) -> bytes:
    """The first line ``proc`` prints, read as it comes (the server never closes stdout)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    line = b""
    deadline = time.monotonic() + HANG_GUARD
    while not line.endswith(b"\n"):
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no first line from gitsess serve: {errors.read_text()}")
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 1)  # one byte at a time: nothing after the line is consumed
        if not chunk:
            break
        line += chunk
    return line


def start(repo: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """Start the real `gitsess serve ARGS` in ``repo`` (default: --no-open --port 0)."""
    argv = list(args) if args else ["--no-open", "--port", "0"]
    errors = repo.parent / f"serve-stderr-{time.monotonic_ns()}.txt"
    with errors.open("wb") as err:
        proc = subprocess.Popen(
            [gitsess_exe(), "serve", *argv],
            cwd=repo,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    line = first_line(proc, errors).decode("utf-8", "replace")
    if not line.startswith("http://"):
        proc.kill()
        proc.wait()
        raise AssertionError(f"first line {line!r}, stderr: {errors.read_text()}")
    return Served(proc, line.strip(), errors)


@contextmanager
def serving(repo: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """The server for the block, stopped with Ctrl-C after it, which must stop it cleanly."""
    served = start(repo, *args, env=env)
    try:
        yield served
    except BaseException:
        if not served.stopped:
            served.proc.kill()
            served.proc.wait()
        raise
    if not served.stopped:
        served.stop_cleanly()


# -- pages -------------------------------------------------------------------------------

# Records what must never happen on a page: a dialog (alert, confirm, prompt), and every
# Content-Security-Policy violation (a blocked inline script or handler: markup from a
# session got through escaping). Injected by the driver, outside the page's CSP.
WATCH_SCRIPT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@dataclass
class Watched:
    """A browser context whose pages are watched for dialogs and script errors."""

    context: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def page(self) -> Any:
        page = self.context.new_page()
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def watched(chromium: Any, **options: Any) -> Watched:
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, **options)
    context.add_init_script(WATCH_SCRIPT)
    return Watched(context)


def signed_in(chromium: Any, served: Served, **options: Any) -> tuple[Watched, Any]:
    """A context that opened the printed address (so holds the cookie), and its page."""
    watch = watched(chromium, **options)
    page = watch.page()
    answer = page.goto(served.url)
    assert answer is not None and answer.status == 200, answer
    return watch, page
