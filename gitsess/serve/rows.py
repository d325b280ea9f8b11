"""What the index and a session's header show of a session: every field as text.

A session.json arrives by fetch and holds whatever its writer chose: a title that is a
list, tags that are a number, an author without a name. The templates get strings (and a
list of strings for tags), so no value can make a page fail; jinja2 escapes them.
"""

from __future__ import annotations

import json
from typing import Any

LIMIT = 500  # characters of one field shown in a header or a row


def row(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` (Sessions.summary, plus ``pinned`` on the index) for a template."""
    author = summary.get("author")
    parent = summary.get("parent")
    tags = summary.get("tags")
    entries = summary.get("entries")
    return {
        "id": text(summary.get("id")),
        "title": text(summary.get("title")) or "(untitled)",
        "branch": text(summary.get("branch")),
        "author": text(author.get("name")) if isinstance(author, dict) else text(author),
        "agent": text(summary.get("agent")),
        "task": text(summary.get("task")),
        "status": text(summary.get("status")),
        "visibility": text(summary.get("visibility")),
        "tags": [text(t) for t in tags[:50]] if isinstance(tags, list) else [],
        "created": text(summary.get("created")),
        "updated": text(summary.get("updated")),
        "entries": entries if isinstance(entries, int) else 0,
        "parent": text(parent.get("session")) if isinstance(parent, dict) else "",
        "parent_entry": text(parent.get("entry")) if isinstance(parent, dict) else "",
        "pinned": summary.get("pinned") is True,
        "current": summary.get("current") is True,
    }


def text(value: Any) -> str:
    """A field as one short line of text ("" for none)."""
    if value is None:
        return ""
    shown = value if isinstance(value, str) else _json(value)
    return shown if len(shown) <= LIMIT else shown[: LIMIT - 1] + "…"


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return "(not text)"
