"""Tags (in session.json: they travel with the session, and merge as a union) and pins
(personal: kept in the local git config, never pushed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import BadInput
from .ids import now
from .storage import pins
from .storage.log import Change, LogState

if TYPE_CHECKING:
    from .sessions import Sessions

TAG_MAX = 64


def check_tag(tag: str) -> str:
    """A tag is one word a person can type: no spaces, no control characters, at most
    TAG_MAX characters, not starting with '-'."""
    if not tag or len(tag) > TAG_MAX or tag.startswith("-"):
        raise BadInput(f"not a tag: {tag!r} (1 to {TAG_MAX} characters, not starting with '-')")
    if any(c.isspace() or not c.isprintable() for c in tag):
        raise BadInput(f"not a tag: {tag!r} (no spaces or control characters)")
    return tag


def tags_of(meta: dict[str, object]) -> list[str]:
    tags = meta.get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def add_tags(sessions: Sessions, session_id: str, tags: list[str]) -> list[str]:
    """Tag the session; the tags it has afterwards. The change is computed from the log as
    it is at the compare-and-swap, so two people tagging at once both keep theirs."""
    wanted = [check_tag(t) for t in dict.fromkeys(tags)]

    def change(state: LogState) -> Change | None:
        have = tags_of(state.meta)
        added = [t for t in wanted if t not in have]
        if not added:
            return None
        return Change({**state.meta, "tags": have + added, "changed": now()}, "tag")

    sessions.store.update(session_id, change)
    return tags_of(sessions.store.require(session_id).meta)


def remove_tags(sessions: Sessions, session_id: str, tags: list[str]) -> list[str]:
    """Untag the session; the tags it has afterwards. (A merge with a copy that still has
    the tag brings it back: tags merge as a union, docs/format.md section 6.)"""
    unwanted = set(tags)

    def change(state: LogState) -> Change | None:
        have = tags_of(state.meta)
        kept = [t for t in have if t not in unwanted]
        if kept == have:
            return None
        return Change({**state.meta, "tags": kept, "changed": now()}, "untag")

    sessions.store.update(session_id, change)
    return tags_of(sessions.store.require(session_id).meta)


def pinned(sessions: Sessions) -> list[str]:
    return pins.pinned(sessions.repo)


def pin(sessions: Sessions, session_id: str) -> bool:
    return pins.pin(sessions.repo, session_id)


def unpin(sessions: Sessions, session_id: str) -> bool:
    return pins.unpin(sessions.repo, session_id)
