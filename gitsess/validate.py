"""Validating entries from outside without loading pydantic for the ones plainly valid.

`model.py` (pydantic) is the model of record: what it accepts is a valid entry, and its
messages are the ones users see. Loading it costs ~100 ms and its validation ~3.5 µs an
entry, while a `record --jsonl` of 20,000 entries is measured against Python parsing the
same lines. So each entry first meets the checks below, written from model.py's fields:
they accept only shapes pydantic surely accepts (exact types, required fields present,
the literal values), and anything else, however slightly off, goes to pydantic, which
accepts it or refuses it with its own message. A test holds every shape accepted here to
pydantic's verdict (tests/test_validate.py).
"""

from __future__ import annotations

import re

from .entry import shape_entry

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # fullmatch: no trailing newline
_ROLES = ("user", "assistant", "system")


def _is_str(value: object) -> bool:
    return type(value) is str


def _optional_str(raw: dict[str, Any], key: str) -> bool:
    return key not in raw or raw[key] is None or type(raw[key]) is str


def _content_ok(content: object) -> bool:
    """StrictStr, or a list of objects with string keys (list[dict[str, Any]])."""
    if type(content) is str:
        return True
    return type(content) is list and all(
        type(item) is dict and all(type(k) is str for k in item) for item in content
    )


def _message(raw: dict[str, Any]) -> bool:
    role = raw.get("role")
    return type(role) is str and role in _ROLES and _content_ok(raw.get("content"))


def _tool_call(raw: dict[str, Any]) -> bool:
    return _is_str(raw.get("name")) and "input" in raw and _is_str(raw.get("call_id"))


def _tool_result(raw: dict[str, Any]) -> bool:
    return (
        _is_str(raw.get("call_id"))
        and "output" in raw
        and ("is_error" not in raw or type(raw["is_error"]) is bool)
    )


# What `gitsess compact` adds to a summary (typed in model.py): any of it goes to pydantic.
_COMPACTION_FIELDS = ("previous", "covers", "focus", "files", "commits", "summarizer")


def _summary(raw: dict[str, Any]) -> bool:
    plain = "content" in raw and _optional_str(raw, "first") and _optional_str(raw, "last")
    return plain and not any(key in raw for key in _COMPACTION_FIELDS)


def _commit(raw: dict[str, Any]) -> bool:
    sha = raw.get("sha")
    return type(sha) is str and _SHA.fullmatch(sha) is not None and _is_str(raw.get("subject"))


def _event(raw: dict[str, Any]) -> bool:
    return _is_str(raw.get("name"))


PLAINLY_VALID: dict[str, Callable[[dict[str, Any]], bool]] = {
    "message": _message,
    "reasoning": lambda raw: "content" in raw,
    "tool_call": _tool_call,
    "tool_result": _tool_result,
    "summary": _summary,
    "commit": _commit,
    "event": _event,
}


def normalize_entry(raw: Any, head: str | None = None) -> dict[str, Any]:
    """model.normalize_entry, with pydantic asked only about entries not plainly valid.

    Raises ValueError with a one-line reason (pydantic's, for a field it refuses).
    """
    entry = shape_entry(raw, head)  # checks type, id and ts first: clearer errors
    if not isinstance(entry.get("meta", {}), dict) and entry["meta"] is not None:
        raise ValueError("'meta' must be a JSON object")  # merges record conflicts in it
    check = PLAINLY_VALID.get(entry["type"])
    if check is None or check(raw):  # an unknown type is kept as it is
        return entry
    from .model import normalize_entry as validated

    return validated(raw, head)


# -- session.json -------------------------------------------------------------------------

_SESSION_ID = re.compile(r"[0-9a-hjkmnp-tv-z]{10}")  # fullmatch
_OPTIONAL_STRS = ("agent", "from_branch", "task")
_REQUIRED_STRS = ("title", "branch", "created", "updated")


def plainly_valid_meta(meta: dict[str, Any]) -> bool:
    """Whether model.SessionMeta surely accepts ``meta`` (a session.json): exact types,
    every required field, the literal values. False sends it to pydantic, which decides."""
    fmt = meta.get("format", 1)
    session_id = meta.get("id")
    author, parent = meta.get("author"), meta.get("parent")
    tags = meta.get("tags", [])
    return (
        type(fmt) is int
        and type(session_id) is str
        and _SESSION_ID.fullmatch(session_id) is not None
        and all(type(meta.get(key)) is str for key in _REQUIRED_STRS)
        and "base" in meta
        and (meta["base"] is None or type(meta["base"]) is str)
        and type(author) is dict
        and _is_str(author.get("name"))
        and _is_str(author.get("email"))
        and all(_optional_str(meta, key) for key in _OPTIONAL_STRS)
        and (parent is None or _parent_ok(parent))
        and meta.get("status", "active") in ("active", "archived")
        and meta.get("visibility", "private") in ("private", "shared")
        and type(tags) is list
        and all(type(tag) is str for tag in tags)
    )


def _parent_ok(parent: object) -> bool:
    return (
        type(parent) is dict and _is_str(parent.get("session")) and _optional_str(parent, "entry")
    )
