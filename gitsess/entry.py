"""Shaping an entry for the log: ids, times and field order. No validation library here.

`model.normalize_entry` validates input from outside (files, stdin) against the
pydantic models, then shapes it with `shape_entry`. Entries gitsess builds
itself (a message from `record --role`, an importer's output, commit entries
from hooks) are shaped directly: they are valid by construction, and commands

on those paths do not pay for loading pydantic.
"""

from __future__ import annotations

from .ids import ENTRY_ID_RE, new_entry_id, normalize_ts, now

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object


def shape_entry(raw: Any, head: str | None = None) -> dict[str, Any]:
    """``raw`` with `id`, `ts` (RFC 3339, UTC) and `type` first, missing ones filled in.

    Raises ValueError with a one-line reason when they are there but malformed.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"an entry must be a JSON object, not {type(raw).__name__}")
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError("the entry has no 'type'")
    entry_id = raw.get("id")
    if entry_id is None:
        entry_id = new_entry_id()
    elif not isinstance(entry_id, str) or not ENTRY_ID_RE.match(entry_id):
        raise ValueError(f"invalid id {entry_id!r}: 1 to 64 characters of A-Z a-z 0-9 . _ : -")
    ts = raw.get("ts")
    if ts is None:
        ts = now()
    else:
        normal = normalize_ts(ts) if isinstance(ts, str) else None
        if normal is None:
            raise ValueError(f"invalid ts {ts!r}: not an RFC 3339 timestamp")
        ts = normal
    # id, ts and type first: readable logs, and ids findable without parsing.
    if ts is raw.get("ts") and _starts_with_id_ts_type(raw) and (not head or "head" in raw):
        return raw  # already in shape (an exported or re-recorded log): no copy
    entry = {"id": entry_id, "ts": ts, "type": kind}
    # Copied whole (at C speed), then the three set again: their places stay first.
    entry.update(raw)
    entry["id"], entry["ts"], entry["type"] = entry_id, ts, kind
    if head and "head" not in entry:
        entry["head"] = head
    return entry


def _starts_with_id_ts_type(raw: dict[str, Any]) -> bool:
    keys = iter(raw)
    return next(keys, None) == "id" and next(keys, None) == "ts" and next(keys, None) == "type"
