"""Sharing through real remotes: a bare repository by path, `git daemon`, smart HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import fsck, git, session_ids
from .remotes import git_daemon, http_server


@pytest.fixture(params=["file", "daemon", "http"])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A bare repository holding one commit on main, served by each transport in turn."""
    root = tmp_path / "served"
    root.mkdir()
    bare = root / "remote.git"
    git(root, "init", "-q", "--bare", str(bare))
    git(bare, "config", "http.receivepack", "true")
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", str(seed))
    (seed / "app.txt").write_text("v1\n")
    git(seed, "add", "app.txt")
    git(seed, "commit", "-q", "-m", "initial")
    git(seed, "push", "-q", str(bare), "main")
    if request.param == "file":
        yield str(bare)
    elif request.param == "daemon":
        with git_daemon(root) as base:
            yield f"{base}/remote.git"
    else:
        with http_server(root) as base:
            yield f"{base}/remote.git"


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    return tmp_path / "served" / "remote.git"


def clone(url: str, path: Path) -> Path:
    git(path.parent, "clone", "-q", url, str(path))
    return path


@pytest.fixture
def alice(remote_url: str, tmp_path: Path) -> Iterator[Path]:
    path = clone(remote_url, tmp_path / "alice")
    yield path
    fsck(path)


@pytest.fixture
def bob(remote_url: str, tmp_path: Path) -> Iterator[Path]:
    path = clone(remote_url, tmp_path / "bob")
    yield path
    fsck(path)


def contents(gs, repo: Path, session: str) -> list[str]:
    return [e.get("content") for e in gs("show", session, "--json", cwd=repo).json()["entries"]]


def test_push_then_fetch_in_another_clone(gs, alice: Path, bob: Path, bare: Path) -> None:
    made = gs("new", "Add dark mode", "--json", cwd=alice).json()
    sid = made["id"]
    gs("record", "--role", "user", "Add a dark mode", cwd=alice)
    (alice / "dark.css").write_text("body{}\n")
    git(alice, "add", "dark.css")
    git(alice, "commit", "-q", "-m", "dark mode")
    pushed = gs("push", sid, cwd=alice)
    assert pushed.code == 0, pushed.err
    assert f"Pushed {sid}" in pushed.out
    assert gs("show", sid, "--json", cwd=alice).json()["session"]["visibility"] == "shared"
    remote_refs = git(bare, "for-each-ref", "--format=%(refname)")
    assert f"refs/sessions/{sid}" in remote_refs and f"refs/heads/{made['branch']}" in remote_refs

    fetched = gs("fetch", cwd=bob)
    assert fetched.code == 0, fetched.err
    assert f"new  {sid}" in fetched.out
    assert [row["id"] for row in gs("list", "--json", cwd=bob).json()] == [sid]
    assert contents(gs, bob, sid) == ["Add a dark mode"]
    # Fetched logs land in a namespace of their own, not among remote branches.
    assert git(bob, "for-each-ref", "--format=%(refname)", "refs/gitsess/remotes/origin/sessions/")
    assert not git(bob, "for-each-ref", "refs/remotes/origin/sessions/")
    resumed = gs("resume", sid, cwd=bob)
    assert resumed.code == 0, resumed.err
    assert "Branch created from origin/" in resumed.out
    assert (bob / "dark.css").exists()
    assert git(bob, "rev-parse", "--abbrev-ref", "@{upstream}") == f"origin/{made['branch']}"
    again = gs("fetch", "--json", cwd=bob).json()
    assert again["sessions"] == {sid: "up to date"}


def test_two_clones_append_concurrently_and_converge(gs, alice: Path, bob: Path) -> None:
    sid = gs("new", "Shared", "--json", cwd=alice).json()["id"]
    gs("record", "--role", "user", "start", cwd=alice)
    gs("push", sid, cwd=alice)
    gs("fetch", cwd=bob)
    for round_ in range(3):
        gs("record", sid, "--role", "user", f"alice {round_}", cwd=alice)
        gs("record", sid, "--role", "user", f"bob {round_}", cwd=bob)
        assert gs("push", sid, cwd=alice).code == 0
        rejected = gs("push", sid, cwd=bob)
        assert rejected.code == 1
        assert "gitsess fetch" in rejected.err and len(rejected.err.strip().splitlines()) == 1
        assert gs("fetch", cwd=bob).code == 0
        assert gs("push", sid, cwd=bob).code == 0  # now a fast-forward
        assert gs("fetch", cwd=alice).code == 0
        assert contents(gs, alice, sid) == contents(gs, bob, sid)
        assert log_head(alice, sid) == log_head(bob, sid)
    expected = ["start"] + [f"{who} {r}" for r in range(3) for who in ("alice", "bob")]
    assert contents(gs, alice, sid) == expected
    # Fetching twice changes nothing.
    before = log_head(alice, sid)
    assert gs("fetch", "--json", cwd=alice).json()["sessions"] == {sid: "up to date"}
    assert log_head(alice, sid) == before


def log_head(repo: Path, sid: str) -> str:
    return git(repo, "rev-parse", f"refs/sessions/{sid}")


def test_whoever_merges_the_result_is_the_same(gs, alice: Path, bob: Path) -> None:
    sid = gs("new", "Race", "--json", cwd=alice).json()["id"]
    gs("push", sid, cwd=alice)
    gs("fetch", cwd=bob)
    gs("record", sid, "--role", "user", "a1", cwd=alice)
    gs("record", sid, "--role", "user", "b1", cwd=bob)
    gs("record", sid, "--role", "user", "a2", cwd=alice)
    # Each merges the other's copy, by path, without going through the shared remote.
    git(alice, "remote", "add", "bob", str(bob))
    git(bob, "remote", "add", "alice", str(alice))
    gs("push", sid, "--remote", "origin", cwd=bob)  # bob's branch and log reach origin
    assert gs("fetch", "bob", cwd=alice).code == 0
    assert gs("fetch", "alice", cwd=bob).code == 0
    assert contents(gs, alice, sid) == contents(gs, bob, sid) == ["a1", "b1", "a2"]


def test_plain_git_fetch_then_any_command_merges(gs, alice: Path, bob: Path) -> None:
    sid = gs("new", "Via plain git", "--json", cwd=alice).json()["id"]
    gs("record", "--role", "user", "one", cwd=alice)
    gs("push", sid, cwd=alice)
    setup = gs("remote", "setup", cwd=bob)
    assert setup.code == 0 and "now also fetches sessions" in setup.out
    assert "already" in gs("remote", "setup", "origin", cwd=bob).out
    git(bob, "fetch", "-q")
    assert session_ids(bob) == []  # git fetched into the tracking namespace only
    assert [row["id"] for row in gs("list", "--json", cwd=bob).json()] == [sid]
    gs("record", sid, "--role", "user", "two", cwd=alice)
    gs("push", sid, cwd=alice)
    gs("record", sid, "--role", "assistant", "bob's", cwd=bob)
    git(bob, "fetch", "-q")
    assert contents(gs, bob, sid) == ["one", "two", "bob's"]


def test_private_sessions_stay_home(gs, alice: Path, bare: Path) -> None:
    shared = gs("new", "Shared", "--no-checkout", "--json", cwd=alice).json()["id"]
    private = gs("new", "Private", "--no-checkout", "--json", cwd=alice).json()["id"]
    assert gs("push", shared, cwd=alice).code == 0
    gs("record", shared, "--role", "user", "more", cwd=alice)
    gs("record", private, "--role", "user", "secret plans", cwd=alice)
    result = gs("push", "--all", "--json", cwd=alice)
    assert result.code == 0
    assert result.json()["pushed"] == [shared]
    remote_sessions = git(bare, "for-each-ref", "--format=%(refname:strip=2)", "refs/sessions/")
    assert remote_sessions.splitlines() == [shared]
    assert gs("show", private, "--json", cwd=alice).json()["session"]["visibility"] == "private"


def test_push_and_fetch_usage(gs, alice: Path) -> None:
    assert gs("push", cwd=alice).code == 2
    nothing = gs("push", "--all", cwd=alice)
    assert nothing.code == 0 and "No shared sessions" in nothing.out


def test_remote_without_sessions(gs, bob: Path) -> None:
    result = gs("fetch", cwd=bob)
    assert result.code == 0 and result.out.startswith("No sessions on")


def test_fetch_a_named_session_that_is_not_there(gs, bob: Path) -> None:
    result = gs("fetch", "origin", "abcd", cwd=bob)
    assert result.code == 2 and "no session 'abcd'" in result.err
