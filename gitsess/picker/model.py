"""What the picker lists, how typing filters it, and what its keys do to sessions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..labels import pin, pinned, tags_of, unpin
from ..tree import families, family_of

if TYPE_CHECKING:
    from ..sessions import Sessions

SCOPES = ("all", "family", "archived")
SCOPE_NAMES = {"all": "all sessions", "family": "this branch's family", "archived": "archived"}


class Row:
    """One session as the picker shows it."""

    __slots__ = ("agent", "branch", "entries", "id", "pinned", "status", "tags", "title", "updated")

    def __init__(self, meta: dict[str, Any], entries: int, is_pinned: bool) -> None:
        self.id = str(meta.get("id", ""))
        self.title = str(meta.get("title", ""))
        self.branch = str(meta.get("branch", ""))
        self.agent = str(meta.get("agent") or "")
        self.updated = str(meta.get("updated", ""))
        self.status = str(meta.get("status", "active"))
        self.tags = tags_of(meta)
        self.entries = entries
        self.pinned = is_pinned

    @property
    def haystack(self) -> str:
        """What typing matches against: title, id, branch and tags."""
        return " ".join([self.title, self.id, self.branch, *self.tags])


class Catalog:
    """The repository's sessions for the picker, read once and re-read after a change."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.rows: list[Row] = []
        self.family: set[str] = set()
        self.reload()

    def reload(self) -> None:
        listed = self.sessions.store.read_all()
        pins = pinned(self.sessions)
        self.rows = [Row(r.meta, r.count, str(r.meta.get("id")) in pins) for r in listed]
        # pinned first (in the order they were pinned), then the most recently updated
        order = {sid: n for n, sid in enumerate(pins)}
        self.rows.sort(key=lambda r: r.updated, reverse=True)
        self.rows.sort(key=lambda r: order.get(r.id, len(order)))
        current = self.sessions.current()
        self.family = set()
        if current is not None:
            root = family_of(families(listed), current.session_id)
            self.family = {node.id for _, node in root.walk()} if root else set()

    def in_scope(self, scope: str) -> list[Row]:
        if scope == "archived":
            return [r for r in self.rows if r.status == "archived"]
        active = [r for r in self.rows if r.status != "archived"]
        if scope == "family":
            return [r for r in active if r.id in self.family]
        return active

    def filtered(self, scope: str, text: str) -> list[Row]:
        """The rows of ``scope`` that ``text`` matches, best match first (ties: the
        listing's order); every row when ``text`` is empty."""
        rows = self.in_scope(scope)
        if not text.strip():
            return rows
        scored = [
            (score, n, r)
            for n, r in enumerate(rows)
            if (score := fuzzy(text, r.haystack)) is not None
        ]
        return [r for _, _, r in sorted(scored, key=lambda item: (item[0], item[1]))]

    def preview(self, session_id: str, count: int = 6) -> list[dict[str, Any]]:
        state = self.sessions.store.state(session_id)
        return self.sessions.store.last_entries(state, count) if state else []

    # -- what the keys do -------------------------------------------------------------

    def rename(self, session_id: str, title: str) -> None:
        self.sessions.rename(session_id, title)
        self.reload()

    def toggle_archived(self, session_id: str) -> str:
        row = next(r for r in self.rows if r.id == session_id)
        status = "active" if row.status == "archived" else "archived"
        self.sessions.set_status(session_id, status)
        self.reload()
        return status

    def toggle_pin(self, session_id: str) -> bool:
        """Pin or unpin; whether it is pinned now."""
        if pin(self.sessions, session_id):
            self.reload()
            return True
        unpin(self.sessions, session_id)
        self.reload()
        return False

    def delete(self, session_id: str) -> None:
        self.sessions.delete(session_id)
        self.reload()


def fuzzy(needle: str, haystack: str) -> int | None:
    """How well ``needle`` matches ``haystack`` as a subsequence, ignoring case (lower is
    better: characters skipped between matched ones, and where the match starts), or
    None when it does not. Words of the needle match on their own, in any order."""
    total = 0
    lowered = haystack.casefold()
    for word in needle.casefold().split():
        score = _subsequence(word, lowered)
        if score is None:
            return None
        total += score
    return total


def _subsequence(word: str, text: str) -> int | None:
    best: int | None = None
    start = text.find(word[0])
    while start >= 0:  # each place the word could start; the tightest one counts
        at, gaps = start, 0
        for char in word[1:]:
            found = text.find(char, at + 1)
            if found < 0:
                return best
            gaps += found - at - 1
            at = found
        score = gaps * 4 + min(start, 40)
        best = score if best is None else min(best, score)
        if gaps == 0:
            break
        start = text.find(word[0], start + 1)
    return best


def age(stamp: str, now: datetime | None = None) -> str:
    """'5m', '3h', '2d', '4w', or the date: short enough for a column."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = ((now or datetime.now(timezone.utc)) - moment).total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return (
                f"{int(seconds // size)}{unit}"
                if unit != "w" or seconds < 8 * 604800
                else moment.strftime("%Y-%m-%d")
            )
    return "now"
