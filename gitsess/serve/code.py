"""Pages about code: a commit's diff, a session's whole diff, two sessions compared, and
the fork tree of a session's family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

from .reader import Reader

Page = Callable[..., HTMLResponse]


def routes(reader: Reader, page: Page, lookup: Callable[[str], str]) -> list[BaseRoute]:
    """The routes of these pages (being built: none yet)."""
    del reader, page, lookup
    found: list[Any] = []
    return found
