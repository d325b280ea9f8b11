"""What shell completion offers: the repository's sessions, remotes and entries.

Called by the SESSION and REMOTE argument types (cli/base.py) while the shell waits,
on every TAB: one for-each-ref and one cat-file (the listing `list --json` reads), no
sync, nothing written. Completion never complains: outside a repository, or with a
session that cannot be read, it offers what it can, and nothing is printed.
"""

from __future__ import annotations

import contextlib
import io

# typing's flag without importing typing: type checkers take the first branch.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .storage.repo import Repository

Candidate = tuple[str, str]  # (what is inserted, what it is: shown by zsh and fish)


def session_candidates(path: str | None, incomplete: str) -> list[Candidate]:
    """Ids, branches and titles of the sessions that start with ``incomplete``: ids
    first (newest session first), then branches, then titles (case-insensitively)."""
    from .sessions import Sessions

    with _quiet_repository(path) as repo:
        if repo is None:
            return []
        rows = Sessions(repo).listing(include_archived=True)
        ids: list[Candidate] = []
        branches: list[Candidate] = []
        titles: list[Candidate] = []
        folded = incomplete.casefold()
        for row in rows:
            session_id = str(row.meta.get("id", ""))
            title = str(row.meta.get("title", ""))
            branch = str(row.meta.get("branch", ""))
            if session_id.startswith(incomplete.lower()):
                ids.append((session_id, title))
            if branch and branch.startswith(incomplete):
                branches.append((branch, f"branch of {session_id}: {title}"))
            if title and title.casefold().startswith(folded):
                titles.append((title, f"title of {session_id}"))
        return _unique(ids + branches + titles)
    return []


def remote_candidates(path: str | None, incomplete: str) -> list[Candidate]:
    """The repository's remotes whose names start with ``incomplete``."""
    with _quiet_repository(path) as repo:
        if repo is None:
            return []
        return [(name, "remote") for name in repo.remotes() if name.startswith(incomplete)]
    return []


# How many of a session's last entries `fork --at` offers: a long log is not read whole
# while the shell waits.
RECENT_ENTRIES = 200


def entry_candidates(path: str | None, session: str | None, incomplete: str) -> list[Candidate]:
    """Ids of SESSION's (else the current session's) last entries that start with
    ``incomplete``, newest first, each with its role and first words."""
    from .sessions import Sessions

    with _quiet_repository(path) as repo:
        if repo is None:
            return []
        sessions = Sessions(repo)
        state = sessions.store.require(sessions.resolve_or_current(session))
        found = []
        for entry in reversed(sessions.store.last_entries(state, RECENT_ENTRIES)):
            entry_id = entry.get("id")
            if isinstance(entry_id, str) and entry_id.startswith(incomplete):
                found.append((entry_id, _gist(entry)))
        return _unique(found)
    return []


def _gist(entry: dict[str, object]) -> str:
    """What an entry is, in a few words: its role or type, and the start of its text."""
    kind = str(entry.get("role") or entry.get("type") or "entry")
    content = entry.get("content")
    text = " ".join(content.split())[:50] if isinstance(content, str) else ""
    return f"{kind}: {text}" if text else kind


@contextlib.contextmanager
def _quiet_repository(path: str | None) -> Iterator[Repository | None]:
    """The repository at ``path`` (None outside one), with anything said on stderr and
    any failure swallowed: a completion that fails offers nothing, silently."""
    from .storage.repo import Repository

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            repo = Repository(path)
        except Exception:
            yield None
            return
        try:
            yield repo
        except Exception:
            pass
        finally:
            repo.close()


def _unique(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    kept = []
    for value, help_text in candidates:
        if value not in seen:
            seen.add(value)
            kept.append((value, help_text))
    return kept
