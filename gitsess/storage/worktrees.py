"""Linked worktrees (`git worktree`): where each session branch is checked out."""

from __future__ import annotations

import os

from ..errors import GitsessError
from .git import Git, first_line
from .repo import Repository


class Worktree:
    """One working tree of the repository, as `git worktree list` describes it."""

    __slots__ = ("branch", "head", "main", "path", "prunable")

    def __init__(self, path: str, main: bool) -> None:
        self.path = path
        self.main = main
        self.branch: str | None = None  # without refs/heads/; None when detached
        self.head: str | None = None
        self.prunable = False  # its folder is gone (deleted by hand)


def worktrees(repo: Repository) -> list[Worktree]:
    """Every worktree, the main one first."""
    out = repo.git.run("worktree", "list", "--porcelain", "-z", check=False).stdout
    found: list[Worktree] = []
    for field in out.decode("utf-8", "surrogateescape").split("\0"):
        if field.startswith("worktree "):
            found.append(Worktree(field[9:], main=not found))
        elif not found:
            continue
        elif field.startswith("branch refs/heads/"):
            found[-1].branch = field[18:]
        elif field.startswith("HEAD "):
            found[-1].head = field[5:]
        elif field.startswith("prunable"):
            found[-1].prunable = True
    return found


def by_branch(repo: Repository) -> dict[str, Worktree]:
    """{branch: the worktree that has it checked out} for worktrees that still exist."""
    return {w.branch: w for w in worktrees(repo) if w.branch and not w.prunable}


def add(repo: Repository, path: str, branch: str) -> None:
    """Check ``branch`` (which exists) out in a new worktree at ``path``."""
    proc = repo.git.run("worktree", "add", "--quiet", path, branch, check=False)
    if proc.returncode != 0:
        why = first_line(proc.stderr.decode("utf-8", "replace"))
        raise GitsessError(f"cannot make a worktree at {path}: {why}")


def operation_in_progress(path: str) -> str | None:
    """What git operation is stopped half-way in the worktree at ``path`` (a merge, a
    rebase...), or None."""
    from pathlib import Path

    from .repo import _operation_from_files

    git_dir = Git(path).text("rev-parse", "--absolute-git-dir", check=False)
    return _operation_from_files(Path(git_dir)) if git_dir else None


def prune(repo: Repository) -> None:
    """Forget worktrees whose folders were deleted by hand."""
    repo.git.run("worktree", "prune", check=False)


def changes(path: str) -> list[str]:
    """Uncommitted changes in the worktree at ``path`` (`git status --porcelain` lines)."""
    out = Git(path).text("status", "--porcelain", "--untracked-files=normal", check=False)
    return out.splitlines() if out else []


def remove(repo: Repository, worktree: Worktree) -> None:
    """Remove a clean worktree (its folder and git's record of it); refuse a dirty one."""
    if worktree.main:
        raise GitsessError(f"{worktree.path} is the main worktree: it is never removed")
    if worktree.prunable or not os.path.isdir(worktree.path):
        prune(repo)
        return
    dirty = changes(worktree.path)
    if dirty:
        raise GitsessError(
            f"the worktree at {worktree.path} has {len(dirty)} uncommitted change"
            f"{'s' if len(dirty) != 1 else ''}: commit or discard them first; nothing was removed"
        )
    proc = repo.git.run("worktree", "remove", worktree.path, check=False)
    if proc.returncode != 0:
        why = first_line(proc.stderr.decode("utf-8", "replace"))
        raise GitsessError(f"cannot remove the worktree at {worktree.path}: {why}")
