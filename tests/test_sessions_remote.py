"""A separate sessions remote (`git config gitsess.sessionsRemote NAME`): session logs go
to and come from it, while session branches go with the code to their usual remote.

Two real bare remotes per test: `code.git` (the clones' origin, holding main) and
`sessions.git` (added as the remote `sessions`). The installed gitsess runs in a
subprocess; what is checked is what each remote really holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import Result, fsck, git, git_proc, hash_blob, log_lines, make_repo, meta, run_cli
from .remotes import git_daemon
from .test_hostile_remote import deep_meta, entry_line, mate_meta, plumb

MATE_ID = "m4teabcdef"


@dataclass
class Team:
    code: Path  # the bare code remote (origin)
    logs: Path  # the bare sessions remote
    root: Path  # where clones go

    def clone(self, name: str, sessions_remote: str = "sessions") -> Path:
        path = self.root / name
        git(self.root, "clone", "-q", str(self.code), str(path))
        git(path, "remote", "add", sessions_remote, str(self.logs))
        git(path, "config", "gitsess.sessionsRemote", sessions_remote)
        return path


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    served = tmp_path / "served"
    served.mkdir()
    code, logs = served / "code.git", served / "sessions.git"
    for bare in (code, logs):
        git(served, "init", "-q", "--bare", str(bare))
    seed = make_repo(tmp_path / "seed")
    git(seed, "push", "-q", str(code), "main")
    yield Team(code, logs, tmp_path)
    for clone in tmp_path.iterdir():
        if (clone / ".git").is_dir():
            fsck(clone)


@pytest.fixture
def alice(team: Team) -> Path:
    return team.clone("alice")


@pytest.fixture
def bob(team: Team) -> Path:
    return team.clone("bob")


def gs(repo: Path, *args: str) -> Result:
    return run_cli(repo, *args)


def ok(repo: Path, *args: str) -> Result:
    result = gs(repo, *args)
    assert result.code == 0, (args, result.out, result.err)
    return result


def refs(bare: Path, prefix: str = "refs/") -> dict[str, str]:
    out = git(bare, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
    return {ref: oid for oid, ref in (line.split(" ", 1) for line in out.splitlines())}


def session_with_commit(repo: Path, title: str, file: str = "work.txt") -> dict[str, Any]:
    made: dict[str, Any] = ok(repo, "new", title, "--json").json()
    ok(repo, "record", made["id"], "--role", "user", f"about {title}")
    (repo / file).write_text(f"{title}\n")
    git(repo, "add", file)
    git(repo, "commit", "-q", "-m", title)
    return made


def contents(repo: Path, sid: str) -> list[Any]:
    return [e.get("content") for e in log_lines(repo, sid) if e.get("type") == "message"]


# -- push and fetch across the two remotes ------------------------------------------------


def test_push_sends_the_log_to_the_sessions_remote_and_the_branch_with_the_code(
    team: Team, alice: Path
) -> None:
    made = session_with_commit(alice, "Add dark mode")
    sid, branch = made["id"], made["branch"]
    pushed = ok(alice, "push")
    assert pushed.out == (
        f"Pushed {sid} to {team.logs} (logs) and {team.code} (branches): log: created, "
        f"1 entry; branch {branch}: created.\n"
    )
    # The code remote gets the branch and no session ref; the sessions remote the reverse.
    assert f"refs/heads/{branch}" in refs(team.code) and refs(team.code, "refs/sessions/") == {}
    assert refs(team.logs, "refs/sessions/") == {
        f"refs/sessions/{sid}": git(alice, "rev-parse", f"refs/sessions/{sid}")
    }
    assert refs(team.logs, "refs/heads/") == {}
    # Tracking refs stay per remote name; `git fetch sessions` now brings logs.
    assert list(refs(alice, "refs/gitsess/remotes/")) == [
        f"refs/gitsess/remotes/sessions/sessions/{sid}"
    ]
    assert "refs/sessions/" in git(alice, "config", "--get-all", "remote.sessions.fetch")
    assert "refs/sessions/" not in git(alice, "config", "--get-all", "remote.origin.fetch")
    again = ok(alice, "push", sid, "--json").json()
    assert again["remote"] == str(team.code) and again["sessions_remote"] == str(team.logs)
    assert again["up_to_date"] == [sid]
    assert again["sessions"][sid]["log"]["result"] == "up to date"
    assert again["sessions"][sid]["branch"] == {
        "name": branch,
        "result": "up to date",
        "commits": 0,
    }


@pytest.mark.parametrize("transport", ["file", "daemon"])
def test_a_teammate_hears_of_fetches_and_resumes_a_session_from_both_remotes(
    team: Team, alice: Path, transport: str
) -> None:
    made = session_with_commit(alice, "Add dark mode", "dark.css")
    sid, branch = made["id"], made["branch"]
    ok(alice, "push")
    if transport == "daemon":
        with git_daemon(team.code.parent) as base:
            bob = team.root / "bob"
            git(team.root, "clone", "-q", f"{base}/code.git", str(bob))
            git(bob, "remote", "add", "sessions", f"{base}/sessions.git")
            git(bob, "config", "gitsess.sessionsRemote", "sessions")
            _hear_fetch_resume(bob, sid, branch, f"{base}/sessions.git")
    else:
        _hear_fetch_resume(team.clone("bob"), sid, branch, str(team.logs))


def _hear_fetch_resume(bob: Path, sid: str, branch: str, logs_url: str) -> None:
    # Not here yet: the hint looks on the sessions remote (the code remote has no logs).
    missing = gs(bob, "resume", sid)
    assert missing.code == 2
    assert missing.err.strip() == (
        f"gitsess: no session matches {sid!r} (sessions has 1 session not fetched here: "
        "run `gitsess fetch`)"
    )
    fetched = ok(bob, "fetch", sid)
    assert f"new  {sid}" in fetched.out and logs_url in fetched.out
    assert git(bob, "rev-parse", f"refs/remotes/origin/{branch}")  # the branch came from origin
    resumed = ok(bob, "resume", sid)
    assert "Branch created from origin/" in resumed.out
    assert (bob / "dark.css").exists()
    assert git(bob, "rev-parse", "--abbrev-ref", "@{upstream}") == f"origin/{branch}"
    assert contents(bob, sid) == ["about Add dark mode"]


def test_fetch_of_everything_and_by_prefix(team: Team, alice: Path) -> None:
    first = session_with_commit(alice, "First", "one.txt")
    git(alice, "switch", "-q", "main")
    second = session_with_commit(alice, "Second", "two.txt")
    ok(alice, "push", first["id"], second["id"])

    bob = team.clone("bob")
    everything = ok(bob, "fetch")
    assert everything.out.splitlines()[0] == (
        f"Fetched from {team.logs} (logs) and {team.code} (branches): 2 new."
    )
    for made in (first, second):
        assert git(bob, "rev-parse", f"refs/remotes/origin/{made['branch']}")
    assert set(refs(bob, "refs/sessions/")) == {
        f"refs/sessions/{first['id']}",
        f"refs/sessions/{second['id']}",
    }

    carol = team.clone("carol")
    by_prefix = gs(carol, "fetch", first["id"][:6], "--json")
    assert by_prefix.code == 0, by_prefix.err
    answer = by_prefix.json()
    assert answer["sessions"] == {first["id"]: "new"}
    assert answer["remote"] == str(team.code) and answer["sessions_remote"] == str(team.logs)
    assert answer["missing_branches"] == [] and answer["branches_error"] is None
    assert git(carol, "rev-parse", f"refs/remotes/origin/{first['branch']}")
    assert list(refs(carol, "refs/sessions/")) == [f"refs/sessions/{first['id']}"]
    absent = "0000000000"
    missing = gs(carol, "fetch", absent)
    assert missing.code == 2
    assert missing.err == f"gitsess: no session {absent!r} on {team.logs}\n"


def test_fetching_one_session_asks_each_remote_about_its_refs_only(
    team: Team, alice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [ok(alice, "new", f"scale {n}", "--no-checkout", "--json").json()["id"] for n in range(3)]
    ok(alice, "push", *ids)
    bob = team.clone("bob")
    trace = tmp_path / "packets.txt"
    monkeypatch.setenv("GIT_TRACE_PACKET", str(trace))
    fetched = gs(bob, "fetch", ids[0])
    monkeypatch.delenv("GIT_TRACE_PACKET")
    assert fetched.code == 0, fetched.err
    branch = meta(alice, ids[0])["branch"]
    assert git(bob, "rev-parse", f"refs/remotes/origin/{branch}")
    packets = trace.read_text(errors="replace")
    assert f"ref-prefix refs/sessions/{ids[0]}" in packets  # asked of the sessions remote
    assert f"ref-prefix refs/heads/{branch}" in packets  # asked of the code remote
    # Neither remote was asked for (nor advertised) the other sessions or their branches.
    assert ids[1] not in packets and ids[2] not in packets


def test_diverged_logs_merge_through_the_sessions_remote(team: Team, alice: Path) -> None:
    sid = ok(alice, "new", "Shared", "--no-checkout", "--json").json()["id"]
    ok(alice, "record", sid, "--role", "user", "start")
    ok(alice, "push", sid)
    bob = team.clone("bob")
    ok(bob, "fetch")
    ok(alice, "record", sid, "--role", "user", "alice's")
    ok(bob, "record", sid, "--role", "user", "bob's")
    ok(alice, "push", sid)
    refused = gs(bob, "push", sid)
    assert refused.code == 1
    assert refused.err.strip().splitlines() == [
        f"gitsess: {sid}: log not pushed: the remote has entries you do not have: run "
        "`gitsess fetch`, then push again"
    ]
    merged = ok(bob, "fetch")
    assert f"merged  {sid}" in merged.out
    ok(bob, "push", sid)  # now a fast-forward, to the sessions remote
    ok(alice, "fetch")
    assert contents(alice, sid) == contents(bob, sid) == ["start", "alice's", "bob's"]
    assert git(alice, "rev-parse", f"refs/sessions/{sid}") == git(
        team.logs, "rev-parse", f"refs/sessions/{sid}"
    )
    assert refs(team.code, "refs/sessions/") == {}


def test_push_all_sends_shared_logs_there_and_keeps_private_ones_home(
    team: Team, alice: Path
) -> None:
    shared = session_with_commit(alice, "Shared one", "a.txt")
    ok(alice, "push")
    git(alice, "switch", "-q", "main")
    private = session_with_commit(alice, "Private one", "b.txt")
    ok(alice, "record", shared["id"], "--role", "user", "more")
    pushed = ok(alice, "push", "--all")
    assert pushed.out.startswith(f"Pushed {shared['id']} to {team.logs} (logs) and {team.code}")
    assert list(refs(team.logs, "refs/sessions/")) == [f"refs/sessions/{shared['id']}"]
    assert git(team.logs, "rev-parse", f"refs/sessions/{shared['id']}") == git(
        alice, "rev-parse", f"refs/sessions/{shared['id']}"
    )
    assert f"refs/heads/{private['branch']}" not in refs(team.code)
    assert refs(team.code, "refs/sessions/") == {}


def test_a_remote_argument_picks_where_branches_go_and_logs_still_go_to_the_sessions_remote(
    team: Team, alice: Path
) -> None:
    other = team.root / "served" / "other.git"
    git(team.root, "init", "-q", "--bare", str(other))
    git(alice, "remote", "add", "other", str(other))
    made = session_with_commit(alice, "Elsewhere")
    pushed = ok(alice, "push", "other", made["id"])
    assert pushed.out.startswith(
        f"Pushed {made['id']} to {team.logs} (logs) and {other} (branches)"
    )
    assert f"refs/heads/{made['branch']}" in refs(other)
    assert f"refs/heads/{made['branch']}" not in refs(team.code)
    assert list(refs(team.logs, "refs/sessions/")) == [f"refs/sessions/{made['id']}"]
    assert refs(other, "refs/sessions/") == {}


def test_naming_the_sessions_remote_sends_no_branch_there(team: Team, alice: Path) -> None:
    made = session_with_commit(alice, "Named")
    pushed = ok(alice, "push", "sessions", made["id"])
    assert pushed.out.startswith(
        f"Pushed {made['id']} to {team.logs} (logs) and {team.code} (branches)"
    )
    assert refs(team.logs, "refs/heads/") == {}
    assert f"refs/heads/{made['branch']}" in refs(team.code)
    bob = team.clone("bob")
    fetched = ok(bob, "fetch", "--remote", "sessions", "--json").json()
    assert fetched["remote"] == str(team.code) and fetched["sessions_remote"] == str(team.logs)
    assert fetched["sessions"] == {made["id"]: "new"}
    assert git(bob, "rev-parse", f"refs/remotes/origin/{made['branch']}")


def test_a_sessions_remote_that_is_the_code_remote_is_as_if_unset(team: Team, alice: Path) -> None:
    git(alice, "config", "gitsess.sessionsRemote", "origin")
    made = session_with_commit(alice, "One remote")
    pushed = ok(alice, "push", "--json").json()
    assert pushed["remote"] == pushed["sessions_remote"] == str(team.code)
    assert f"refs/sessions/{made['id']}" in refs(team.code)
    assert refs(team.logs) == {}
    ok(alice, "record", "--role", "user", "again")
    assert ok(alice, "push").out.startswith(f"Pushed {made['id']} to {team.code}: ")
    # By URL, too: the code remote under another name is still the one remote.
    git(alice, "config", "gitsess.sessionsRemote", str(team.code))
    ok(alice, "record", "--role", "user", "and again")
    assert ok(alice, "push").out.startswith(f"Pushed {made['id']} to {team.code}: ")
    assert refs(team.logs) == {}


@pytest.mark.parametrize("command", [["push"], ["push", "--all"], ["fetch"], ["remote", "setup"]])
def test_a_sessions_remote_that_names_no_remote_is_one_error_before_anything_is_sent(
    team: Team, alice: Path, command: list[str]
) -> None:
    made = session_with_commit(alice, "Going nowhere")
    ok(alice, "push")  # shared, so that push --all has something to send
    ok(alice, "record", "--role", "user", "more")
    git(alice, "config", "gitsess.sessionsRemote", "nowhere")
    before = (refs(team.code), refs(team.logs), refs(alice), git(alice, "config", "--list"))
    failed = gs(alice, *command)
    assert failed.code == 2
    assert failed.out == ""
    assert failed.err == (
        "gitsess: gitsess.sessionsRemote names no remote 'nowhere' (see `git remote -v`, or "
        "unset it: `git config --unset gitsess.sessionsRemote`)\n"
    )
    after = (refs(team.code), refs(team.logs), refs(alice), git(alice, "config", "--list"))
    assert after == before
    assert meta(alice, made["id"])["visibility"] == "shared"


def test_a_private_session_never_goes_to_either_remote_by_a_plain_git_push(
    team: Team, alice: Path
) -> None:
    ok(alice, "hooks", "install")
    private = ok(alice, "new", "Private", "--no-checkout", "--json").json()
    for remote in ("sessions", "origin"):
        proc = git_proc(alice, "push", remote, "refs/sessions/*:refs/sessions/*")
        assert proc.returncode != 0
        assert "gitsess pre-push: refused" in proc.stderr
        assert f'refs/sessions/{private["id"]}  (private session "Private")' in proc.stderr
    assert refs(team.logs) == {} and refs(team.code, "refs/sessions/") == {}


def test_the_pre_push_hook_sends_the_log_to_the_sessions_remote(team: Team, alice: Path) -> None:
    ok(alice, "hooks", "install")
    git(alice, "config", "gitsess.pushSessions", "true")
    made = session_with_commit(alice, "Pushed along", "p.txt")
    ok(alice, "push")
    (alice / "q.txt").write_text("q\n")
    git(alice, "add", "q.txt")
    git(alice, "commit", "-q", "-m", "Add q")
    proc = git_proc(alice, "push", "-q", "origin", made["branch"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    sid = made["id"]
    assert git(team.logs, "rev-parse", f"refs/sessions/{sid}") == git(
        alice, "rev-parse", f"refs/sessions/{sid}"
    )
    assert "Add q" in [e.get("subject") for e in log_lines(team.logs, sid)]
    assert refs(team.code, "refs/sessions/") == {}
    assert git(team.code, "rev-parse", made["branch"]) == git(alice, "rev-parse", "HEAD")


def test_the_pre_push_hook_with_an_unreachable_sessions_remote_lets_git_push_the_branch(
    team: Team, alice: Path
) -> None:
    ok(alice, "hooks", "install")
    git(alice, "config", "gitsess.pushSessions", "true")
    made = session_with_commit(alice, "Hook offline", "h.txt")
    ok(alice, "push")
    ok(alice, "record", "--role", "user", "more")
    gone = team.root / "served" / "gone.git"
    git(alice, "remote", "set-url", "sessions", str(gone))
    (alice / "r.txt").write_text("r\n")
    git(alice, "add", "r.txt")
    git(alice, "commit", "-q", "-m", "Add r")
    proc = git_proc(alice, "push", "-q", "origin", made["branch"])
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"gitsess pre-push: push to {gone} failed: ")
    assert line.endswith("(git's push goes on; gitsess pushed no session log)")
    assert git(team.code, "rev-parse", made["branch"]) == git(alice, "rev-parse", "HEAD")


# -- unreachable remotes ------------------------------------------------------------------


def test_an_unreachable_sessions_remote_is_one_error_and_sends_nothing(
    team: Team, alice: Path
) -> None:
    made = session_with_commit(alice, "Offline")
    gone = team.root / "served" / "gone.git"
    git(alice, "remote", "set-url", "sessions", str(gone))
    failed = gs(alice, "push")
    assert failed.code == 1 and failed.out == ""
    (line,) = failed.err.splitlines()
    assert line.startswith(f"gitsess: push to {gone} failed: ")
    assert line.endswith(
        f"; nothing was pushed (branch {made['branch']} not pushed to origin either)"
    )
    assert f"refs/heads/{made['branch']}" not in refs(team.code)
    assert refs(alice, "refs/gitsess/") == {}

    bob = team.clone("bob")
    git(bob, "remote", "set-url", "sessions", str(gone))
    before = refs(bob)
    fetched = gs(bob, "fetch")
    assert fetched.code == 1 and fetched.out == ""
    (line,) = fetched.err.splitlines()
    assert line.startswith(f"gitsess: fetch from {gone} failed: ")
    assert refs(bob) == before


def test_an_unreachable_code_remote_still_shares_the_log_and_says_the_branch_was_not(
    team: Team, alice: Path
) -> None:
    made = session_with_commit(alice, "Code offline")
    sid = made["id"]
    gone = team.root / "served" / "gone.git"
    git(alice, "remote", "set-url", "origin", str(gone))
    pushed = gs(alice, "push")
    assert pushed.code == 1
    assert pushed.out == (
        f"Pushed {sid} to {team.logs} (logs) and {gone} (branches): log: created, 1 entry; "
        f"branch {made['branch']}: rejected.\n"
    )
    (line,) = pushed.err.splitlines()
    assert line.startswith(
        f"gitsess: {sid}: branch {made['branch']} not pushed: not sent: push to {gone} failed: "
    )
    assert list(refs(team.logs, "refs/sessions/")) == [f"refs/sessions/{sid}"]

    bob = team.clone("bob")
    git(bob, "remote", "set-url", "origin", str(gone))
    fetched = gs(bob, "fetch")
    assert fetched.code == 1
    assert f"new  {sid}" in fetched.out  # the log came, and was merged
    (line,) = fetched.err.splitlines()
    assert line.startswith(f"gitsess: no branch fetched: fetch from {gone} failed: ")
    assert list(refs(bob, "refs/sessions/")) == [f"refs/sessions/{sid}"]


# -- a hostile sessions remote ------------------------------------------------------------


def forge(mate: Path, ref_id: str, meta_bytes: bytes, parents: list[str] | None = None) -> str:
    """A log commit written by hand and pushed straight to the sessions remote."""
    segment = entry_line(content="hello") + b"\n"
    log_tree = plumb(
        mate, "mktree", data=f"100644 blob {hash_blob(mate, segment)}\t00000000.jsonl\n".encode()
    )
    root = f"100644 blob {hash_blob(mate, meta_bytes)}\tsession.json\n040000 tree {log_tree}\tlog\n"
    tree = plumb(mate, "mktree", data=root.encode())
    args = [arg for parent in parents or [] for arg in ("-p", parent)]
    commit = plumb(mate, "commit-tree", tree, *args, "-m", f"append\n\nSession: {ref_id}")
    plumb(mate, "push", "-q", "-f", "sessions", f"{commit}:refs/sessions/{ref_id}")
    return commit


def test_a_log_on_the_sessions_remote_naming_main_or_my_branch_is_data(
    team: Team, alice: Path
) -> None:
    mine = session_with_commit(alice, "Mine")
    git(alice, "switch", "-q", "main")
    mate = team.clone("mate")
    forge(mate, MATE_ID, mate_meta(branch="main"))
    other = "0therabcde"
    forge(mate, other, mate_meta(other, branch=mine["branch"]))
    before_heads = refs(alice, "refs/heads/")
    before_code = refs(team.code)

    fetched = gs(alice, "fetch")
    assert fetched.code == 0, fetched.err
    assert "Traceback" not in fetched.err
    assert MATE_ID in fetched.err and other in fetched.err
    assert refs(alice, "refs/heads/") == before_heads
    assert not any(ref.startswith("refs/remotes/sessions/") for ref in refs(alice))
    resumed = gs(alice, "resume", MATE_ID)
    assert resumed.code == 2 and MATE_ID in resumed.err and "branch" in resumed.err
    assert git(alice, "symbolic-ref", "HEAD") == "refs/heads/main"
    pushed = gs(alice, "push", MATE_ID, other)
    assert "Traceback" not in pushed.err
    assert refs(team.code) == before_code  # neither main nor my branch went anywhere
    assert f"refs/sessions/{mine['id']}" not in refs(team.logs)


def test_a_deep_or_escaping_log_on_the_sessions_remote_is_named_and_stops_no_other(
    team: Team, alice: Path
) -> None:
    good = ok(alice, "new", "Good", "--no-checkout", "--json").json()["id"]
    ok(alice, "push", good)
    mate = team.clone("mate")
    forge(mate, MATE_ID, deep_meta())  # 200,000 levels deep
    escaping = "3scapeabcd"
    forge(mate, escaping, mate_meta(escaping, title="\x1b]0;owned\x07\x1b[2J<script>x</script>"))
    bob = team.clone("bob")
    fetched = gs(bob, "fetch")
    assert fetched.code == 0, fetched.err
    assert "Traceback" not in fetched.err and "\x1b" not in fetched.out + fetched.err
    assert MATE_ID in fetched.err  # named as unreadable
    assert set(refs(bob, "refs/sessions/")) == {
        f"refs/sessions/{sid}" for sid in (good, MATE_ID, escaping)
    }
    listed = gs(bob, "list")
    assert listed.code == 0 and "\x1b" not in listed.out + listed.err


def test_a_log_under_my_id_on_the_sessions_remote_is_not_merged(team: Team, alice: Path) -> None:
    mine = ok(alice, "new", "Mine", "--no-checkout", "--json").json()
    ok(alice, "record", mine["id"], "--role", "user", "my words")
    ok(alice, "push", mine["id"])
    mate = team.clone("mate")
    forge(mate, mine["id"], mate_meta(mine["id"], title="Not yours"))  # no shared history
    before = git(alice, "rev-parse", f"refs/sessions/{mine['id']}")
    fetched = gs(alice, "fetch")
    assert "Traceback" not in fetched.err
    assert "shares no history" in fetched.err and "not merged" in fetched.err
    assert git(alice, "rev-parse", f"refs/sessions/{mine['id']}") == before
    assert meta(alice, mine["id"])["title"] == "Mine"


def test_resume_takes_the_branch_from_the_code_remote_not_the_sessions_remote(
    team: Team, alice: Path
) -> None:
    made = session_with_commit(alice, "Real work", "real.txt")
    ok(alice, "push")
    # Someone puts a branch of the same name, other code, on the sessions remote.
    mate = team.clone("mate")
    (mate / "evil.txt").write_text("evil\n")
    git(mate, "add", "evil.txt")
    git(mate, "commit", "-q", "-m", "evil")
    git(mate, "push", "-q", "sessions", f"HEAD:refs/heads/{made['branch']}")
    # A sessions remote named to sort before origin, fetched whole by a plain git fetch.
    bob = team.clone("bob", sessions_remote="logs")
    git(bob, "fetch", "-q", "--all")
    assert git(bob, "rev-parse", f"refs/remotes/logs/{made['branch']}")
    ok(bob, "fetch", made["id"])
    resumed = ok(bob, "resume", made["id"])
    assert "Branch created from origin/" in resumed.out
    assert (bob / "real.txt").exists() and not (bob / "evil.txt").exists()


# -- setup, a plain git fetch, delete -----------------------------------------------------


def test_remote_setup_and_a_plain_git_fetch_of_the_sessions_remote(team: Team, alice: Path) -> None:
    sid = ok(alice, "new", "Plain", "--no-checkout", "--json").json()["id"]
    ok(alice, "record", sid, "--role", "user", "hello")
    ok(alice, "push", sid)
    bob = team.clone("bob")
    setup = ok(bob, "remote", "setup")
    assert setup.out == (
        "`git fetch sessions` now also fetches sessions "
        "(+refs/sessions/*:refs/gitsess/remotes/sessions/sessions/*).\n"
    )
    assert "refs/sessions/" not in git(bob, "config", "--get-all", "remote.origin.fetch")
    git(bob, "fetch", "-q", "sessions")
    listed = ok(bob, "list", "--json").json()
    assert [row["id"] for row in listed] == [sid]
    # NAME, when given, is the remote set up (as before).
    assert ok(bob, "remote", "setup", "origin").out.startswith("`git fetch origin` now also")


def test_delete_says_where_the_log_and_the_branch_are(team: Team, alice: Path) -> None:
    made = session_with_commit(alice, "Gone soon")
    sid, branch = made["id"], made["branch"]
    ok(alice, "push")
    git(alice, "switch", "-q", "main")
    deleted = ok(alice, "delete", sid)
    assert deleted.err.splitlines() == [
        f"gitsess: note: sessions still has session {sid}: remove it there with "
        f"`git push sessions --delete refs/sessions/{sid}`, and its branch, if it went to "
        f"origin, with `git push origin --delete {branch}`"
    ]
    git(alice, "push", "-q", "sessions", "--delete", f"refs/sessions/{sid}")
    git(alice, "push", "-q", "origin", "--delete", branch)
    assert refs(team.logs) == {} and f"refs/heads/{branch}" not in refs(team.code)


def test_sessions_pushed_to_origin_before_the_setting_move_with_push_all(
    team: Team, tmp_path: Path
) -> None:
    alice = team.clone("alice")
    git(alice, "config", "--unset", "gitsess.sessionsRemote")
    made = session_with_commit(alice, "Older")
    ok(alice, "push")
    assert f"refs/sessions/{made['id']}" in refs(team.code)
    git(alice, "config", "gitsess.sessionsRemote", "sessions")
    pushed = ok(alice, "push", "--all")
    assert pushed.out.startswith(f"Pushed {made['id']} to {team.logs} (logs) and {team.code}")
    assert git(team.logs, "rev-parse", f"refs/sessions/{made['id']}") == git(
        alice, "rev-parse", f"refs/sessions/{made['id']}"
    )
    # What origin had stays there (and is still tracked), nothing is lost.
    assert f"refs/sessions/{made['id']}" in refs(team.code)
    assert set(refs(alice, "refs/gitsess/remotes/")) == {
        f"refs/gitsess/remotes/origin/sessions/{made['id']}",
        f"refs/gitsess/remotes/sessions/sessions/{made['id']}",
    }


def test_unset_it_is_one_remote_again(team: Team, alice: Path) -> None:
    git(alice, "config", "--unset", "gitsess.sessionsRemote")
    made = session_with_commit(alice, "Classic")
    pushed = ok(alice, "push", "--json").json()
    assert "sessions_remote" in pushed and pushed["sessions_remote"] == pushed["remote"]
    assert f"refs/sessions/{made['id']}" in refs(team.code) and refs(team.logs) == {}
    assert pushed["pushed"] == [made["id"]]
