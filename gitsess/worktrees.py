"""A worktree per session: several agents at work on one repository, none in another's way.

A session's worktree is a linked `git worktree` checked out on the session's branch, by
default outside the main work tree (so tools and agents never see one inside another):
`<main worktree>.worktrees/<slug>-<id>` beside it, or under `gitsess.worktreeDir`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BadInput, GitsessError
from .ids import slugify
from .storage import worktrees as git_worktrees
from .storage.worktrees import Worktree

if TYPE_CHECKING:
    from .sessions import Sessions

DIR_KEY = "gitsess.worktreeDir"


def main_root(sessions: Sessions) -> str:
    found = git_worktrees.worktrees(sessions.repo)
    return found[0].path if found else sessions.repo.root_path


def default_path(sessions: Sessions, session_id: str, title: str) -> str:
    root = main_root(sessions)
    configured = sessions.repo.config(DIR_KEY)
    if configured:
        base = os.path.join(root, os.path.expanduser(configured))
    else:
        base = f"{root.rstrip(os.sep)}.worktrees"
    slug = slugify(title)
    return os.path.normpath(os.path.join(base, f"{slug}-{session_id}" if slug else session_id))


def worktree_of(sessions: Sessions, branch: str) -> Worktree | None:
    return git_worktrees.by_branch(sessions.repo).get(branch)


def open_worktree(sessions: Sessions, session_id: str, path: str | None = None) -> tuple[str, bool]:
    """The worktree checked out on the session's branch, made if there is none: its path,
    and whether it was made now. The main checkout is never touched."""
    state = sessions.store.require(session_id)
    branch = sessions.require_branch(state)
    git_worktrees.prune(sessions.repo)  # one deleted by hand no longer holds the branch
    existing = worktree_of(sessions, branch)
    if existing is not None:
        if path and os.path.realpath(path) != os.path.realpath(existing.path):
            raise BadInput(f"{branch} is already checked out in {existing.path}")
        return existing.path, False
    target = (
        os.path.abspath(path)
        if path
        else default_path(sessions, session_id, str(state.meta.get("title", "")))
    )
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise BadInput(f"{target} already exists and is not empty: choose another --worktree PATH")
    if sessions.repo.branch_tip(branch) is None:
        start, _ = sessions.branch_start(state, branch)
        sessions.repo.create_branch(branch, start)
    git_worktrees.add(sessions.repo, target, branch)
    carry_agent_hooks(main_root(sessions), target)
    return target, True


def carry_agent_hooks(main: str, new: str) -> list[str]:
    """Install in the new worktree the agent hooks the main worktree has, so that hooks
    installed once capture every worktree's agent (their files are per work tree, and
    Claude Code's is not committed). The agents whose hooks were carried."""
    from .agents.hooks import INSTALLERS

    carried = []
    for agent, installer in INSTALLERS.items():
        if installer.status(Path(main)).installed and not installer.status(Path(new)).installed:
            installer.install(Path(new))
            carried.append(agent)
    return carried


def remove_worktree(sessions: Sessions, branch: str) -> str | None:
    """Remove the clean worktree of ``branch``; its path, or None when it has none.
    A worktree with uncommitted changes is refused (GitsessError), nothing removed."""
    existing = worktree_of(sessions, branch)
    if existing is None:
        return None
    if existing.main:
        raise GitsessError(f"{branch} is checked out in the main worktree, which stays")
    git_worktrees.remove(sessions.repo, existing)
    return existing.path


def removable_worktree(sessions: Sessions, session_id: str) -> str | None:
    """The branch whose worktree `--remove-worktree` removes (None: it has none), checked
    before anything is changed: a worktree with uncommitted changes refuses the command."""
    state = sessions.store.require(session_id)
    branch = sessions.branch_of(state.meta, session_id)
    found = worktree_of(sessions, branch) if branch else None
    if found is None or branch is None:
        return None
    if found.main:
        raise GitsessError(f"{branch} is checked out in the main worktree, which stays")
    if git_worktrees.changes(found.path):
        raise GitsessError(
            f"the worktree at {found.path} has uncommitted changes: commit or discard them "
            "first; nothing was changed"
        )
    return branch
