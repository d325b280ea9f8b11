"""Many new refs at once go straight into packed-refs, and git reads them as its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitsess.storage import packed
from gitsess.storage.repo import Repository

from .conftest import git


def commit(repo: Path) -> str:
    return git(repo, "commit-tree", "-m", "x", git(repo, "write-tree"))


def test_created_refs_are_git_refs(repo: Path) -> None:
    oid = commit(repo)
    git(repo, "update-ref", "refs/a/loose", oid)
    git(repo, "update-ref", "refs/a/packed", oid)
    git(repo, "pack-refs", "--all")
    git(repo, "update-ref", "refs/a/loose2", oid)  # loose beside packed
    refs = {f"refs/gitsess/remotes/o/sessions/s{n:03d}": oid for n in range(50)}
    assert Repository(repo).create_refs(refs, "test")
    listed = git(repo, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
    assert {f"{ref} {oid}" for ref in refs} <= set(listed)
    assert "refs/a/loose2 " + oid in listed and "refs/a/packed " + oid in listed
    assert not (repo / ".git" / "refs" / "gitsess").exists()  # no loose file per ref
    assert git(repo, "fsck", "--no-dangling") == ""
    # git updates and deletes them as any other ref
    git(repo, "update-ref", "-d", "refs/gitsess/remotes/o/sessions/s007", oid)
    git(repo, "pack-refs", "--all")
    names = git(repo, "for-each-ref", "--format=%(refname)", "refs/gitsess/").splitlines()
    assert len(names) == 49 and "refs/gitsess/remotes/o/sessions/s007" not in names


def test_nothing_is_written_when_one_exists(repo: Path) -> None:
    oid = commit(repo)
    git(repo, "update-ref", "refs/x/taken", oid)
    before = (
        (repo / ".git" / "packed-refs").read_bytes()
        if (repo / ".git" / "packed-refs").exists()
        else b""
    )
    refs = {f"refs/x/n{n}": oid for n in range(40)} | {"refs/x/taken": oid}
    assert not packed.create(str(repo / ".git"), refs)
    assert not Repository(repo).create_refs(refs, "test")  # update-ref refuses too
    after = (
        (repo / ".git" / "packed-refs").read_bytes()
        if (repo / ".git" / "packed-refs").exists()
        else b""
    )
    assert after == before
    assert git(repo, "for-each-ref", "refs/x/n1") == ""


@pytest.mark.parametrize(
    ("existing", "new"),
    [("refs/y/a", "refs/y/a/b"), ("refs/y/a/b", "refs/y/a")],
    ids=["file-above", "folder-below"],
)
def test_a_ref_folder_conflict_writes_nothing(repo: Path, existing: str, new: str) -> None:
    oid = commit(repo)
    git(repo, "update-ref", existing, oid)
    for layout in ("loose", "packed"):
        if layout == "packed":
            git(repo, "pack-refs", "--all")
        assert not packed.create(str(repo / ".git"), {new: oid})
    assert not packed.create(str(repo / ".git"), {"refs/z/a": oid, "refs/z/a/b": oid})
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/z/") == ""


def test_a_held_lock_writes_nothing(repo: Path) -> None:
    oid = commit(repo)
    lock = repo / ".git" / "packed-refs.lock"
    lock.write_bytes(b"")
    try:
        assert not packed.create(str(repo / ".git"), {"refs/w/a": oid})
        assert lock.exists()  # another writer's lock is left alone
    finally:
        os.unlink(lock)
    assert packed.create(str(repo / ".git"), {"refs/w/a": oid})
    assert not lock.exists()
    assert git(repo, "rev-parse", "refs/w/a") == oid


def test_names_gitsess_does_not_make_go_through_update_ref(repo: Path) -> None:
    oid = commit(repo)
    for name in ("refs/a..b/c", "refs/.hidden/x", "refs/x.lock", "refs/sp ace", "HEAD"):
        assert not packed.create(str(repo / ".git"), {name: oid})
