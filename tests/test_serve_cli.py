"""`gitsess serve` as a process, as a user runs it: the address it prints, the port it
takes, the errors it gives, and how it stops (a real Ctrl-C at a terminal too)."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import os
import re
import select
import signal
import socket
import stat
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser import HANG_GUARD, serving
from .conftest import gitsess_exe, run_cli

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=[A-Za-z0-9_-]{24,}")
DEFAULT_PORTS = range(7420, 7430)


def status_of(port: int, path: str = "/", host: str | None = None) -> int:
    """The status a plain HTTP client gets from the server at ``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_GUARD)
    try:
        connection.request("GET", path, headers={"Host": host or f"127.0.0.1:{port}"})
        return connection.getresponse().status
    finally:
        connection.close()


def refuses_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@contextlib.contextmanager
def held(ports: range) -> Iterator[list[int]]:
    """Listen on each of ``ports`` that is free (another program's are busy anyway)."""
    sockets = []
    for port in ports:
        listener = socket.socket()
        try:
            listener.bind(("127.0.0.1", port))
            listener.listen(1)
        except OSError:
            listener.close()
            continue
        sockets.append(listener)
    try:
        yield [s.getsockname()[1] for s in sockets]
    finally:
        for listener in sockets:
            listener.close()


def one_line_error(result: object, code: int, *words: str) -> str:
    err = result.err  # type: ignore[attr-defined]
    assert result.code == code, result  # type: ignore[attr-defined]
    assert result.out == "", result  # type: ignore[attr-defined]
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gitsess: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return str(lines[0])


def test_the_address_is_the_first_line_and_ctrl_c_stops_it_cleanly(repo: Path) -> None:
    with serving(repo) as served:
        found = URL.fullmatch(served.url)
        assert found, served.url
        port = int(found.group(1))
        assert port != 0 and status_of(port) == 401  # serving, and wants the token
        # A browser keeps its connection open between requests: Ctrl-C still stops.
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_GUARD)
        idle.request("GET", "/", headers={"Host": f"127.0.0.1:{port}"})
        assert idle.getresponse().read()
        err = served.stop_cleanly()
        idle.close()
    assert served.rest == b""  # nothing else on stdout
    assert err.splitlines() == ["Stopped."]  # on loopback: no warning
    assert refuses_connections(port)


def test_sigterm_stops_it_as_ctrl_c_does(repo: Path) -> None:
    """`kill`, a service manager or a container runtime sends SIGTERM: the same clean stop
    (requests finished, "Stopped.", exit 0), not death by the signal."""
    import signal

    with serving(repo) as served:
        port = served.port
        assert status_of(port) == 401
        code, err = served.interrupt(signal.SIGTERM)
    assert (code, err.splitlines()) == (0, ["Stopped."]), err
    assert refuses_connections(port)


def test_port_0_picks_a_free_port_each_time(repo: Path) -> None:
    with serving(repo) as first, serving(repo) as second:
        assert first.port != second.port
        assert status_of(first.port) == status_of(second.port) == 401


def test_without_port_the_first_free_default_port(repo: Path) -> None:
    with held(range(7420, 7429)) as taken:
        if refuses_connections(7429) is False:
            pytest.skip("port 7429 is in use by another program")
        with serving(repo, "--no-open") as served:
            assert served.port == 7429, (served.url, taken)
            assert status_of(served.port) == 401


def test_without_port_and_every_default_port_busy_any_free_port(repo: Path) -> None:
    with held(DEFAULT_PORTS), serving(repo, "--no-open") as served:
        assert served.port not in DEFAULT_PORTS
        assert status_of(served.port) == 401


def test_a_busy_port_is_a_one_line_error(repo: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli(repo, "serve", "--no-open", "--port", str(port))
    line = one_line_error(result, 1, f"127.0.0.1:{port}", "in use", "--port 0")
    assert line.startswith("gitsess: cannot listen on")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--host", "no-such-host.invalid"], ["--host", "not an address of this machine"]),
        (["--host", ""], ["--host"]),
        (["--port", "70000"], ["--port"]),
    ],
    ids=["unknown host", "empty host", "port out of range"],
)
def test_bad_options_are_one_line_errors(repo: Path, args: list[str], words: list[str]) -> None:
    one_line_error(run_cli(repo, "serve", "--no-open", *args), 2, *words)


def test_outside_a_repository_the_usual_error(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    one_line_error(run_cli(nowhere, "serve", "--no-open"), 2, "not a git repository")


def test_another_host_than_loopback_warns_on_stderr(repo: Path) -> None:
    with serving(repo, "--no-open", "--port", "0", "--host", "0.0.0.0") as served:
        assert served.url.startswith("http://") and "token=" in served.url
        # Reachable through loopback too, which is a name it answers to.
        assert status_of(served.port) == 401
        err = served.stop_cleanly()
    warning, stopped = err.splitlines()
    assert warning.startswith("gitsess: warning: serving on 0.0.0.0"), err
    assert "anyone who can reach it" in warning
    assert stopped == "Stopped."


def fake_browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A BROWSER for Python's webbrowser that writes the address it was given to a file."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "fake-browser"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{opened}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "BROWSER": str(script), "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    return env, opened


def test_no_open_opens_nothing_and_open_opens_the_printed_address(
    repo: Path, tmp_path: Path
) -> None:
    env, opened = fake_browser(tmp_path)
    with serving(repo, "--no-open", "--port", "0", env=env) as served:
        assert status_of(served.port) == 401  # it is up, and has had every chance to open
    assert not opened.exists()
    with serving(repo, "--port", "0", env=env) as served:
        deadline = time.monotonic() + HANG_GUARD
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text().splitlines() == [served.url]


def test_ctrl_c_at_a_terminal_stops_it_cleanly(repo: Path) -> None:
    """A real terminal: the server's own session on a pty, and ^C typed into it."""
    main, child = os.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [gitsess_exe(), "serve", "--no-open", "--port", "0"],
        cwd=repo,
        stdin=child,
        stdout=child,
        stderr=child,
        preexec_fn=own_terminal,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(child)
    try:
        screen = read_until(main, proc, lambda text: "\n" in text)
        assert URL.fullmatch(screen.splitlines()[0].strip()), screen
        os.write(main, b"\x03")  # Ctrl-C: the terminal sends SIGINT to the server
        screen += read_until(main, proc, lambda text: "Stopped." in text)
        code = proc.wait(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        os.close(main)
    assert code == 0, screen
    assert "Traceback" not in screen and "gitsess:" not in screen, screen


def read_until(fd: int, proc: subprocess.Popen[bytes], done: object) -> str:
    """What the terminal shows until ``done(text)`` holds or the program ends."""
    text = ""
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline and not done(text):  # type: ignore[operator]
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the program closed the terminal
            break
        text += data.decode("utf-8", "replace").replace("\r\n", "\n")
    return text
