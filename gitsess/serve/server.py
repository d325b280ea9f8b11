"""Binding, the printed address, and uvicorn: `gitsess serve` itself."""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
import socket
import sys
from typing import TYPE_CHECKING

from ..errors import BadInput, GitsessError

if TYPE_CHECKING:
    from ..sessions import Sessions

LOOPBACK = "127.0.0.1"
DEFAULT_PORTS = range(7420, 7430)  # without --port: the first free one, else any


def serve(sessions: Sessions, host: str, port: int | None, open_browser: bool) -> None:
    """Serve until Ctrl-C. The address (with its token) is the first line printed."""
    import uvicorn

    from .app import create_app
    from .reader import Reader
    from .security import Guard

    listener = _listen(host, port)
    bound = listener.getsockname()[1]
    token = secrets.token_urlsafe(24)
    url = f"http://{_url_host(host)}:{bound}/?token={token}"
    print(url, flush=True)
    if not _is_loopback(host):
        print(
            f"gitsess: warning: serving on {host}: anyone who can reach it and has the "
            "address above can read every session of this repository",
            file=sys.stderr,
        )
    reader = Reader(sessions)
    app = Guard(create_app(reader), token, _hosts(host, bound), bound)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        reader.close()
        listener.close()
    print("Stopped.", file=sys.stderr)


def _listen(host: str, port: int | None) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    tries = [port] if port is not None else [*DEFAULT_PORTS, 0]
    last: OSError | None = None
    for candidate in tries:
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, candidate))
        except socket.gaierror:
            listener.close()
            raise BadInput(f"--host {host}: not an address of this machine") from None
        except OSError as exc:
            listener.close()
            last = exc
            continue
        listener.listen(64)
        listener.setblocking(False)
        return listener
    why = last.strerror if last is not None and last.strerror else str(last)
    hint = " (--port 0 picks a free one)" if port else ""
    raise GitsessError(f"cannot listen on {host}:{port}: {why.lower()}{hint}")


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
