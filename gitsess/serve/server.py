"""Binding, the printed address, and uvicorn: `gitsess serve` itself."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import secrets
import signal
import socket
import sys
from typing import TYPE_CHECKING

from ..errors import BadInput, GitsessError

if TYPE_CHECKING:
    from ..sessions import Sessions

LOOPBACK = "127.0.0.1"
DEFAULT_PORTS = range(7420, 7430)  # without --port: the first free one, else any
GRACE_SECONDS = 5


def serve(sessions: Sessions, host: str, port: int | None, open_browser: bool) -> None:
    """Serve until Ctrl-C. The address (with its token) is the first line printed, once
    the server is ready: a Ctrl-C from then on is the normal way out (exit 0)."""
    import uvicorn

    from .app import create_app
    from .reader import Reader
    from .security import Guard

    listener = _listen(host, port)
    reader = Reader(sessions)
    try:
        bound = listener.getsockname()[1]
        token = secrets.token_urlsafe(24)
        app = Guard(create_app(reader), token, _hosts(host, bound), bound)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # Ctrl-C waits this long at most for requests still running (a page being read).
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        url = f"http://{_url_host(host)}:{bound}/?token={token}"
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            _announce(url, host, open_browser)
            uvicorn.Server(config).run(sockets=[listener])
        except (KeyboardInterrupt, _Terminated):
            # uvicorn handles Ctrl-C and SIGTERM itself (it stops serving, lets requests
            # finish), then raises the signal again for its caller, whose handlers it put
            # back; before it runs, either lands here too.
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        reader.close()
        listener.close()
    print("Stopped.", file=sys.stderr)


class _Terminated(Exception):
    """SIGTERM (`kill`, a service manager): stop as on Ctrl-C, not die of the signal."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def _announce(url: str, host: str, open_browser: bool) -> None:
    """The address first (scripts read the first line), then the warning, then a browser."""
    print(url, flush=True)
    if not _is_loopback(host):
        print(
            f"gitsess: warning: serving on {host}: anyone who can reach it and has the "
            "address above can read every session of this repository",
            file=sys.stderr,
            flush=True,
        )
    if open_browser:
        import webbrowser

        webbrowser.open(url)


def _listen(host: str, port: int | None) -> socket.socket:
    """A listening socket on ``host``: at ``port``, or the first free default port (any
    port when all ten are taken). Only a busy port moves on to the next one."""
    if not host.strip():
        raise BadInput("--host: give an address (127.0.0.1 is the default)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    tries = [port] if port is not None else [*DEFAULT_PORTS, 0]
    for candidate in tries:
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, candidate))
            listener.listen(64)
        except socket.gaierror:
            listener.close()
            raise BadInput(f"--host {host}: not an address of this machine") from None
        except OSError as exc:
            listener.close()
            if exc.errno == errno.EADDRINUSE and candidate != tries[-1]:
                continue
            why = (exc.strerror or str(exc)).lower()
            hint = " (--port 0 picks a free one)" if exc.errno == errno.EADDRINUSE else ""
            raise GitsessError(f"cannot listen on {host}:{candidate}: {why}{hint}") from None
        listener.setblocking(False)
        return listener
    raise AssertionError("unreachable: the last try returns or raises")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


def _hosts(host: str, port: int) -> set[str]:
    """The Host headers a browser sends for this server: anything else is refused."""
    names = {host}
    if _is_loopback(host):
        names |= {"localhost", LOOPBACK}
    if host in ("0.0.0.0", "::"):
        hostname = socket.gethostname()
        names |= {hostname, socket.getfqdn(), "localhost", LOOPBACK}
        with contextlib.suppress(OSError):
            names |= {str(info[4][0]) for info in socket.getaddrinfo(hostname, None)}
    return {f"[{n}]:{port}" if ":" in n else f"{n}:{port}" for n in names}
