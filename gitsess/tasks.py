"""Tasks: several attempts (trials) at one objective, started together and compared.

A session's task is the `task` field of its session.json, so it travels with the session.
`try` starts trials; `compare` measures them side by side; `promote.py` keeps the best.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import BadInput
from .storage.log import Listed

if TYPE_CHECKING:
    from .sessions import Sessions
    from .storage.log import LogState

TASK_MAX = 100
TRIALS_MAX = 20


def check_task(name: str) -> str:
    if not name.strip() or len(name) > TASK_MAX or any(not c.isprintable() for c in name):
        raise BadInput(f"not a task name: {name!r} (1 to {TASK_MAX} printable characters)")
    return name


def task_of(meta: dict[str, Any]) -> str | None:
    task = meta.get("task")
    return task if isinstance(task, str) and task else None


def sessions_of_task(sessions: Sessions, name: str, include_archived: bool = True) -> list[Listed]:
    rows = sessions.listing(include_archived=include_archived)
    return [row for row in rows if task_of(row.meta) == name]


def tasks(sessions: Sessions) -> list[dict[str, Any]]:
    """Every task: its name, sessions (active ones), and last activity; latest first."""
    found: dict[str, dict[str, Any]] = {}
    for row in sessions.listing(include_archived=True):
        name = task_of(row.meta)
        if name is None:
            continue
        task = found.setdefault(name, {"task": name, "sessions": 0, "active": 0, "updated": ""})
        task["sessions"] += 1
        task["active"] += row.meta.get("status") != "archived"
        task["updated"] = max(task["updated"], str(row.meta.get("updated", "")))
    return sorted(found.values(), key=lambda t: t["updated"], reverse=True)


def next_trial_numbers(sessions: Sessions, name: str, count: int) -> list[int]:
    """Trial numbers after the ones the task has (`NAME #1`, `NAME #2`...)."""
    pattern = re.compile(re.escape(name) + r" #(\d+)$")
    taken = [
        int(m[1])
        for row in sessions_of_task(sessions, name)
        if (m := pattern.match(str(row.meta.get("title", ""))))
    ]
    first = max(taken, default=0) + 1
    return list(range(first, first + count))


def start_trials(
    sessions: Sessions, name: str, count: int, from_rev: str | None, worktree: bool
) -> list[tuple[LogState, str | None]]:
    """``count`` trial sessions of task ``name``, each on its own branch (and worktree):
    their logs, and the worktree paths. None of them is checked out in this worktree."""
    check_task(name)
    if not 1 <= count <= TRIALS_MAX:
        raise BadInput(f"-n must be between 1 and {TRIALS_MAX}")
    from_branch = sessions.repo.current_branch()
    made: list[tuple[LogState, str | None]] = []
    for number in next_trial_numbers(sessions, name, count):
        extra: dict[str, Any] = {"task": name}
        if from_branch:
            extra["from_branch"] = from_branch
        state = sessions.new(f"{name} #{number}", from_rev, checkout=False, extra=extra)
        path = None
        if worktree:
            from .worktrees import open_worktree

            path, _ = open_worktree(sessions, state.session_id)
        made.append((state, path))
    return made


# -- compare ------------------------------------------------------------------------------


def compare_row(sessions: Sessions, state: LogState) -> dict[str, Any]:
    """What one attempt did: its conversation, its code against where it started, the
    checks it recorded, and the tokens its entries report."""
    meta = state.meta
    entries = sessions.store.entries(state)
    user_turns = sum(
        1
        for e in entries
        if e.get("type") == "message"
        and e.get("role") == "user"
        and not (isinstance(e.get("meta"), dict) and e["meta"].get("injected"))
    )
    row: dict[str, Any] = {
        "id": state.session_id,
        "title": meta.get("title"),
        "task": task_of(meta),
        "status": meta.get("status"),
        "entries": state.count,
        "user_turns": user_turns,
        "tool_calls": sum(1 for e in entries if e.get("type") == "tool_call"),
        "updated": meta.get("updated"),
    }
    row.update(code_stats(sessions, meta))
    row.update(check_results(entries))
    row["tokens"] = tokens(entries)
    row["cost"] = cost(entries)
    return row


def code_range(sessions: Sessions, meta: dict[str, Any]) -> tuple[str | None, str | None]:
    """Where the session's code started and its branch's tip (None when unknown): its
    `base`, else where its branch left the branch it was started from (`from_branch`), else
    where it left main or master (a session imported or made before the first commit)."""
    branch = sessions.branch_of(meta, str(meta.get("id", "")))
    tip = sessions.repo.branch_tip(branch) if branch else None
    if tip is None:
        return None, None
    base = meta.get("base")
    start = sessions.repo.resolve(base) if isinstance(base, str) else None
    if start is not None:
        return start, tip
    from .review import BASE_CANDIDATES

    for other in (meta.get("from_branch"), *BASE_CANDIDATES):
        other_tip = sessions.repo.branch_tip(other) if isinstance(other, str) else None
        if other != branch and other_tip is not None:
            return sessions.repo.merge_base(tip, other_tip), tip
    return None, tip


def code_stats(sessions: Sessions, meta: dict[str, Any]) -> dict[str, Any]:
    """Commits, files changed, insertions and deletions of the branch since it started."""
    base, tip = code_range(sessions, meta)
    if tip is None or base is None:
        return {"commits": None, "files_changed": None, "insertions": None, "deletions": None}
    from .storage.diffs import count_commits
    from .storage.history import line_counts

    files, insertions, deletions = line_counts(sessions.repo, base, tip)
    return {
        "commits": count_commits(sessions.repo, base, tip),
        "files_changed": files,
        "insertions": insertions,
        "deletions": deletions,
    }


def check_results(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The `check` events (`{"type": "event", "name": "check", "data": {"name", "result"}}`):
    the last result of each named check, and how many passed and failed."""
    last: dict[str, str] = {}
    for entry in entries:
        data = entry.get("data")
        if entry.get("type") == "event" and entry.get("name") == "check" and isinstance(data, dict):
            result = str(data.get("result", "")).lower()
            last[str(data.get("name") or "check")] = result
    passed = sum(1 for r in last.values() if r in ("pass", "passed", "ok", "success", "true"))
    return {"checks": last, "checks_passed": passed, "checks_failed": len(last) - passed}


def tokens(entries: list[dict[str, Any]]) -> int | None:
    """Tokens the agent reports: Claude Code's per-message usage (each API message once),
    or the last running total of Codex's `token_count` events. None when there are none."""
    total, seen, found = 0, set(), False
    codex_total: int | None = None
    for entry in entries:
        meta: dict[str, Any] = entry["meta"] if isinstance(entry.get("meta"), dict) else {}
        message: dict[str, Any] = meta["message"] if isinstance(meta.get("message"), dict) else {}
        usage = message.get("usage")
        if isinstance(usage, dict) and message.get("id") not in seen:
            seen.add(message.get("id"))
            counted = [v for k, v in usage.items() if k.endswith("_tokens") and isinstance(v, int)]
            total += sum(counted)
            found = found or bool(counted)
        data = entry.get("data")
        if (
            entry.get("type") == "event"
            and entry.get("name") == "token_count"
            and isinstance(data, dict)
        ):
            info = data.get("info")
            usage_total = info.get("total_token_usage") if isinstance(info, dict) else None
            if isinstance(usage_total, dict) and isinstance(usage_total.get("total_tokens"), int):
                codex_total = usage_total["total_tokens"]
    if codex_total is not None:
        return codex_total + total
    return total if found else None


def cost(entries: list[dict[str, Any]]) -> float | None:
    """Dollars the entries report (`meta.costUSD`, as Claude Code once wrote), or None."""
    values = [
        e["meta"]["costUSD"]
        for e in entries
        if isinstance(e.get("meta"), dict) and isinstance(e["meta"].get("costUSD"), (int, float))
    ]
    return round(sum(values), 4) if values else None
