"""The viewer's index at any number of sessions: a page of rows, never every session.

Unfiltered, the page is `list`'s (the listing cache's most recent rows, pinned ones first:
only the page's summaries are parsed). A filter or a text reads the summaries one at a time
from the cache, keeps the first page of matches and counts the rest: the cost of `list
--json`, once, for that request. The filters offer the values of the rows shown (and accept
any other typed in): gathering every value of 100,000 sessions on each visit would cost
what the page must not.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..labels import pinned

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..sessions import Sessions

# Filters of the index, each the session.json field it looks at.
FILTERS = ("status", "visibility", "agent", "author", "tag", "task")
PAGE_ROWS = 200  # rows a page shows; "more" adds as many again
MAX_ROWS = 20_000  # the most a page shows, however many "more" asks for


class IndexPage:
    """The rows to show (pinned ones first, marked), how many sessions match, how many
    there are, and the values each filter offers."""

    __slots__ = ("choices", "matching", "rows", "total")

    def __init__(self, rows: list[dict[str, Any]], matching: int, total: int) -> None:
        self.rows, self.matching, self.total = rows, matching, total
        self.choices = {name: sorted({v for r in rows for v in field(r, name)}) for name in FILTERS}


def index_page(sessions: Sessions, chosen: dict[str, str], text: str, limit: int) -> IndexPage:
    limit = max(1, min(limit, MAX_ROWS))
    first = pinned(sessions)
    if not text and not any(chosen.values()):
        rows, total, _ = sessions.page(True, limit, first)
        found = IndexPage(rows, total, total)
    else:
        found = _filtered(sessions, chosen, text, limit, first)
    pins = set(first)
    for row in found.rows:
        row["pinned"] = row.get("id") in pins
    return found


def _filtered(
    sessions: Sessions, chosen: dict[str, str], text: str, limit: int, first: list[str]
) -> IndexPage:
    order = {sid: n for n, sid in enumerate(first)}
    pinned_rows: list[dict[str, Any]] = []
    recent: list[dict[str, Any]] = []
    total = matching = 0
    for row in _summaries(sessions):
        total += 1
        if not matches(row, chosen, text):
            continue
        matching += 1
        if str(row.get("id")) in order:
            pinned_rows.append(row)
        elif len(recent) < limit:
            recent.append(row)
    pinned_rows.sort(key=lambda row: order[str(row.get("id"))])
    return IndexPage((pinned_rows + recent)[:limit], matching, total)


def _summaries(sessions: Sessions) -> Iterator[dict[str, Any]]:
    """Every session's summary, most recent first, one at a time."""
    cached = sessions.listing_json(True, None, {})
    if cached is not None:
        for line in cached:
            yield json.loads(line)
        return
    for listed in sessions.listing(include_archived=True):
        yield sessions.summary(listed.meta, listed.count, listed.oid)


def field(row: dict[str, Any], name: str) -> list[str]:
    """The values of ``row`` a filter named ``name`` compares with."""
    if name == "tag":
        tags = row.get("tags")
        return [str(t) for t in tags] if isinstance(tags, list) else []
    if name == "author":
        author = row.get("author")
        return [str(author.get("name", ""))] if isinstance(author, dict) else []
    value = row.get(name)
    return [str(value)] if value not in (None, "") else []


def matches(row: dict[str, Any], chosen: dict[str, str], text: str) -> bool:
    for name, wanted in chosen.items():
        if wanted and wanted not in field(row, name):
            return False
    if not text:
        return True
    haystack = (
        " ".join(str(row.get(key, "")) for key in ("title", "id", "branch", "task")).casefold()
        + " "
        + " ".join(field(row, "tag")).casefold()
    )
    return all(word in haystack for word in text.casefold().split())
