"""The data model of docs/format.md section 4, in pydantic: what a valid session and entry are.

Stored data stays plain JSON (dicts) so that unknown keys and their order
survive every rewrite; these models validate at the boundary, where input
comes in. pydantic is imported only by the commands that take input.
"""

from __future__ import annotations

import os
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

from .entry import shape_entry
from .errors import BadInput


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
    # The conversation's last activity (appends, merges, creation). Metadata changes
    # (rename, archive, share) write an extra `changed` time instead, read where present.
    updated: StrictStr
    author: Author
    agent: StrictStr | None = None
    parent: ParentLink | None = None
    status: Literal["active", "archived"] = "active"
    visibility: Literal["private", "shared"] = "private"
    tags: list[StrictStr] = Field(default_factory=list)
    from_branch: StrictStr | None = None
    task: StrictStr | None = None


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


class TouchedFiles(_Open):
    read: list[StrictStr] = Field(default_factory=list)
    modified: list[StrictStr] = Field(default_factory=list)


class CoveredCommit(_Open):
    sha: StrictStr
    subject: StrictStr


class SummaryEntry(_Open):
    content: Any
    first: StrictStr | None = None
    last: StrictStr | None = None
    # Written by `gitsess compact` (docs/format.md section 4); an agent's own summaries
    # and earlier logs have none of these.
    previous: StrictStr | None = None
    covers: int | None = Field(default=None, ge=0)
    focus: StrictStr | None = None
    files: TouchedFiles | None = None
    commits: list[CoveredCommit] | None = None
    summarizer: StrictStr | None = None


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


def check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    try:
        SessionMeta.model_validate(meta)
    except ValidationError as exc:
        raise BadInput(f"invalid session.json: {_first_problem(exc)}") from None
    return meta


def normalize_entry(raw: Any, head: str | None = None) -> dict[str, Any]:
    """An entry (docs/format.md) from ``raw``: validated, with `id`, `ts` and `head` filled
    in when missing.

    Known types are checked field by field; an unknown type is kept as is.
    Raises ValueError with a one-line reason.
    """
    entry = shape_entry(raw, head)  # checks type, id and ts first: clearer errors
    if not isinstance(entry.get("meta", {}), dict) and entry["meta"] is not None:
        raise ValueError("'meta' must be a JSON object")  # merges record conflicts in it
    model = _BY_TYPE.get(entry["type"])
    if model is not None:
        try:
            model.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"{entry['type']} entry: {_first_problem(exc)}") from None
    return entry


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "value"
    return f"{where}: {error['msg']}"
