"""The sharing side of the command line, as a user meets it: `push` of the current session,
and `push` and `fetch` taking the remote the same ways.

Real bare remotes, real `git clone`s and a real `git daemon`; the installed `gitsess` runs
in a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Result, fsck, git, make_repo, run_cli, session_ids
from .remotes import git_daemon

CACHE = Path(".git") / "gitsess" / "remote-sessions.json"


def gs(repo: Path, *args: str) -> Result:
    return run_cli(repo, *args)


def ok(repo: Path, *args: str) -> Result:
    result = run_cli(repo, *args)
    assert result.code == 0, (args, result.err)
    return result


def new_session(repo: Path, title: str, checkout: bool = True) -> str:
    args = ["new", title, "--json"] + ([] if checkout else ["--no-checkout"])
    sid = str(ok(repo, *args).json()["id"])
    ok(repo, "record", sid, "--role", "user", f"about {title}")
    return sid


def on_remote(bare: Path) -> list[str]:
    return session_ids(bare)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A bare repository holding one commit on main (served by path, or by `git daemon`
    from tmp_path/served)."""
    root = tmp_path / "served"
    root.mkdir()
    path = root / "origin.git"
    git(root, "init", "-q", "--bare", str(path))
    seed = make_repo(tmp_path / "seed")
    git(seed, "push", "-q", str(path), "main")
    return path


@pytest.fixture
def alice(bare: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "alice"
    git(tmp_path, "clone", "-q", str(bare), str(path))
    yield path
    fsck(path)


def fresh_clone(url: str, path: Path) -> Path:
    git(path.parent, "clone", "-q", url, str(path))
    return path


# -- 1. push with no SESSION pushes the current session ---------------------------------


def test_push_without_a_session_pushes_the_current_one(alice: Path, bare: Path) -> None:
    other = new_session(alice, "Not this one", checkout=False)
    current = new_session(alice, "Dark mode")
    pushed = ok(alice, "push")
    assert f"Pushed {current} to " in pushed.out
    assert on_remote(bare) == [current], "only the checked-out session goes"
    assert other not in on_remote(bare)


def test_push_without_a_session_outside_a_session_branch_names_the_ways_out(
    alice: Path, bare: Path
) -> None:
    new_session(alice, "Elsewhere", checkout=False)
    refused = gs(alice, "push")
    assert refused.code == 2
    lines = refused.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gitsess: no current session"), refused.err
    assert "name a SESSION" in lines[0] and "--all" in lines[0]
    assert refused.out == "" and on_remote(bare) == []


def test_push_all_with_sessions_named_is_bad_usage(alice: Path) -> None:
    sid = new_session(alice, "Both")
    both = gs(alice, "push", "--all", sid)
    assert both.code == 2 and "not both" in both.err


# -- 2. push and fetch take the remote the same ways ------------------------------------


def test_push_takes_the_remote_as_git_does_or_as_an_option(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    first = new_session(alice, "First", checkout=False)
    second = new_session(alice, "Second", checkout=False)
    third = new_session(alice, "Third")
    ok(alice, "push", "origin", first)  # git's order: remote, then what to push
    assert on_remote(bare) == [first]
    ok(alice, "push", "-r", "origin", second)  # the old form
    ok(alice, "push", "origin")  # the remote alone: the current session
    assert sorted(on_remote(bare)) == sorted([first, second, third])
    # A path to a repository stands where a remote name does, as in `git push ../x.git`.
    other = tmp_path / "other.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    ok(alice, "push", str(other), first)
    ok(alice, "push", first, "--remote", str(other), "--json")
    assert on_remote(other) == [first]


def test_fetch_takes_the_remote_as_push_does(alice: Path, bare: Path, tmp_path: Path) -> None:
    one = new_session(alice, "One", checkout=False)
    two = new_session(alice, "Two", checkout=False)
    three = new_session(alice, "Three", checkout=False)
    ok(alice, "push", one, two, three)
    bob = fresh_clone(str(bare), tmp_path / "bob")
    ok(bob, "fetch", "--remote", "origin", one)
    assert session_ids(bob) == [one]
    ok(bob, "fetch", two)  # no remote named: the default one (origin)
    assert sorted(session_ids(bob)) == sorted([one, two])
    ok(bob, "fetch", "origin", three[:6])  # the old form, with a prefix
    assert sorted(session_ids(bob)) == sorted([one, two, three])
    carol = fresh_clone(str(bare), tmp_path / "carol")
    ok(carol, "fetch", "origin")  # the old form: everything
    assert sorted(session_ids(carol)) == sorted([one, two, three])
    dave = fresh_clone(str(bare), tmp_path / "dave")
    fetched = ok(dave, "fetch", "-r", str(bare), "--json").json()
    assert sorted(fetched["sessions"]) == sorted([one, two, three])


def test_a_first_argument_that_is_a_remote_and_a_session_is_ambiguous(
    alice: Path, bare: Path
) -> None:
    sid = new_session(alice, "origin")
    for command in ("push", "fetch"):
        refused = gs(alice, command, "origin")
        assert refused.code == 2, (command, refused.err)
        lines = refused.err.splitlines()
        assert len(lines) == 1 and "ambiguous" in lines[0], refused.err
        assert "--remote origin" in lines[0]
    assert on_remote(bare) == []
    ok(alice, "push", "--remote", "origin", "origin")  # the way out it names
    assert on_remote(bare) == [sid]
    ok(alice, "fetch", "--remote", "origin", sid)


def test_push_and_fetch_default_to_the_same_remote(alice: Path, tmp_path: Path) -> None:
    team = tmp_path / "team.git"
    git(tmp_path, "init", "-q", "--bare", str(team))
    git(alice, "remote", "add", "team", str(team))
    git(alice, "config", "gitsess.remote", "team")
    sid = new_session(alice, "Teamwork")
    assert "team.git" in ok(alice, "push").out
    assert on_remote(team) == [sid]
    # Another clone whose session branch tracks `team`: fetching a session by name goes
    # there, as pushing it would.
    bob = make_repo(tmp_path / "bob")
    git(bob, "remote", "add", "team", str(team))
    git(bob, "remote", "add", "origin", str(tmp_path / "nowhere.git"))
    git(bob, "config", "gitsess.remote", "team")
    fetched = ok(bob, "fetch", sid)
    assert "team.git" in fetched.out and session_ids(bob) == [sid]
    # Without gitsess.remote, the upstream remote of the session's branch decides, for
    # both.
    git(alice, "config", "--unset", "gitsess.remote")
    branch = git(alice, "branch", "--show-current")
    git(alice, "config", f"branch.{branch}.remote", "team")
    ok(alice, "record", "--role", "user", "more")
    assert "team.git" in ok(alice, "push").out
    git(alice, "switch", "-q", "main")
    assert "team.git" in ok(alice, "fetch", sid).out
    assert "team.git" in ok(alice, "push", sid).out


def test_both_help_texts_state_the_default_remote(alice: Path) -> None:
    for command in ("push", "fetch"):
        shown = ok(alice, command, "--help").out
        flat = " ".join(shown.split())
        assert "--remote" in flat and "[REMOTE] [SESSION]..." in flat, flat
        assert "gitsess.remote" in flat and "upstream remote" in flat and "origin" in flat


def test_fetch_of_a_url_as_first_argument_through_git_daemon(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    sid = new_session(alice, "Served")
    ok(alice, "push")
    with git_daemon(bare.parent) as base:
        bob = make_repo(tmp_path / "bob")
        fetched = ok(bob, "fetch", f"{base}/origin.git", sid)
        assert "1 new" in fetched.out and session_ids(bob) == [sid]
