"""Merging one branch into another without checking it out: `git merge-tree` computes the
result, `commit-tree` records it, and the target moves by compare-and-swap (or, where the
target is checked out, by a fast-forward `git merge` in that worktree, which updates its
files). Nothing is half-done: a conflict is found before anything is written."""

from __future__ import annotations

from ..errors import GitsessError
from .git import Git, first_line
from .repo import RefMoved, Repository


class MergeRefused(GitsessError):
    """The merge needs a decision (a conflict, a dirty target, a moved branch)."""


def merged_tree(repo: Repository, target: str, source: str) -> str:
    """The tree of merging ``source`` into ``target`` (commits); MergeRefused on a
    conflict, naming the files."""
    proc = repo.git.run(
        "merge-tree", "--write-tree", "--name-only", "--no-messages", target, source, check=False
    )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode == 1:
        files = [line for line in lines[1:] if line]
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        raise MergeRefused(f"the merge conflicts in {shown}: merge by hand; nothing was changed")
    if proc.returncode != 0 or not lines:
        why = first_line(proc.stderr.decode("utf-8", "replace"))
        raise GitsessError(f"cannot merge: {why or 'git merge-tree failed'}")
    return lines[0]


def commit(repo: Repository, tree: str, parents: list[str], message: str) -> str:
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return repo.git.text(*args, "-m", message)


def move_branch(
    repo: Repository, branch: str, new: str, old: str, worktree_path: str | None, why: str
) -> None:
    """Move ``branch`` from ``old`` to ``new`` (a descendant of ``old``). Checked out in a
    worktree: a fast-forward merge there, so its files follow; else a compare-and-swap."""
    if worktree_path is None:
        try:
            repo.update_ref(f"refs/heads/{branch}", new, old, f"gitsess: {why}")
        except RefMoved:
            raise MergeRefused(
                f"{branch} moved while merging: run the command again; nothing was changed"
            ) from None
        return
    git = Git(worktree_path)
    if git.text("rev-parse", "HEAD", check=False) != old:
        raise MergeRefused(
            f"{branch} moved while merging: run the command again; nothing was changed"
        )
    proc = git.run("merge", "--ff-only", "--quiet", new, check=False)
    if proc.returncode != 0:
        reason = first_line(proc.stderr.decode("utf-8", "replace"))
        raise MergeRefused(
            f"cannot update {branch} in {worktree_path}: {reason}; nothing was changed"
        )
