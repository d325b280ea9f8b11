"""What `push` says: per session, what was sent (log entries, branch commits), what was
refused, and what to do about it; exit 1 when anything was refused. A real bare remote,
two clones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import fsck, git


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A bare repository holding one commit on main."""
    path = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(path))
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", str(seed))
    (seed / "app.txt").write_text("v1\n")
    git(seed, "add", "app.txt")
    git(seed, "commit", "-q", "-m", "initial")
    git(seed, "push", "-q", str(path), "main")
    return path


def clone(bare: Path, path: Path) -> Iterator[Path]:
    git(path.parent, "clone", "-q", str(bare), str(path))
    yield path
    fsck(path)


@pytest.fixture
def alice(bare: Path, tmp_path: Path) -> Iterator[Path]:
    yield from clone(bare, tmp_path / "alice")


@pytest.fixture
def bob(bare: Path, tmp_path: Path) -> Iterator[Path]:
    yield from clone(bare, tmp_path / "bob")


def commit(repo: Path, name: str) -> str:
    (repo / name).write_text(name + "\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"Add {name}")
    return git(repo, "rev-parse", "HEAD")


def on_remote(bare: Path, ref: str) -> str:
    return git(bare, "rev-parse", "--verify", "-q", ref, check=False)


def test_push_reports_what_each_session_sent(gs, alice: Path, bare: Path) -> None:
    made = gs("new", "Reported", "--json", cwd=alice).json()
    sid, branch = made["id"], made["branch"]
    gs("record", "--role", "user", "first", cwd=alice)
    first = gs("push", sid, cwd=alice)
    assert first.code == 0, first.err
    assert first.out == (
        f"Pushed {sid} to {bare}: log: created, 1 entry; branch {branch}: created.\n"
    )
    # New code commits and nothing new in the log: the branch is what was sent.
    commit(alice, "one.txt")
    tip = commit(alice, "two.txt")
    pushed = gs("push", sid, cwd=alice)
    assert pushed.code == 0, pushed.err
    assert pushed.out == (
        f"Pushed {sid} to {bare}: log: up to date; branch {branch}: 2 new commits.\n"
    )
    assert on_remote(bare, f"refs/heads/{branch}") == tip
    # New entries and no new commits.
    for text in ("a", "b", "c"):
        gs("record", "--role", "user", text, cwd=alice)
    detail = gs("push", sid, "--json", cwd=alice).json()
    assert detail["pushed"] == [sid] and detail["up_to_date"] == [] and detail["rejected"] == {}
    assert detail["sessions"][sid] == {
        "log": {"result": "sent", "entries": 3},
        "branch": {"name": branch, "result": "up to date", "commits": 0},
        "refused": [],
    }
    assert on_remote(bare, f"refs/sessions/{sid}") == git(
        alice, "rev-parse", f"refs/sessions/{sid}"
    )
    again = gs("push", sid, cwd=alice)
    assert (again.code, again.out, again.err) == (0, f"Up to date on {bare}: {sid}.\n", "")


def test_a_diverged_branch_is_refused_with_what_to_do(
    gs, alice: Path, bob: Path, bare: Path
) -> None:
    made = gs("new", "Both of us", "--json", cwd=alice).json()
    sid, branch = made["id"], made["branch"]
    assert gs("push", sid, cwd=alice).code == 0
    assert gs("fetch", cwd=bob).code == 0
    assert gs("resume", sid, cwd=bob).code == 0
    theirs = commit(bob, "bob.txt")
    assert gs("push", sid, cwd=bob).code == 0
    commit(alice, "alice.txt")  # the same branch moved on both sides
    refused = gs("push", sid, cwd=alice)
    assert refused.code == 1
    assert "Up to date" not in refused.out and sid not in refused.out
    (line,) = refused.err.strip().splitlines()
    assert line.startswith(f"gitsess: {sid}: branch {branch} not pushed: it has diverged")
    assert f"git pull --rebase origin {branch}" in line and f"gitsess push {sid}" in line
    assert on_remote(bare, f"refs/heads/{branch}") == theirs  # nothing was forced
    as_json = gs("push", sid, "--json", cwd=alice)
    assert as_json.code == 1
    document = as_json.json()
    assert document["pushed"] == [] and document["up_to_date"] == []
    assert document["rejected"][sid].startswith(f"branch {branch} not pushed")
    assert document["sessions"][sid]["log"] == {"result": "up to date", "entries": 0}
    assert document["sessions"][sid]["branch"] == {
        "name": branch,
        "result": "rejected",
        "commits": 0,
    }
    # Doing what it says works.
    git(alice, "pull", "-q", "--rebase", "origin", branch)
    followed = gs("push", sid, cwd=alice)
    assert followed.code == 0, followed.err
    assert f"branch {branch}: 1 new commit." in followed.out
    assert on_remote(bare, f"refs/heads/{branch}") == git(alice, "rev-parse", "HEAD")


def test_a_log_behind_the_remote_says_fetch_and_the_rest_still_reports(
    gs, alice: Path, bob: Path, bare: Path
) -> None:
    made = gs("new", "Shared log", "--json", cwd=alice).json()
    sid, branch = made["id"], made["branch"]
    assert gs("push", sid, cwd=alice).code == 0
    assert gs("fetch", cwd=bob).code == 0
    gs("record", sid, "--role", "user", "from bob", cwd=bob)
    assert gs("push", sid, cwd=bob).code == 0
    gs("record", sid, "--role", "user", "from alice", cwd=alice)
    tip = commit(alice, "code.txt")
    result = gs("push", sid, cwd=alice)
    assert result.code == 1
    # The branch went; the log did not, and the message says why and what to do.
    assert result.out == f"Pushed {sid} to {bare}: log: rejected; branch {branch}: 1 new commit.\n"
    (line,) = result.err.strip().splitlines()
    assert line == (
        f"gitsess: {sid}: log not pushed: the remote has entries you do not have: "
        "run `gitsess fetch`, then push again"
    )
    assert on_remote(bare, f"refs/heads/{branch}") == tip
    assert gs("fetch", cwd=alice).code == 0
    merged = gs("push", sid, cwd=alice)
    assert merged.code == 0, merged.err
    assert merged.out == f"Pushed {sid} to {bare}: log: 1 new entry; branch {branch}: up to date.\n"
