"""`gitsess prune`: delete, recoverably, the sessions that hold nothing or were set aside.

Which sessions go is the AND of the criteria given (--empty, --older-than, --archived).
Some never go, whatever the criteria say, because pruning them could cost the user
something `undelete` alone does not bring back, or because someone is at work in them:
the current session, a session checked out in any worktree, a pinned one, and a shared
session whose log no remote has as it is here (the last changes would exist only in this
repository's trash). Those are reported as kept, with the reason.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import BadInput
from .sessions import Sessions
from .storage.log import Listed

# Units of --older-than: a month is 30 days and a year 365, as people round them.
UNITS = {"h": 1 / 24, "d": 1, "w": 7, "m": 30, "y": 365}
DURATION = re.compile(r"([1-9][0-9]{0,5})([hdwmy])")
NO_CRITERIA = "say what to prune: --empty, --older-than DURATION, --archived (combinable)"


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12w``, ``6m``, ``1y``, ``36h``: a whole number and a unit."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        raise BadInput(
            f"invalid --older-than {text!r}: a whole number and a unit, h (hours), d (days), "
            "w (weeks), m (months of 30 days) or y (years of 365 days), such as 90d"
        )
    return timedelta(days=int(match.group(1)) * UNITS[match.group(2)])


class Candidate:
    """A session prune looked at: whether it goes, and if not, why it is kept."""

    __slots__ = ("count", "kept", "meta", "oid", "remotes", "session_id")

    def __init__(self, row: Listed, kept: str | None, remotes: list[str]) -> None:
        self.meta = row.meta
        self.count = row.count
        self.oid = row.oid
        self.session_id = str(row.meta.get("id", ""))
        self.kept = kept
        self.remotes = remotes  # where gitsess saw a copy: pruning here leaves those

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.session_id,
            "title": self.meta.get("title"),
            "entries": self.count,
            "updated": last_change(self.meta),
            "status": self.meta.get("status", "active"),
            "log": self.oid,
        }
        if self.kept is not None:
            found["kept"] = self.kept
        return found


def last_change(meta: dict[str, Any]) -> str | None:
    """The latest of `updated` (the conversation) and `changed` (rename, archive...)."""
    stamps = [s for s in (meta.get("updated"), meta.get("changed")) if isinstance(s, str)]
    moments = [(m, s) for s in stamps if (m := _moment(s)) is not None]
    return max(moments)[1] if moments else None


def _moment(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def select(
    sessions: Sessions, empty: bool, older_than: str | None, archived: bool
) -> list[Candidate]:
    """The sessions matching every criterion given, each marked with why it is kept, if it is."""
    if not (empty or older_than is not None or archived):
        raise BadInput(NO_CRITERIA)
    cutoff = datetime.now(timezone.utc) - parse_duration(older_than) if older_than else None
    matched = []
    for row in sessions.listing(include_archived=True):
        if empty and row.count != 0:
            continue
        if archived and row.meta.get("status") != "archived":
            continue
        if cutoff is not None and not _older(row.meta, cutoff):
            continue
        matched.append(row)
    on_remotes = _on_remotes(sessions) if matched else {}
    reasons = _protected(sessions, matched, on_remotes)
    chosen = []
    for row in matched:
        session_id = str(row.meta.get("id", ""))
        remotes = sorted(on_remotes.get(session_id, {}))
        chosen.append(Candidate(row, reasons.get(session_id), remotes))
    return chosen


def _older(meta: dict[str, Any], cutoff: datetime) -> bool:
    """Whether the session last changed before ``cutoff``; a session.json without a
    readable time is never old (its time is unknown, not long ago)."""
    stamp = last_change(meta)
    moment = _moment(stamp) if stamp else None
    return moment is not None and moment < cutoff


def _on_remotes(sessions: Sessions) -> dict[str, dict[str, str]]:
    """{session id: {remote: the log commit gitsess last saw there}}, in one for-each-ref."""
    from .storage.remote import TRACKING_ROOT

    found: dict[str, dict[str, str]] = {}
    for line in sessions.repo.refs(TRACKING_ROOT, "%(objectname) %(refname)"):
        oid, _, ref = line.partition(" ")
        remote, sep, session_id = ref[len(TRACKING_ROOT) :].rpartition("/sessions/")
        if sep:
            found.setdefault(session_id, {})[remote] = oid
    return found


def _protected(
    sessions: Sessions, rows: list[Listed], on_remotes: dict[str, dict[str, str]]
) -> dict[str, str]:
    """{session id: why it stays} among ``rows``."""
    if not rows:
        return {}
    from .storage import pins, worktrees

    repo = sessions.repo
    current = sessions.current()
    checked_out = worktrees.by_branch(repo)
    pinned = set(pins.pinned(repo))
    reasons = {}
    for row in rows:
        session_id = str(row.meta.get("id", ""))
        branch = row.meta.get("branch")
        if current is not None and current.session_id == session_id:
            reasons[session_id] = "the current session"
        elif isinstance(branch, str) and branch in checked_out:
            reasons[session_id] = f"checked out in {checked_out[branch].path}"
        elif session_id in pinned:
            reasons[session_id] = "pinned (gitsess unpin it first)"
        elif row.meta.get("visibility") == "shared" and row.oid not in set(
            on_remotes.get(session_id, {}).values()
        ):
            reasons[session_id] = "shared, with changes no remote has (push it first)"
    return reasons


def prune(sessions: Sessions, chosen: list[Candidate]) -> tuple[list[Candidate], list[Candidate]]:
    """Delete the sessions of ``chosen`` that are not kept, into the trash (one copy, one
    ref transaction). (pruned, changed meanwhile: left as they are)."""
    going = [c for c in chosen if c.kept is None]
    deleted = set(sessions.store.delete_many([(c.session_id, c.oid, c.meta) for c in going]))
    return [c for c in going if c.session_id in deleted], [
        c for c in going if c.session_id not in deleted
    ]
