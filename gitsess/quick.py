"""Commands answered without click or rich, for the hot paths.

`gitsess status` runs in shell prompts and editor status lines, `list --json` and
`--version` in scripts and editors, `capture` on every agent turn and `hook` on every
commit. Loading click and rich costs more than all of their work, so ``dispatch``
answers exactly these argument forms itself and returns None for anything else (help,
unusual flags, mistakes): the full CLI then handles it, with the same behaviour and messages.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sessions import Sessions


def dispatch(args: list[str]) -> int | None:
    if args == ["--version"]:
        from . import __version__

        print(f"gitsess, version {__version__}")
        return 0
    if args[:1] == ["capture"]:
        from .capture import main as capture

        return capture(args[1:])
    if args[:1] == ["hook"]:
        from .githooks import main as hook

        return hook(args[1:])
    path, rest = (args[1], args[2:]) if args[:1] == ["-C"] and len(args) > 1 else (None, args)
    if rest in (["status"], ["status", "--json"]):
        status(open_sessions(path), as_json=len(rest) == 2)
        return 0
    if rest[:1] == ["list"] and "--json" in rest and set(rest[1:]) <= {"--json", "--all"}:
        list_json(open_sessions(path), include_all="--all" in rest)
        return 0
    return None


def open_sessions(path: str | None) -> Sessions:
    """The repository's sessions, with logs a plain `git fetch` brought merged first."""
    from .sessions import Sessions
    from .storage.repo import Repository

    sessions = Sessions(Repository(path))
    if sessions.repo.fetched_since_seen():
        from .sharing import Sharing

        Sharing(sessions).sync()
    return sessions


def emit_json(document: Any) -> None:
    # Indented for a person at a terminal; compact (and much faster) for programs.
    indent = 2 if sys.stdout.isatty() else None
    try:
        print(json.dumps(document, ensure_ascii=False, indent=indent))
    except UnicodeEncodeError:  # lone surrogates (imported as such): \u escapes carry them
        print(json.dumps(document, indent=indent))


def listing_rows(sessions: Sessions, include_all: bool) -> list[dict[str, Any]]:
    """Summaries for `list`; a session that cannot be read is one warning on stderr."""
    rows = [sessions.summary(r.meta, r.count, r.oid) for r in sessions.listing(include_all)]
    for _, broken in sorted(sessions.store.broken.items()):
        print(f"gitsess: warning: {broken.message}", file=sys.stderr)
    return rows


def list_json(sessions: Sessions, include_all: bool) -> None:
    emit_json(listing_rows(sessions, include_all))


def status(sessions: Sessions, as_json: bool) -> None:
    """The current session, if a session's branch is checked out."""
    state = sessions.current()
    if as_json:
        emit_json(sessions.summary_of(state) if state else None)
        return
    if state is None:
        branch = sessions.repo.current_branch()
        where = f"on branch {branch}" if branch else "HEAD is detached"
        print(f"No current session ({where}).")
        return
    from .render.spans import print_spans, width
    from .render.text import header_parts, one_line

    title, details = header_parts(sessions.summary_of(state))
    last = sessions.store.last_entries(state, 1)
    lines = [title, details]
    if last:
        lines.append([("last:", "dim"), (" " + one_line(last[0], width() - 6), "")])
    print_spans(*lines)
