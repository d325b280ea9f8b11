"""The viewer's pages: URLs to templates, over one ``Reader``.

| URL | page |
|---|---|
| `/` | every session, filtered by the query (`q`, status, visibility, agent, author, tag, task) |
| `/s/{id}` | one session, its first log segment (`?page=N` another) |
| `/s/{id}/page/{n}?at=LOG&model=M` | segment n's entries, as a fragment (the page loads the next) |
| `/s/{id}/entries?after=N&model=M` | the entries after the first N, as a fragment (live update) |
| `/s/{id}/e/{entry}` | the page that holds one entry, scrolled to it |
| `/search?q=TEXT` | the entries (and titles) of every session that hold TEXT (`type`, `regex`) |
| `/static/...` | the viewer's own CSS and JavaScript |

Pages for code (commits, diffs, compare, the fork tree) are in ``code``.
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import BadInput, GitsessError
from ..render.safe import visible
from .entries import views
from .index import FILTERS, PAGE_ROWS
from .reader import Reader
from .rows import row


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("gitsess.serve", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
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
        chosen = {name: request.query_params.get(name, "").strip() for name in FILTERS}
        text = request.query_params.get("q", "").strip()
        limit = _int(request.query_params.get("limit"), PAGE_ROWS)
        found = reader.index(chosen, text, limit)
        more = {k: v for k, v in request.query_params.items() if k != "limit"}
        more["limit"] = str(len(found.rows) + limit)  # as many again
        return page(
            "index.html.j2",
            rows=[row(r) for r in found.rows],
            matching=found.matching,
            total=found.total,
            chosen=chosen,
            q=text,
            choices=found.choices,
            more=urlencode(more) if found.matching > len(found.rows) else None,
        )

    def session(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        number = _int(request.query_params.get("page"), 0)
        entries = reader.page(state, number)
        return page(
            "session.html.j2",
            session=row(reader.summary(state)),
            entries=views(entries, session_id),
            resume=f"gitsess resume {shlex.quote(session_id)}",
            number=number,
            pages=max(len(state.segments), 1),
            log=state.oid,
            **code_context(reader, state),
        )

    def segment(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id, request.query_params.get("at") or None)
        entries = reader.page(state, request.path_params["number"])
        return page(
            "entries.html.j2",
            session=row(reader.summary(state)),
            entries=views(entries, session_id, request.query_params.get("model") or None),
        )

    def tail(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        after = _int(request.query_params.get("after"), state.count)
        entries = reader.tail(state, after) if after <= state.count else []
        response = page(
            "entries.html.j2",
            session=row(reader.summary(state)),
            entries=views(entries, session_id, request.query_params.get("model") or None),
        )
        response.headers["x-gitsess-count"] = str(state.count)
        response.headers["x-gitsess-pages"] = str(max(len(state.segments), 1))
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

    def find(request: Request) -> Response:
        from .search import search_page

        context, status = search_page(reader, request.query_params)
        return page("search.html.j2", status=status, **context)

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "not found"
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return page("error.html.j2", status=status, message=detail)

    async def failed(request: Request, exc: Exception) -> Response:
        """A session that cannot be read, or a URL that names none: said, not a traceback."""
        message = exc.message if isinstance(exc, GitsessError) else "failed"
        status = 404 if isinstance(exc, BadInput) else 500
        return page("error.html.j2", status=status, message=message)

    routes = [
        Route("/", index),
        Route("/s/{session}", session),
        Route("/s/{session}/page/{number:int}", segment),
        Route("/s/{session}/entries", tail),
        Route("/s/{session}/e/{entry}", entry),
        Route("/search", find),
        *code_routes(reader, page, lookup),
        Mount("/static", StaticFiles(packages=[("gitsess.serve", "static")]), name="static"),
    ]
    return Starlette(
        routes=routes, exception_handlers={HTTPException: not_found, GitsessError: failed}
    )


def _shown(value: Any) -> Any:
    """Every value a template prints: characters a terminal or a bidi trick would act on
    made visible (render/safe.py), as the terminal shows them; HTML built by the viewer
    (Markup, escaped already) as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def _int(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.isdigit() else default
