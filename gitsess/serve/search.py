"""The viewer's content search: `/search?q=TEXT`, the hits of `gitsess search`.

The same search as the command (gitsess/search.py: one `git grep` over the logs, the match
checked in each entry's text fields), through the viewer's one reader, every session
included (the index lists archived ones too), at most ``LIMIT`` hits a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from typing import Any

from ..errors import BadInput, GitsessError
from ..search import ENTRY_TYPES, ROLES, TITLE, Hit, Query, search
from .reader import Reader

LIMIT = 200
TYPES = (TITLE, *ROLES, *ENTRY_TYPES)


def search_page(reader: Reader, params: Mapping[str, str]) -> tuple[dict[str, Any], int]:
    """The template context of the search page, and its status (400: a bad pattern)."""
    text = params.get("q", "")
    kind = params.get("type", "")
    regex = params.get("regex", "") == "1"
    context: dict[str, Any] = {
        "q": text,
        "type": kind if kind in TYPES else "",
        "regex": regex,
        "types": TYPES,
        "hits": [],
        "more": False,
        "error": "",
        "limit": LIMIT,
    }
    if not text.strip():
        return context, 200
    try:
        query = Query(
            text,
            regex=regex,
            types=[kind] if kind in TYPES else [],
            include_archived=True,
        )
        with reader.lock:
            found = search(reader.sessions, query)
            try:
                hits = list(islice(found, LIMIT + 1))
            finally:
                stop = getattr(found, "close", None)
                if stop is not None:
                    stop()  # ends the `git grep` of hits past the page's
    except GitsessError as exc:
        context["error"] = exc.message
        return context, 400 if isinstance(exc, BadInput) else 500
    context["hits"] = [_hit(hit) for hit in hits[:LIMIT]]
    context["more"] = len(hits) > LIMIT
    return context, 200


def _hit(hit: Hit) -> dict[str, Any]:
    start, end = hit.span
    return {
        "session": hit.session,
        "title": hit.title or "(untitled)",
        "entry": hit.entry,
        "type": hit.role or hit.type,
        "ts": (hit.ts or "")[:19].replace("T", " "),
        "before": hit.snippet[:start],
        "match": hit.snippet[start:end],
        "after": hit.snippet[end:],
    }
