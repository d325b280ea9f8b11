"""Pages about code: a commit's diff, a session's whole diff, two sessions compared, and
the fork tree of a session's family.

| URL | page |
|---|---|
| `/commit/{sha}` | one commit: message, author, date, stats, its diff against its first parent |
| `/s/{id}/diff` | the session's whole diff: its branch against where it started |
| `/s/{id}/tree` | the fork tree of the session's family |
| `/compare?a=ID&b=ID` | two sessions side by side: numbers, code, conversation |

A commit is named by hex digits only (7 to 64): anything else, and any object that is not
a commit here, is a 404 page before git hears of it. Diffs are read bounded
(storage/diffs.py): a huge one is cut with a note, binary files are named, not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from ..storage import diffs
from .highlight import rows, shown

if TYPE_CHECKING:
    from ..storage.diffs import Change, CommitFacts
    from ..storage.log import LogState
    from .reader import Reader

Page = Callable[..., HTMLResponse]
Lookup = Callable[[str], str]

MAX_TREE_NODES = 500  # nodes of a family shown on a page (a fetched family may be huge)
MAX_ATTEMPTS = 50  # other attempts at a task listed on a session page
COMPARE_ENTRIES = 300  # entries of each conversation shown side by side


def routes(reader: Reader, page: Page, lookup: Lookup) -> list[BaseRoute]:
    """The routes of these pages."""

    def commit(request: Request) -> Response:
        reference = request.path_params["sha"]
        with reader.lock:
            facts = diffs.commit_facts(reader.sessions.repo, reference)
            if facts is None:
                raise HTTPException(404, f"no commit {reference} in this repository")
            change = diffs.commit_change(reader.sessions.repo, facts)
        from ..storage.history import named_sessions

        return page(
            "commit.html.j2",
            commit=commit_view(facts),
            sessions=named_sessions(facts.message),
            change=change_view(change),
        )

    def session_diff(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        from ..tasks import code_range

        with reader.lock:
            base, tip = code_range(reader.sessions, state.meta)
            change = diffs.change(reader.sessions.repo, base, tip) if base and tip else None
            commits = diffs.count_commits(reader.sessions.repo, base, tip) if base and tip else None
        return page(
            "diff.html.j2",
            session=_summary(reader, state),
            base=base,
            tip=tip,
            commits=commits,
            change=change_view(change) if change else None,
        )

    def tree(request: Request) -> Response:
        session_id = lookup(request.path_params["session"])
        state = reader.state(session_id)
        return page("tree.html.j2", session=reader.summary(state), **code_context(reader, state))

    def compare(request: Request) -> Response:
        names = [request.query_params.get(key, "").strip() for key in ("a", "b")]
        chosen = [lookup(name) if name else None for name in names]
        columns = [_column(reader, sid) for sid in chosen if sid]
        return page(
            "compare.html.j2",
            chosen=chosen,
            columns=columns if len(columns) == 2 else [],
            choices=_choices(reader, [sid for sid in chosen if sid]),
        )

    return [
        Route("/commit/{sha}", commit),
        Route("/s/{session}/diff", session_diff),
        Route("/s/{session}/tree", tree),
        Route("/compare", compare),
    ]


def code_context(reader: Reader, state: LogState) -> dict[str, Any]:
    """What the session page's family partial shows: the fork tree of the session's family
    (empty when it has none) and the other attempts at its task."""
    from ..tasks import task_of
    from ..tree import families, family_of

    session_id = state.session_id

    root = family_of(families(reader.family(session_id), session_id), session_id)
    family: list[dict[str, Any]] = []
    more = 0
    for depth, node in root.walk() if root else ():
        if len(family) >= MAX_TREE_NODES:
            more += 1
            continue
        family.append(
            {
                "id": node.id,
                "title": _text(node.title),
                "entries": node.entries,
                "at": node.at,
                "current": node.current,
                "missing": node.missing,
                "depth": depth if depth <= 8 else "deep",
            }
        )
    task = task_of(state.meta)  # the page's own read of the session
    attempts = [
        {
            "id": str(row.meta.get("id")),
            "title": _text(row.meta.get("title")),
            "status": row.meta.get("status"),
        }
        for row in (reader.with_task(task, MAX_ATTEMPTS + 1) if task else [])
        if task_of(row.meta) == task and row.meta.get("id") != session_id
    ]
    return {
        "family": family if len(family) > 1 else [],
        "family_more": more,
        "task": task,
        "attempts": attempts[:MAX_ATTEMPTS],
    }


def commit_view(facts: CommitFacts) -> dict[str, Any]:
    """A commit as its page shows it: what its author wrote, control characters visible."""
    people = {
        role: {"name": shown(who.name), "email": shown(who.email), "when": who.when}
        for role, who in (("author", facts.author), ("committer", facts.committer))
    }
    return {
        "sha": facts.sha,
        "parents": facts.parents,
        "subject": shown(facts.subject),
        "body": shown(facts.body).replace("\u240a", "\n"),  # line feeds stay line feeds
        **people,
    }


def change_view(change: Change) -> dict[str, Any]:
    """A change as the templates show it: files with their rows of highlighted code."""
    files = []
    for number, file in enumerate(change.files):
        files.append(
            {
                "anchor": f"file-{number}",
                "path": shown(file.path),
                "old_path": shown(file.old_path) if file.old_path else None,
                "status": file.status,
                "binary": file.binary,
                "insertions": file.insertions,
                "deletions": file.deletions,
                "reached": file.reached,
                "cut": file.cut,
                "rows": rows(file) if file.lines else [],
            }
        )
    return {
        "files": files,
        "files_changed": change.files_changed,
        "insertions": change.insertions,
        "deletions": change.deletions,
        "unlisted": change.unlisted,
        "cut": change.cut,
        "budget": diffs.MAX_BYTES,
        "file_lines": diffs.MAX_FILE_LINES,
    }


def _column(reader: Reader, session_id: str) -> dict[str, Any]:
    """One side of a comparison: the numbers `gitsess compare` shows, and the start of the
    conversation."""
    from ..tasks import compare_row
    from .entries import views

    state = reader.state(session_id)
    with reader.lock:
        numbers = compare_row(reader.sessions, state)
    entries = reader.page(state, 0)[:COMPARE_ENTRIES]
    return {
        "session": _summary(reader, state),
        "numbers": numbers,
        "entries": views(entries, session_id),
        "more": max(state.count - COMPARE_ENTRIES, 0),
    }


def _choices(reader: Reader, chosen: list[str]) -> list[dict[str, Any]]:
    """The sessions the compare form offers: the chosen ones, then the index's first page
    (pinned, then the most recent); any other is a ?a=ID away."""
    from .index import FILTERS, PAGE_ROWS

    rows = reader.index(dict.fromkeys(FILTERS, ""), "", PAGE_ROWS).rows
    offered = {str(row.get("id")) for row in rows}
    extra = [sid for sid in dict.fromkeys(chosen) if sid not in offered]
    rows = [reader.summary(reader.state(sid)) for sid in extra] + rows
    return [
        {
            "id": str(row.get("id", "")),
            "title": _text(row.get("title")),
            "task": _text(row.get("task")),
        }
        for row in rows
    ]


def _text(value: Any) -> str | None:
    """A string from a session.json (anyone's data) as a page shows it."""
    return None if value is None else shown(str(value))


def _summary(reader: Reader, state: LogState) -> dict[str, Any]:
    """The session's summary, its title, branch and task made safe to show."""
    summary = reader.summary(state)
    for key in ("title", "branch", "task"):
        summary[key] = _text(summary.get(key))
    return summary
