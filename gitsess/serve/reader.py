"""The viewer's one long-lived reader of the sessions, through the storage layer.

Pages are read a log segment at a time (at most 1,000 entries each, docs/format.md), so a
20,000-entry session opens without reading the rest. Requests run on threads; git is asked
one thing at a time (the storage layer keeps one `cat-file --batch` process).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, SessionNotFound
from ..storage.log import parse_line

if TYPE_CHECKING:
    from ..sessions import Sessions
    from ..storage.log import Entry, Listed, LogState
    from .index import IndexPage

LOG_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class Reader:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.sessions.repo.close()

    # -- the index ------------------------------------------------------------

    def family(self, session_id: str) -> list[Listed]:
        with self.lock:
            return self.sessions.family(session_id)

    def with_task(self, task: str, limit: int) -> list[Listed]:
        with self.lock:
            return self.sessions.with_task(task, limit)

    def index(self, chosen: dict[str, str], text: str, limit: int) -> IndexPage:
        """A page of the index: pinned sessions first, then the most recent (serve/index.py)."""
        from .index import index_page

        with self.lock:
            return index_page(self.sessions, chosen, text, limit)

    # -- one session ----------------------------------------------------------

    def resolve(self, reference: str) -> str:
        with self.lock:
            return self.sessions.resolve(reference)

    def state(self, session_id: str, at: str | None = None) -> LogState:
        """The session's log (at log commit ``at`` when given: pages of one page view
        stay on the log they started from). ``at`` comes from a URL: only a commit id is
        read, never a name git would resolve (a branch, ``HEAD``, another session's ref)."""
        if at is not None and not LOG_ID.fullmatch(at):
            raise BadInput(f"not a log commit: {at[:80]}")
        with self.lock:
            state = self.sessions.store.state(session_id, at)
        if state is None:
            raise SessionNotFound(f"no session {session_id}")
        return state

    def summary(self, state: LogState) -> dict[str, Any]:
        with self.lock:
            return self.sessions.summary_of(state)

    def page(self, state: LogState, number: int) -> list[Entry]:
        """The entries of segment ``number`` (0-based; none past the last)."""
        if not 0 <= number < len(state.segments):
            return []
        with self.lock:
            lines = list(self.sessions.store.lines(state, [state.segments[number]]))
        return [parse_line(line) for line in lines if line.strip()]

    def tail(self, state: LogState, after: int) -> list[Entry]:
        """The entries from position ``after`` (0-based) to the end, reading only the
        segments that hold them."""
        wanted = max(state.count - after, 0)
        with self.lock:
            return self.sessions.store.last_entries(state, wanted) if wanted else []

    def page_of(self, state: LogState, entry_id: str) -> int | None:
        """The segment that holds entry ``entry_id``."""
        with self.lock:
            for number, segment in enumerate(state.segments):
                lines = self.sessions.store.lines(state, [segment])
                if any(
                    parse_line(line).get("id") == entry_id
                    for line in lines
                    if entry_id.encode() in line
                ):
                    return number
        return None
