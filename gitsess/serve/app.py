"""The viewer's pages: URLs to templates, over one ``Reader``.

| URL | page |
|---|---|
| `/` | every session, filtered by the query (`q`, status, visibility, agent, author, tag, task) |
| `/s/{id}` | one session, its first log segment (`?page=N` another) |
| `/s/{id}/page/{n}?at=LOG` | the entries of segment n, as a fragment (the page loads the next) |
| `/s/{id}/entries?after=N` | the entries after the first N, as a fragment (live update) |
| `/s/{id}/e/{entry}` | the page that holds one entry, scrolled to it |
| `/static/...` | the viewer's own CSS and JavaScript |

Pages for code (commits, diffs, compare, the fork tree) are in ``code``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import GitsessError
from ..render.html import entry_views
from .reader import FILTERS, Reader

if TYPE_CHECKING:
    from ..storage.log import Entry


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("gitsess.serve", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["url"] = lambda value: quote(str(value), safe="")
    return env


def create_app(reader: Reader) -> Starlette:
    """The viewer over ``reader`` (wrap it in ``security.Guard`` before serving it)."""
    from .code import code_context
    from .code import routes as code_routes

    env = templates()

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def lookup(reference: str) -> str:
        try:
            return reader.resolve(reference)
        except GitsessError as exc:
            raise HTTPException(404, exc.message) from None

    def index(request: Request) -> Response:
        rows = reader.index()
        chosen = {name: request.query_params.get(name, "") for name in FILTERS}
        text = request.query_params.get("q", "").strip()
        shown = [row for row in rows if _matches(row, chosen, text)]
        return page(
            "index.html.j2",
            rows=shown,
            total=len(rows),
            chosen=chosen,
            q=text,
            choices=_choices(rows),
        )

    def session(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        number = _int(request.query_params.get("page"), 0)
        entries = reader.page(state, number)
        return page(
            "session.html.j2",
            session=reader.summary(state),
            entries=_views(entries),
            number=number,
            pages=max(len(state.segments), 1),
            log=state.oid,
            **code_context(reader, session_id),
        )

    def segment(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id, request.query_params.get("at") or None)
        entries = reader.page(state, request.path_params["number"])
        return page("entries.html.j2", session=reader.summary(state), entries=_views(entries))

    def tail(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        after = _int(request.query_params.get("after"), state.count)
        entries = reader.tail(state, after) if after <= state.count else []
        response = page("entries.html.j2", session=reader.summary(state), entries=_views(entries))
        response.headers["x-gitsess-count"] = str(state.count)
        response.headers["x-gitsess-log"] = state.oid
        return response

    def entry(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        wanted = request.path_params["entry"]
        number = reader.page_of(state, wanted)
        if number is None:
            raise HTTPException(404, f"no entry {wanted} in session {session_id}")
        return RedirectResponse(
            f"/s/{quote(session_id)}?page={number}#e-{quote(wanted, safe='')}", 303
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "not found"
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return page("error.html.j2", status=status, message=detail)

    routes = [
        Route("/", index),
        Route("/s/{session}", session),
        Route("/s/{session}/page/{number:int}", segment),
        Route("/s/{session}/entries", tail),
        Route("/s/{session}/e/{entry}", entry),
        *code_routes(reader, page, lookup),
        Mount("/static", StaticFiles(packages=[("gitsess.serve", "static")]), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found})


def _views(entries: list[Entry]) -> list[dict[str, Any]]:
    return entry_views(entries)


def _int(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.isdigit() else default


def _field(row: dict[str, Any], name: str) -> list[str]:
    """The values of ``row`` a filter named ``name`` compares with."""
    if name == "tag":
        tags = row.get("tags")
        return [str(t) for t in tags] if isinstance(tags, list) else []
    if name == "author":
        author = row.get("author")
        return [str(author.get("name", ""))] if isinstance(author, dict) else []
    value = row.get(name)
    return [str(value)] if value not in (None, "") else []


def _matches(row: dict[str, Any], chosen: dict[str, str], text: str) -> bool:
    for name, wanted in chosen.items():
        if wanted and wanted not in _field(row, name):
            return False
    if not text:
        return True
    haystack = (
        " ".join(str(row.get(key, "")) for key in ("title", "id", "branch", "task")).casefold()
        + " "
        + " ".join(_field(row, "tag")).casefold()
    )
    return all(word in haystack for word in text.casefold().split())


def _choices(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each filter's values, as the sessions have them."""
    return {name: sorted({v for row in rows for v in _field(row, name)}) for name in FILTERS}
