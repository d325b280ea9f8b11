"""What every request must pass: a local server is an attack surface.

- The Host header must name the address served: another name is a DNS-rebinding page
  reaching for 127.0.0.1 from a browser.
- A random token, printed in the URL as Jupyter does, is traded for a cookie on first use
  (and removed from the address bar): any other request gets 401.
- Only GET and HEAD: nothing a page, a link or a form can send changes a repository.
- Every answer forbids scripts but the viewer's own file, framing, sniffing and referrers;
  no CORS header is ever sent, so other origins cannot read an answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def cookie_name(port: int) -> str:
    """Cookies are shared by every port of a host: one name per server."""
    return f"gitsess-{port}"


class Guard:
    """ASGI middleware: Host, token and method checks, and the headers of every answer."""

    def __init__(self, app: ASGIApp, token: str, hosts: set[str], port: int) -> None:
        self.app = app
        self.token = token
        self.hosts = {host.lower() for host in hosts}
        self.cookie = cookie_name(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("host", "").lower() not in self.hosts:
            await _plain(send, 403, "This server answers only at the address gitsess printed.")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, "The viewer is read-only.", [(b"allow", b"GET, HEAD")])
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        offered = [value for key, value in query if key == "token"]
        if offered:
            await self._trade(scope, send, offered[-1], query)
            return
        if not self._has_cookie(headers.get("cookie", "")):
            await _plain(send, 401, "Open the address `gitsess serve` printed (it holds a token).")
            return
        await self.app(scope, receive, _with_headers(send))

    async def _trade(self, scope: Scope, send: Send, offered: str, query: list[Any]) -> None:
        """A right token becomes a cookie, and the address loses it (history, screenshots)."""
        if not hmac.compare_digest(offered.encode(), self.token.encode()):
            await _plain(send, 401, "Wrong token: open the address `gitsess serve` printed.")
            return
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        location = scope.get("path", "/") + (f"?{rest}" if rest else "")
        cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    *HEADERS,
                    (b"location", location.encode("latin-1", "replace")),
                    (b"set-cookie", cookie.encode()),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _has_cookie(self, header: str) -> bool:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except Exception:
            return False
        morsel = jar.get(self.cookie)
        return morsel is not None and hmac.compare_digest(
            morsel.value.encode(), self.token.encode()
        )


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            named = {name for name, _ in HEADERS}
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in named]
            message["headers"] = [*kept, *HEADERS]
        await send(message)

    return sending


async def _plain(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *HEADERS,
                *(extra or []),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
