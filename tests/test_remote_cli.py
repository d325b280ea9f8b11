"""The sharing side of the command line, as a user meets it: `push` of the current session,
`push` and `fetch` taking the remote the same ways, the hint a fresh clone gets when its
remote has sessions, and what `delete` says about a session a remote still has.

Real bare remotes, real `git clone`s, a real `git daemon`, and servers that refuse or
never answer; the installed `gitsess` runs in a subprocess (a pty where a terminal matters).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from .conftest import Result, fsck, git, gitsess_exe, make_repo, run_cli, session_ids
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
    assert "HEAD is on main" in lines[0] and "name one" in lines[0] and "--all" in lines[0]
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


def test_a_path_as_first_argument_is_a_remote_even_when_nothing_is_there(
    alice: Path, tmp_path: Path
) -> None:
    missing = str(tmp_path / "gone" / "repo")
    failed = gs(alice, "fetch", missing)
    assert failed.code == 1 and f"fetch from {missing} failed" in failed.err, failed.err


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


# -- 3. a fresh clone hears that its remote has sessions --------------------------------


def test_a_fresh_clone_hears_its_remote_has_sessions(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    one = new_session(alice, "One", checkout=False)
    two = new_session(alice, "Two", checkout=False)
    ok(alice, "push", one, two)
    bob = fresh_clone(str(bare), tmp_path / "bob")
    listed = ok(bob, "list")
    assert listed.out.strip() == "No sessions yet. Start one with: gitsess new TITLE"
    assert listed.err.splitlines() == [
        "gitsess: origin has 2 sessions not fetched here: run `gitsess fetch` to get them"
    ]
    as_json = ok(bob, "list", "--json")
    assert as_json.out.strip() == "[]" and as_json.err == ""
    missing = gs(bob, "show", "nosuch")
    assert missing.code == 2
    assert missing.err.splitlines() == [
        "gitsess: no session matches 'nosuch' (origin has 2 sessions not fetched here: "
        "run `gitsess fetch`)"
    ]
    ok(bob, "fetch")
    after = ok(bob, "list")
    assert one in after.out and two in after.out and after.err == ""
    gone = gs(bob, "show", "nosuch")
    assert gone.err.splitlines() == ["gitsess: no session matches 'nosuch'"]


def test_the_hint_counts_only_what_a_fetch_would_bring(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    one = new_session(alice, "One", checkout=False)
    two = new_session(alice, "Two", checkout=False)
    ok(alice, "push", one, two)
    bob = fresh_clone(str(bare), tmp_path / "bob")
    mine = new_session(bob, "Mine")
    assert "origin has 2 sessions" in gs(bob, "show", "nosuch").err
    # A fetch forgets the kept answer: the next lookup asks again and counts the rest.
    ok(bob, "fetch", "origin", one)
    assert "origin has 1 session not fetched here" in gs(bob, "show", "nosuch").err
    # A session deleted here after it was fetched is no reason to fetch.
    ok(bob, "fetch")
    ok(bob, "delete", two)
    assert gs(bob, "show", "nosuch").err.splitlines() == ["gitsess: no session matches 'nosuch'"]
    assert mine in session_ids(bob)


def test_the_answer_is_kept_for_minutes_and_a_fetch_forgets_it(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    one = new_session(alice, "One", checkout=False)
    ok(alice, "push", one)
    bob = fresh_clone(str(bare), tmp_path / "bob")
    assert "origin has 1 session" in ok(bob, "list").err
    two = new_session(alice, "Two", checkout=False)
    ok(alice, "push", two)
    assert "origin has 1 session" in ok(bob, "list").err, "a kept answer: no new check"
    kept = json.loads((bob / CACHE).read_text())
    kept["checked"] -= 3600  # an hour old: asked again
    (bob / CACHE).write_text(json.dumps(kept))
    assert "origin has 2 sessions" in ok(bob, "list").err
    ok(bob, "fetch", "origin", one)
    assert not (bob / CACHE).exists()


def test_a_fresh_clone_from_git_daemon_hears_it_too(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    sid = new_session(alice, "Over the daemon")
    ok(alice, "push")
    with git_daemon(bare.parent) as base:
        bob = fresh_clone(f"{base}/origin.git", tmp_path / "bob")
        assert ok(bob, "list").err.splitlines() == [
            "gitsess: origin has 1 session not fetched here: run `gitsess fetch` to get them"
        ]
        ok(bob, "fetch")
        assert session_ids(bob) == [sid]
    # The daemon is gone: the clone's remote is unreachable. No hint, no failure.
    carol = fresh_clone(str(bare), tmp_path / "carol")
    git(carol, "remote", "set-url", "origin", f"{base}/origin.git")
    listed = ok(carol, "list")
    assert listed.err == "" and "No sessions yet" in listed.out
    missing = gs(carol, "show", "nosuch")
    assert missing.err.splitlines() == ["gitsess: no session matches 'nosuch'"]


def test_telling_a_remote_from_a_session_asks_no_remote(alice: Path) -> None:
    """`push origin` looks `origin` up as a session too; that probe is no failed lookup."""
    new_session(alice, "Probed")
    ok(alice, "push", "origin")
    assert not (alice / CACHE).exists()
    assert "not fetched here" not in gs(alice, "show", "nosuch").err
    assert (alice / CACHE).exists(), "a failed lookup does ask"


def test_no_remote_no_hint_and_no_failure(repo: Path, tmp_path: Path) -> None:
    listed = ok(repo, "list")
    assert listed.err == ""
    git(repo, "remote", "add", "origin", str(tmp_path / "missing.git"))
    listed = ok(repo, "list")
    assert listed.err == ""
    assert gs(repo, "show", "nosuch").err.splitlines() == ["gitsess: no session matches 'nosuch'"]
    git(repo, "config", "gitsess.remote", "nonesuch")  # names no remote at all
    assert ok(repo, "list").err == ""


class SilentServer:
    """A TCP server that accepts connections and never answers: a remote that hangs.
    Counts the connections, to show who asked it and how often."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    @property
    def asked(self) -> int:
        return len(self.connections)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_a_remote_that_never_answers_costs_one_bounded_check(
    repo: Path, silent: SilentServer
) -> None:
    git(repo, "remote", "add", "origin", f"git://127.0.0.1:{silent.port}/origin.git")
    listed = ok(repo, "list")
    assert listed.err == "" and silent.asked == 1
    # The unanswered check is kept: the next commands do not wait on it again.
    assert ok(repo, "list").err == ""
    assert gs(repo, "show", "nosuch").err.splitlines() == ["gitsess: no session matches 'nosuch'"]
    assert silent.asked == 1


def test_the_hot_paths_never_ask_the_remote(repo: Path, silent: SilentServer) -> None:
    git(repo, "remote", "add", "origin", f"git://127.0.0.1:{silent.port}/origin.git")
    sid = new_session(repo, "Hot")
    for args in (
        ["status"],
        ["status", "--json"],
        ["list", "--json"],
        ["list", "--json", "--all"],
        ["record", "nosuch", "--role", "user", "hi"],  # a failed lookup, answered in quick.py
        ["record", "nosuch", "--jsonl", "-"],  # ...and through click
        ["record", "--role", "user", "hi"],
    ):
        result = run_cli(repo, *args, stdin=b"")
        assert "not fetched here" not in result.err, (args, result.err)
    git(repo, "switch", "-q", "main")
    ok(repo, "list", "--json")
    assert silent.asked == 0, "a hot path asked the remote"
    ok(repo, "archive", sid)  # no session listed any more: `list` asks, once
    ok(repo, "list")
    assert silent.asked == 1


def test_gitsess_remote_hint_false_turns_the_check_off(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    ok(alice, "push", new_session(alice, "Quiet", checkout=False))
    bob = fresh_clone(str(bare), tmp_path / "bob")
    git(bob, "config", "gitsess.remoteHint", "false")
    assert ok(bob, "list").err == ""
    assert not (bob / CACHE).exists()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def password_server() -> Iterator[str]:
    """Smart HTTP that wants a password for everything, as a private repository does."""

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        start("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="private"')])
        return [b"authentication required\n"]

    server = make_server("127.0.0.1", 0, app, WSGIServer, _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/private.git"
    finally:
        server.shutdown()
        server.server_close()


def run_in_terminal(cwd: Path, *args: str) -> tuple[int, str]:
    """Run gitsess with a real terminal as its controlling terminal (where git would ask
    for a password). A prompt, or no end after a minute, fails the test."""
    program = gitsess_exe()
    pid, fd = pty.fork()
    if pid == 0:  # the child: gitsess on the terminal
        try:
            os.chdir(cwd)
            os.execv(program, ["gitsess", *args])
        finally:
            os._exit(127)
    try:
        output = _read_terminal(fd, args)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def _read_terminal(fd: int, args: tuple[str, ...]) -> bytes:
    output = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            raise AssertionError(f"gitsess {args} waits on something: {output!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal closed: gitsess ended
            return output
        if not chunk:
            return output
        output += chunk
        if re.search(rb"(Username|Password) for", output):
            raise AssertionError(f"gitsess {args} asked for a password: {output!r}")


def test_a_remote_that_wants_a_password_gets_no_prompt(repo: Path) -> None:
    with password_server() as url:
        git(repo, "remote", "add", "origin", url)
        code, shown = run_in_terminal(repo, "list")
        assert code == 0, shown
        assert "No sessions yet" in shown and "not fetched here" not in shown
        code, shown = run_in_terminal(repo, "show", "nosuch")
        assert code == 2 and "no session matches 'nosuch'" in shown, shown


# -- 4. delete of a session a remote still has ---------------------------------------------


def removal_commands(note: str) -> list[list[str]]:
    return [cmd.split() for cmd in re.findall(r"`(git push [^`]+)`", note)]


def test_delete_of_a_pushed_session_says_how_to_remove_it_there(alice: Path, bare: Path) -> None:
    sid = new_session(alice, "Pushed")
    branch = git(alice, "branch", "--show-current")
    ok(alice, "push")
    git(alice, "switch", "-q", "main")
    deleted = ok(alice, "delete", sid)
    assert f"Deleted session {sid}" in deleted.out
    notes = deleted.err.splitlines()
    assert len(notes) == 1 and notes[0].startswith(
        f"gitsess: note: origin still has session {sid}: remove it there with "
        f"`git push origin --delete refs/sessions/{sid}`"
    ), deleted.err
    commands = removal_commands(notes[0])
    assert commands == [
        ["git", "push", "origin", "--delete", f"refs/sessions/{sid}"],
        ["git", "push", "origin", "--delete", branch],
    ]
    for command in commands:  # the commands it gives do what it says
        git(alice, *command[1:])
    assert on_remote(bare) == []
    assert git(bare, "branch", "--list", branch) == ""


def test_delete_of_a_fetched_session_gives_one_command_for_log_and_branch(
    alice: Path, bare: Path, tmp_path: Path
) -> None:
    sid = new_session(alice, "Shared")
    branch = git(alice, "branch", "--show-current")
    ok(alice, "push")
    bob = fresh_clone(str(bare), tmp_path / "bob")
    ok(bob, "fetch")
    deleted = ok(bob, "delete", sid, "--json")
    assert json.loads(deleted.out)["deleted"] == sid
    assert deleted.err.splitlines() == [
        f"gitsess: note: origin still has session {sid}: remove it there with "
        f"`git push origin --delete refs/sessions/{sid} {branch}`"
    ]
    (command,) = removal_commands(deleted.err)
    git(bob, *command[1:])
    assert on_remote(bare) == [] and git(bare, "branch", "--list", branch) == ""


def test_delete_of_a_private_session_says_nothing_of_remotes(alice: Path) -> None:
    sid = new_session(alice, "Private")
    deleted = ok(alice, "delete", sid)
    assert deleted.err == ""
