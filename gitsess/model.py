"""The data model of SPEC section 4, in pydantic: what a valid session and entry are.

Stored data stays plain JSON (dicts) so that unknown keys and their order
survive every rewrite; these models validate at the boundary, where input
comes in. pydantic is imported only by the commands that take input.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any, Literal

# gitsess loads no pydantic plugins; not looking for them saves start-up time on every command
# that validates input.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
)

from .errors import BadInput
from .ids import ENTRY_ID_RE, new_entry_id, normalize_ts, now

TITLE_MAX = 1000


class _Open(BaseModel):
    # Schemas are built on first use: a command validates only a few of these types.
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


class Author(_Open):
    name: StrictStr
    email: StrictStr


class ParentLink(_Open):
    session: StrictStr
    entry: StrictStr | None = None


class SessionMeta(_Open):
    format: int = 1
    id: StrictStr = Field(pattern=r"^[0-9a-hjkmnp-tv-z]{10}$")
    title: StrictStr
    branch: StrictStr
    base: StrictStr | None
    created: StrictStr
    updated: StrictStr
    author: Author
    agent: StrictStr | None = None
    parent: ParentLink | None = None
    status: Literal["active", "archived"] = "active"
    visibility: Literal["private", "shared"] = "private"
    tags: list[StrictStr] = Field(default_factory=list)


class MessageEntry(_Open):
    role: Literal["user", "assistant", "system"]
    content: StrictStr | list[dict[str, Any]]


class ReasoningEntry(_Open):
    content: Any


class ToolCallEntry(_Open):
    name: StrictStr
    input: Any
    call_id: StrictStr


class ToolResultEntry(_Open):
    call_id: StrictStr
    output: Any
    is_error: StrictBool = False


class SummaryEntry(_Open):
    content: Any
    first: StrictStr | None = None
    last: StrictStr | None = None


class CommitEntry(_Open):
    sha: StrictStr = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    subject: StrictStr


class EventEntry(_Open):
    name: StrictStr
    data: Any = None


_BY_TYPE: dict[str, type[_Open]] = {
    "message": MessageEntry,
    "reasoning": ReasoningEntry,
    "tool_call": ToolCallEntry,
    "tool_result": ToolResultEntry,
    "summary": SummaryEntry,
    "commit": CommitEntry,
    "event": EventEntry,
}


def check_title(title: str) -> str:
    """The title as typed, or BadInput saying why it cannot be one."""
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput("the title is not valid UTF-8") from None
    if not title.strip():
        raise BadInput("the title is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in title):
        raise BadInput("the title contains control characters (newlines, tabs, escapes)")
    if len(title) > TITLE_MAX:
        raise BadInput(f"the title is longer than {TITLE_MAX} characters")
    return title


def check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    try:
        SessionMeta.model_validate(meta)
    except ValidationError as exc:
        raise BadInput(f"invalid session.json: {_first_problem(exc)}") from None
    return meta


def normalize_entry(raw: Any, head: str | None = None) -> dict[str, Any]:
    """A SPEC entry from ``raw``: validated, with `id`, `ts` and `head` filled in when missing.

    Known types are checked field by field; an unknown type is kept as is.
    Raises ValueError with a one-line reason.
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
    model = _BY_TYPE.get(kind)
    if model is not None:
        try:
            model.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"{kind} entry: {_first_problem(exc)}") from None
    # id, ts and type first: readable logs, and ids findable without parsing.
    entry = {"id": entry_id, "ts": ts, "type": kind}
    entry.update((k, v) for k, v in raw.items() if k not in entry)
    if head and "head" not in entry:
        entry["head"] = head
    return entry


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "value"
    return f"{where}: {error['msg']}"
