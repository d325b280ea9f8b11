"""Promote: keep the preferred attempt. Its branch is merged into the branch the session
was started from, as `git merge` would (a fast-forward when it can, else a merge commit),
without checking that branch out; then the session records it and the task's other
attempts are archived, their clean worktrees removed.

Refusals (a conflict, a dirty target work tree, a target that moved) change nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BadInput, GitsessError
from .storage import history, merging
from .storage.worktrees import by_branch, changes, operation_in_progress
from .tasks import sessions_of_task, task_of

if TYPE_CHECKING:
    from .sessions import Sessions

MODES = ("merge", "ff-only", "squash")


class Promoted:
    """What promote did."""

    def __init__(self, session: str, into: str, commit: str, how: str) -> None:
        self.session = session
        self.into = into
        self.commit = commit
        self.how = how  # "fast-forward", "merge", "squash", or "up to date"
        self.archived: list[str] = []
        self.removed_worktrees: list[str] = []
        self.kept_worktrees: dict[str, str] = {}  # path: why it stayed

    def as_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "into": self.into,
            "commit": self.commit,
            "how": self.how,
            "archived": self.archived,
            "removed_worktrees": self.removed_worktrees,
            "kept_worktrees": self.kept_worktrees,
        }


def promote(sessions: Sessions, session_id: str, into: str | None, mode: str = "merge") -> Promoted:
    state = sessions.store.require(session_id)
    branch = sessions.require_branch(state)
    tip = sessions.repo.branch_tip(branch)
    if tip is None:
        raise BadInput(f"the session's branch {branch} has no commits to promote")
    target = into or state.meta.get("from_branch")
    if not isinstance(target, str) or not target:
        raise BadInput(
            "the session does not record the branch it was started from: name it with --into BRANCH"
        )
    target_tip = sessions.repo.branch_tip(target)
    if target_tip is None:
        raise BadInput(f"no branch {target!r} to promote into")
    if target == branch:
        raise BadInput(f"{branch} is the session's own branch: promote into another with --into")
    worktree = by_branch(sessions.repo).get(target)
    if worktree is not None:
        _refuse_unready(worktree.path, target)
    done = Promoted(session_id, target, target_tip, "up to date")
    repo = sessions.repo
    if not repo.is_ancestor(tip, target_tip):
        new, done.how = _result(sessions, state.meta, branch, tip, target, target_tip, mode)
        merging.move_branch(
            repo,
            target,
            new,
            target_tip,
            worktree.path if worktree else None,
            f"promote {session_id}",
        )
        done.commit = new
        sessions.record(
            session_id,
            [
                (
                    1,
                    {
                        "type": "event",
                        "name": "promoted",
                        "data": {"into": target, "commit": new, "how": done.how},
                    },
                )
            ],
            trusted=True,
        )
    _retire_other_trials(sessions, state.meta, done)
    return done


def _refuse_unready(path: str, target: str) -> None:
    operation = operation_in_progress(path)
    if operation:
        raise merging.MergeRefused(
            f"a {operation} is in progress in {path}, where {target} is checked out: "
            "finish it first; nothing was changed"
        )
    dirty = changes(path)
    if dirty:
        raise merging.MergeRefused(
            f"{target} is checked out in {path} with uncommitted changes: "
            "commit or stash them first; nothing was changed"
        )


def _result(
    sessions: Sessions,
    meta: dict[str, Any],
    branch: str,
    tip: str,
    target: str,
    target_tip: str,
    mode: str,
) -> tuple[str, str]:
    """The commit the target moves to, and how it was made."""
    repo = sessions.repo
    can_fast_forward = repo.is_ancestor(target_tip, tip)
    if mode == "ff-only":
        if not can_fast_forward:
            raise merging.MergeRefused(
                f"{target} has commits the session's branch lacks: a fast-forward is impossible "
                "(promote without --ff-only to merge); nothing was changed"
            )
        return tip, "fast-forward"
    if mode == "merge" and can_fast_forward:
        return tip, "fast-forward"
    tree = (
        history.tree_of(repo, tip)
        if can_fast_forward
        else merging.merged_tree(repo, target_tip, tip)
    )
    session_id = str(meta.get("id"))
    if mode == "squash":
        message = (
            f"{meta.get('title', session_id)}\n\nSquashed from {branch}.\n\nSession: {session_id}\n"
        )
        return merging.commit(repo, tree, [target_tip], message), "squash"
    message = f"Merge branch '{branch}' into {target}\n\nSession: {session_id}\n"
    return merging.commit(repo, tree, [target_tip, tip], message), "merge"


def _retire_other_trials(sessions: Sessions, meta: dict[str, Any], done: Promoted) -> None:
    """Archive the task's other active sessions (recoverable: `unarchive`) and remove their
    worktrees when clean; a worktree with uncommitted changes stays, and is reported."""
    task = task_of(meta)
    if task is None:
        return
    from .worktrees import remove_worktree

    for row in sessions_of_task(sessions, task, include_archived=False):
        other = str(row.meta.get("id"))
        if other == done.session:
            continue
        sessions.set_status(other, "archived")
        done.archived.append(other)
        branch = sessions.branch_of(row.meta, other)
        if branch is None:
            continue
        try:
            path = remove_worktree(sessions, branch)
        except GitsessError as exc:
            worktree = by_branch(sessions.repo).get(branch)
            done.kept_worktrees[worktree.path if worktree else branch] = exc.message
            continue
        if path:
            done.removed_worktrees.append(path)
