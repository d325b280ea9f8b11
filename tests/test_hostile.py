"""Hostile repository states: each test puts a real repository in one and runs the commands
a user would. A command either works, or fails with one clear line on stderr and the format's
exit code; a failed command changes nothing (refs, work tree, index, a stopped rebase or
merge), and `git fsck` finds nothing new."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import Result, git, git_proc, gitsess_exe, log_lines, make_repo, run_cli

MISSING = "1234567890123456789012345678901234567890"
IN_PROGRESS_FILES = (
    "rebase-merge",
    "rebase-apply",
    "MERGE_HEAD",
    "MERGE_MSG",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "BISECT_LOG",
    "BISECT_START",
)


# -- what a user sees, and what must not change -------------------------------------


def clean_error(result: Result, code: int, *words: str) -> str:
    """The command failed with ``code`` and exactly one line on stderr, saying ``words``."""
    lines = result.err.splitlines()
    assert result.code == code, result
    assert len(lines) == 1 and lines[0].startswith("gitsess: "), result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def ok(result: Result) -> Result:
    assert result.code == 0, result
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    return result


def git_dir(repo: Path) -> Path:
    return Path(git(repo, "rev-parse", "--absolute-git-dir"))


def snapshot(repo: Path) -> dict[str, Any]:
    """Everything a failed command must leave as it was."""
    folder = git_dir(repo)
    operation = {}
    for name in IN_PROGRESS_FILES:
        path = folder / name
        if path.is_dir():
            operation[name] = sorted(
                (str(p.relative_to(path)), p.read_bytes()) for p in path.rglob("*") if p.is_file()
            )
        elif path.exists():
            operation[name] = path.read_bytes()
    files = sorted(
        (str(p.relative_to(repo)), p.read_bytes())
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    )
    return {
        "refs": git(repo, "for-each-ref", "--format=%(objectname) %(refname)"),
        "head": (folder / "HEAD").read_text(),
        "head_commit": git(repo, "rev-parse", "--verify", "-q", "HEAD", check=False),
        "status": git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all"),
        "index": git(repo, "ls-files", "--stage", "--debug"),
        "files": files,
        "operation": operation,
    }


def fsck_problems(repo: Path) -> list[str]:
    proc = git_proc(repo, "fsck", "--no-progress", "--no-dangling")
    return sorted(line for line in (proc.stdout + proc.stderr).splitlines() if line.strip())


class Unchanged:
    """``with Unchanged(repo):`` asserts the block left the repository exactly as it was."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def __enter__(self) -> Unchanged:
        self.before = snapshot(self.repo)
        self.fsck = fsck_problems(self.repo)
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            assert snapshot(self.repo) == self.before
            assert fsck_problems(self.repo) == self.fsck


def sid_of(result: Result) -> str:
    return str(ok(result).json()["id"])


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


# -- shallow clones ----------------------------------------------------------------


@pytest.fixture
def upstream(tmp_path: Path, gs) -> Path:
    """A repository with history and two sessions; clones of it come from file://."""
    src = make_repo(tmp_path / "upstream")
    for n in range(4):
        commit_file(src, "history.txt", f"{n}\n", f"history {n}")
    git(src, "config", "uploadpack.allowFilter", "true")
    # A session started deep in history, whose branch is later deleted: its commits are
    # then only reachable past a shallow clone's boundary.
    old = sid_of(gs("new", "Old work", "--from", "HEAD~3", "--no-checkout", "--json", cwd=src))
    ok(gs("record", old, "--role", "user", "back then", cwd=src))
    deep = log_lines(src, old)[0]["head"]
    assert deep == git(src, "rev-parse", "HEAD~3")
    git(src, "branch", "-q", "-D", f"session/old-work-{old}")
    recent = sid_of(gs("new", "Recent work", "--json", cwd=src))
    commit_file(src, "feature.txt", "feature\n", "feature")
    ok(gs("record", "--role", "user", "recent prompt", cwd=src))
    git(src, "checkout", "-q", "main")
    (src / "ids.json").write_text(json.dumps({"old": old, "recent": recent}))
    return src


def ids(src: Path) -> dict[str, str]:
    return dict(json.loads((src / "ids.json").read_text()))


def test_shallow_clone(upstream: Path, tmp_path: Path, gs) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{upstream}", str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    known = ids(upstream)

    fetched = ok(gs("fetch", "--json", cwd=clone)).json()
    assert fetched["sessions"] == {known["old"]: "new", known["recent"]: "new"}
    listed = ok(gs("list", "--json", cwd=clone)).json()
    assert {row["id"] for row in listed} == set(known.values())
    shown = ok(gs("show", known["old"], "--json", cwd=clone)).json()
    assert [e["content"] for e in shown["entries"]] == ["back then"]

    # Forking or resuming at a commit past the shallow boundary: no guess, a clear no.
    with Unchanged(clone):
        line = clean_error(gs("fork", known["old"], cwd=clone), 1, "is not in this repository")
        assert "git fetch --unshallow" in line
        line = clean_error(gs("resume", known["old"], cwd=clone), 1, "shallow clone")
    # A session whose commits did come along works as anywhere else.
    ok(gs("resume", known["recent"], cwd=clone))
    forked = ok(gs("fork", known["recent"], "--no-checkout", "--json", cwd=clone)).json()
    assert forked["base"] == git(upstream, "rev-parse", f"session/recent-work-{known['recent']}")

    # A session made in the shallow clone, its commits recorded by the hooks, pushed back.
    ok(run_cli(clone, "hooks", "install"))
    made = sid_of(gs("new", "Made shallow", "--json", cwd=clone))
    ok(gs("record", "--role", "user", "in a shallow clone", cwd=clone))
    sha = commit_file(clone, "shallow.txt", "s\n", "from the shallow clone")
    assert f"Session: {made}" in git(clone, "log", "-1", "--format=%B")
    assert [e.get("sha") for e in log_lines(clone, made)][-1] == sha
    pushed = ok(gs("push", made, "--json", cwd=clone)).json()
    assert pushed["pushed"] == [made]
    assert git(upstream, "rev-parse", f"refs/sessions/{made}") == git(
        clone, "rev-parse", f"refs/sessions/{made}"
    )
    assert fsck_problems(clone) == []
    assert fsck_problems(upstream) == []


# -- partial clones ----------------------------------------------------------------


def test_partial_clone_reads_lazily_and_says_when_the_promisor_is_gone(
    upstream: Path, tmp_path: Path, gs
) -> None:
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{upstream}", str(clone))
    known = ids(upstream)
    # Session logs arrive without their blobs; reading them fetches what is needed.
    git(clone, "fetch", "-q", "--no-write-fetch-head", "origin", "+refs/sessions/*:refs/sessions/*")
    missing = git(clone, "rev-list", "--objects", "--missing=print", "--all")
    assert "?" in missing  # blobs really are left on the promisor remote
    shown = ok(gs("show", known["recent"], "--json", cwd=clone)).json()
    assert shown["entries"][-1]["content"] == "recent prompt"
    assert len(ok(gs("list", "--json", cwd=clone)).json()) == 2

    # A third session comes over, blobs left behind; then the promisor remote goes away.
    late = sid_of(gs("new", "Late", "--no-checkout", "--json", cwd=upstream))
    ok(gs("record", late, "--role", "user", "never read here", cwd=upstream))
    git(clone, "fetch", "-q", "--no-write-fetch-head", "origin", "+refs/sessions/*:refs/sessions/*")
    shutil.move(upstream, tmp_path / "gone")

    with Unchanged(clone):
        listed = ok(gs("list", "--json", cwd=clone))
        assert {row["id"] for row in listed.json()} == set(known.values())
        warning = listed.err.strip()
        assert warning.startswith(f"gitsess: warning: session {late} is unreadable")
        assert "promisor remote" in warning and "gitsess doctor" in warning
        # Not bad data: a remote that cannot be reached, so exit 1 ("any other failure").
        clean_error(gs("show", late, cwd=clone), 1, late, "promisor remote")
        clean_error(gs("show", late[:6], cwd=clone), 1, late, "promisor remote")
        clean_error(gs("record", late, "--role", "user", "x", cwd=clone), 1, "promisor remote")
    # What was read before the remote went is still there.
    ok(gs("show", known["recent"], cwd=clone))
    ok(gs("record", known["recent"], "--role", "user", "offline", cwd=clone))


# -- detached HEAD -----------------------------------------------------------------


def test_detached_head(repo: Path, gs) -> None:
    git(repo, "checkout", "-q", "--detach")
    status = ok(gs("status", cwd=repo))
    assert "HEAD is detached" in status.out
    assert ok(gs("status", "--json", cwd=repo)).json() is None
    with Unchanged(repo):
        clean_error(gs("record", "--role", "user", "to nowhere", cwd=repo), 2, "no current session")

    # --no-checkout leaves HEAD detached; new from a detached HEAD checks the branch out.
    aside = ok(gs("new", "Aside", "--no-checkout", "--json", cwd=repo)).json()
    assert git(repo, "symbolic-ref", "-q", "HEAD", check=False) == ""
    made = ok(gs("new", "From detached", "--json", cwd=repo)).json()
    assert made["base"] == aside["base"] == git(repo, "rev-parse", "main")
    assert git(repo, "symbolic-ref", "--short", "HEAD") == made["branch"]
    ok(gs("record", "--role", "user", "now current", cwd=repo))

    git(repo, "checkout", "-q", "--detach", "main")
    (repo / "README.md").write_text("local edit\n")
    resumed = ok(gs("resume", aside["id"], "--json", cwd=repo)).json()
    assert resumed["switched"] and resumed["local_changes"] == [" M README.md"]
    assert (repo / "README.md").read_text() == "local edit\n"
    assert ok(gs("status", "--json", cwd=repo)).json()["id"] == aside["id"]


# -- an operation stopped half-way ----------------------------------------------------


def conflicting_session(repo: Path, gs) -> tuple[str, str]:
    """A session whose branch and main both changed README.md; back on the session branch."""
    sid = sid_of(gs("new", "Conflicted", "--json", cwd=repo))
    ok(gs("record", "--role", "user", "before", cwd=repo))
    commit_file(repo, "README.md", "ours\n", "ours")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "README.md", "theirs\n", "theirs")
    other = sid_of(gs("new", "Other", "--no-checkout", "--json", cwd=repo))
    git(repo, "checkout", "-q", f"session/conflicted-{sid}")
    return sid, other


def refuses_to_switch(repo: Path, gs, sid: str, other: str, operation: str) -> None:
    """new, fork and resume would check a branch out: they refuse, changing nothing."""
    (repo / "untracked.txt").write_text("mine\n")
    with Unchanged(repo):
        said = f"a {operation} is in progress"
        line = clean_error(gs("new", "Mid-way", cwd=repo), 1, said, "--no-checkout")
        assert "nothing was changed" in line
        clean_error(gs("fork", sid, cwd=repo), 1, said)
        clean_error(gs("resume", other, cwd=repo), 1, said)
        for command in (("list",), ("show", sid), ("status",), ("hooks", "status")):
            ok(gs(*command, cwd=repo))
    before = snapshot(repo)
    # Making a branch without checking it out disturbs nothing.
    ok(gs("new", "Aside", "--no-checkout", cwd=repo))
    ok(gs("fork", sid, "--no-checkout", cwd=repo))
    assert {**snapshot(repo), "refs": ""} == {**before, "refs": ""}


def test_rebase_in_progress(repo: Path, gs, tmp_path: Path) -> None:
    ok(run_cli(repo, "hooks", "install"))
    sid, other = conflicting_session(repo, gs)
    stopped = subprocess.run(["git", "rebase", "main"], cwd=repo, capture_output=True, check=False)
    assert stopped.returncode != 0 and (git_dir(repo) / "rebase-merge").is_dir()
    refuses_to_switch(repo, gs, sid, other, "rebase")

    # The session being rebased is still the current one: status, record and capture find it.
    assert ok(gs("status", "--json", cwd=repo)).json()["id"] == sid
    ok(gs("record", "--role", "user", "while rebasing", cwd=repo))
    transcript = tmp_path / "t.jsonl"
    header = {"gitsess": 1, "session": {"title": "Agent"}}
    said = {"id": "c1", "ts": "2026-11-25T10:00:00Z", "type": "message", "role": "user"}
    transcript.write_text(json.dumps(header) + "\n" + json.dumps({**said, "content": "hi"}) + "\n")
    payload = json.dumps({"transcript_path": str(transcript), "cwd": str(repo)}).encode()
    before = snapshot(repo)
    captured = run_cli(repo, "capture", "--agent", "gitsess", stdin=payload)
    assert captured.code == 0 and captured.err == ""
    after = snapshot(repo)
    changed = set(after["refs"].splitlines()) - set(before["refs"].splitlines())
    assert [line.split()[1] for line in changed] == [f"refs/sessions/{sid}"]  # only the log
    assert {**after, "refs": ""} == {**before, "refs": ""}
    assert [e.get("content") for e in log_lines(repo, sid)][-2:] == ["while rebasing", "hi"]

    # Finishing the rebase with the hooks in place: git is undisturbed, the log follows.
    (repo / "README.md").write_text("resolved\n")
    git(repo, "add", "README.md")
    done = git_proc(repo, "-c", "core.editor=true", "rebase", "--continue")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert git(repo, "symbolic-ref", "--short", "HEAD") == f"session/conflicted-{sid}"
    rewritten = [e for e in log_lines(repo, sid) if e.get("name") == "rewritten"]
    assert rewritten and rewritten[-1]["data"]["to"] == git(repo, "rev-parse", "HEAD")


def test_capture_mid_rebase_of_another_branch_leaves_it_alone(
    repo: Path, gs, tmp_path: Path
) -> None:
    git(repo, "checkout", "-q", "-b", "topic")
    commit_file(repo, "README.md", "topic\n", "topic")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "README.md", "main\n", "main")
    git(repo, "checkout", "-q", "topic")
    subprocess.run(["git", "rebase", "main"], cwd=repo, capture_output=True, check=False)
    transcript = tmp_path / "t.jsonl"
    entry = {"id": "c1", "ts": "2026-11-25T10:00:00Z", "type": "message", "role": "user"}
    lines = [{"gitsess": 1, "session": {"title": "Agent"}}, {**entry, "content": "hi"}]
    transcript.write_text("".join(json.dumps(x) + "\n" for x in lines))
    payload = json.dumps({"transcript_path": str(transcript), "cwd": str(repo)}).encode()
    with Unchanged(repo):
        # No current session: capture would start one and check it out, mid-rebase. It
        # does not; it says why on one line and exits 0, as agent hooks need.
        captured = run_cli(repo, "capture", "--agent", "gitsess", stdin=payload)
        assert captured.code == 0 and "a rebase is in progress" in captured.err
        assert len(captured.err.splitlines()) == 1


def test_merge_in_progress(repo: Path, gs) -> None:
    ok(run_cli(repo, "hooks", "install"))
    sid, other = conflicting_session(repo, gs)
    stopped = subprocess.run(["git", "merge", "main"], cwd=repo, capture_output=True, check=False)
    assert stopped.returncode != 0 and (git_dir(repo) / "MERGE_HEAD").exists()
    refuses_to_switch(repo, gs, sid, other, "merge")
    with Unchanged(repo):
        # Already on the session's branch: resume shows where things stand, touching nothing.
        resumed = ok(gs("resume", sid, "--json", cwd=repo)).json()
        assert not resumed["switched"] and "UU README.md" in resumed["local_changes"]
    ok(gs("record", "--role", "user", "while merging", cwd=repo))
    assert ok(gs("status", "--json", cwd=repo)).json()["id"] == sid

    (repo / "README.md").write_text("resolved\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "--no-edit")
    assert len(git(repo, "log", "-1", "--format=%P").split()) == 2
    assert log_lines(repo, sid)[-1]["content"] == "while merging"  # merges are not recorded


@pytest.mark.parametrize("operation", ["cherry-pick", "revert", "bisect"])
def test_cherry_pick_revert_and_bisect_in_progress(repo: Path, gs, operation: str) -> None:
    sid, other = conflicting_session(repo, gs)
    if operation == "bisect":
        git(repo, "bisect", "start")
        git(repo, "bisect", "bad")
    else:
        if operation == "revert":  # revert "ours" after README.md changed again: a conflict
            commit_file(repo, "README.md", "again\n", "again")
        target = "main" if operation == "cherry-pick" else "HEAD~1"
        stopped = subprocess.run(
            ["git", operation, "--no-edit", target], cwd=repo, capture_output=True, check=False
        )
        assert stopped.returncode != 0
    refuses_to_switch(repo, gs, sid, other, operation)
    ok(gs("record", "--role", "user", f"during {operation}", cwd=repo))


def test_rebase_in_a_linked_worktree(repo: Path, gs, tmp_path: Path) -> None:
    sid, other = conflicting_session(repo, gs)
    git(repo, "checkout", "-q", "main")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), f"session/conflicted-{sid}")
    subprocess.run(["git", "rebase", "main"], cwd=linked, capture_output=True, check=False)
    refuses_to_switch(linked, gs, sid, other, "rebase")
    assert ok(gs("status", "--json", cwd=linked)).json()["id"] == sid
    # The main worktree is not rebasing: it goes on as usual.
    ok(gs("resume", other, cwd=repo))
    git(linked, "rebase", "--abort")


# -- session refs that cannot be read -------------------------------------------------


def broken_repo(tmp_path: Path, gs) -> tuple[Path, str, str]:
    """A repository (not the fsck-checked fixture) with two good sessions, one current."""
    path = make_repo(tmp_path / "broken")
    good = sid_of(gs("new", "Good one", "--no-checkout", "--json", cwd=path))
    current = sid_of(gs("new", "Current one", "--json", cwd=path))
    ok(gs("record", "--role", "user", "hello", cwd=path))
    return path, good, current


def not_json_commit(path: Path, content: str) -> str:
    blob = git(path, "hash-object", "-w", "--stdin", input=content)
    tree = git(path, "mktree", input=f"100644 blob {blob}\tsession.json\n")
    return git(path, "commit-tree", tree, "-m", "hand-made")


def breakages(path: Path) -> dict[str, str]:
    """Session refs broken by hand in every way there is: {id: what the message says}."""
    (git_dir(path) / "refs" / "sessions" / "badd000001").write_text(MISSING + "\n")
    with open(git_dir(path) / "packed-refs", "a") as packed:
        packed.write(f"{MISSING[:-1]}2 refs/sessions/badd000002\n")
    git(path, "update-ref", "refs/sessions/badd000003", not_json_commit(path, "{not json"))
    git(path, "update-ref", "refs/sessions/badd000004", not_json_commit(path, "[1, 2]\n"))
    blob = git(path, "hash-object", "-w", "--stdin", input="a blob")
    git(path, "update-ref", "refs/sessions/badd000005", blob)
    tree = git(path, "mktree", input="")
    git(path, "update-ref", "refs/sessions/badd000006", git(path, "commit-tree", tree, "-m", "e"))
    return {
        "badd000001": "log commit 123456789012 is missing",  # a loose ref
        "badd000002": "log commit 123456789012 is missing",  # in packed-refs
        "badd000003": "session.json is not a JSON object",
        "badd000004": "session.json is not a JSON object",
        "badd000005": "points at a blob",
        "badd000006": "has no session.json",
    }


def test_broken_session_refs(tmp_path: Path, gs) -> None:
    path, good, current = broken_repo(tmp_path, gs)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    ok(gs("push", good, "--remote", str(origin), cwd=path))
    broken = breakages(path)
    with Unchanged(path):
        listed = ok(gs("list", "--json", cwd=path))
        assert {row["id"] for row in listed.json()} == {good, current}
        warnings = listed.err.splitlines()
        assert len(warnings) == len(broken)
        for line, (sid, problem) in zip(warnings, sorted(broken.items()), strict=True):
            assert line.startswith(f"gitsess: warning: session {sid} is unreadable: ")
            assert problem in line and "gitsess doctor" in line
        table = ok(gs("list", cwd=path))
        assert good in table.out and current in table.out and len(table.err.splitlines()) == 6

        for sid, problem in broken.items():
            for command in (
                ("show", sid),
                ("record", sid, "--role", "user", "x"),
                ("resume", sid),
                ("fork", sid),
                ("rename", sid, "New title"),
                ("export", sid),
                ("push", sid),
            ):
                line = clean_error(gs(*command, cwd=path), 2, f"session {sid} is unreadable")
                assert problem in line and "gitsess doctor" in line, (command, line)
        clean_error(gs("show", "badd", cwd=path), 2, "only unreadable sessions", "badd000003")
        # git fetch itself stops at a local ref it cannot read: gitsess says which, and where
        # to look, and fetches nothing.
        line = clean_error(gs("fetch", str(origin), cwd=path), 1, "bad object refs/sessions/")
        assert "gitsess doctor" in line

        # The rest of the repository works as before.
        assert ok(gs("status", "--json", cwd=path)).json()["id"] == current
        shown = ok(gs("show", good, "--json", cwd=path)).json()
        assert shown["session"]["id"] == good
        ok(gs("show", "Current one", cwd=path))
    ok(gs("record", "--role", "user", "still fine", cwd=path))
    ok(gs("resume", good, cwd=path))
    ok(gs("new", "After", "--no-checkout", cwd=path))
    assert [e["content"] for e in log_lines(path, current)] == ["hello", "still fine"]
    # push --all goes on with the readable shared sessions, and says what it left out.
    pushed = ok(gs("push", "--all", "--remote", str(origin), "--json", cwd=path))
    assert pushed.json()["up_to_date"] == [good]
    skipped = pushed.err.splitlines()
    assert len(skipped) == len(broken)
    assert all(line.startswith("gitsess: warning: not pushed: session badd") for line in skipped)


def test_current_session_broken_and_the_commit_hooks(tmp_path: Path, gs) -> None:
    path, _, current = broken_repo(tmp_path, gs)
    ok(run_cli(path, "hooks", "install"))
    git(path, "update-ref", f"refs/sessions/{current}", not_json_commit(path, "{"))
    with Unchanged(path):
        clean_error(gs("status", cwd=path), 2, f"session {current} is unreadable")
        clean_error(gs("record", "--role", "user", "x", cwd=path), 2, "not a JSON object")
    # A commit on its branch goes through; the hook says, in one line, what it could not do.
    (path / "new.txt").write_text("x\n")
    git(path, "add", "new.txt")
    proc = git_proc(path, "commit", "-q", "-m", "still commits")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert git(path, "log", "-1", "--format=%s") == "still commits"
    assert f"session {current} is unreadable" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


# -- reftable ------------------------------------------------------------------------


def reftable_supported(tmp_path: Path) -> bool:
    probe = subprocess.run(
        ["git", "init", "-q", "--ref-format=reftable", str(tmp_path / "probe")],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def test_reftable_repository(tmp_path: Path, gs) -> None:
    if not reftable_supported(tmp_path):
        version = git(tmp_path, "--version")
        pytest.skip(f"{version} cannot create reftable repositories (git 2.45 or later can)")
    path = tmp_path / "reftable"
    git(tmp_path, "init", "-q", "--ref-format=reftable", str(path))
    commit_file(path, "README.md", "hello\n", "initial")
    ok(run_cli(path, "hooks", "install"))
    sid = sid_of(gs("new", "On reftable", "--json", cwd=path))
    assert ok(gs("status", "--json", cwd=path)).json()["id"] == sid
    ok(gs("record", "--role", "user", "hello", cwd=path))
    sha = commit_file(path, "a.txt", "a\n", "on reftable")
    assert log_lines(path, sid)[-1]["sha"] == sha
    other = sid_of(gs("new", "Second", "--no-checkout", "--json", cwd=path))
    ok(gs("resume", other, cwd=path))
    assert ok(gs("status", "--json", cwd=path)).json()["id"] == other
    assert {r["id"] for r in ok(gs("list", "--json", cwd=path)).json()} == {sid, other}
    ok(gs("fork", sid, "--no-checkout", cwd=path))
    git(path, "checkout", "-q", f"session/on-reftable-{sid}")
    git(path, "checkout", "-q", "-b", "side", "HEAD~1")
    commit_file(path, "a.txt", "b\n", "conflict")
    subprocess.run(["git", "cherry-pick", sha], cwd=path, capture_output=True, check=False)
    clean_error(gs("new", "Mid-pick", cwd=path), 1, "cherry-pick is in progress")
    assert fsck_problems(path) == []


# -- no work tree, no commits, no repository --------------------------------------------


def test_bare_repository(tmp_path: Path, gs) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    for command in (("list",), ("status",), ("new", "X"), ("hooks", "install")):
        clean_error(gs(*command, cwd=bare), 2, "bare repository", "work tree")
    assert git(bare, "for-each-ref") == ""


def test_unborn_head(tmp_path: Path, gs) -> None:
    path = tmp_path / "unborn"
    git(tmp_path, "init", "-q", str(path))
    assert "No sessions yet" in ok(gs("list", cwd=path)).out
    assert "No current session (on branch main)" in ok(gs("status", cwd=path)).out
    clean_error(gs("record", "--role", "user", "x", cwd=path), 2, "no current session")
    clean_error(gs("resume", cwd=path), 2, "no sessions yet")
    ok(run_cli(path, "hooks", "install"))
    made = ok(gs("new", "First ever", "--json", cwd=path)).json()
    assert made["base"] is None
    ok(gs("record", "--role", "user", "before any commit", cwd=path))
    sha = commit_file(path, "a.txt", "a\n", "first commit")
    assert git(path, "symbolic-ref", "--short", "HEAD") == made["branch"]
    assert log_lines(path, made["id"])[-1]["sha"] == sha
    ok(gs("fork", made["id"], "--no-checkout", cwd=path))
    assert fsck_problems(path) == []


def test_outside_any_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for command in (("list",), ("status",), ("show", "x"), ("new", "X"), ("hooks", "install")):
        clean_error(run_cli(plain, *command), 2, "not a git repository")
    capture = subprocess.run(
        [gitsess_exe(), "capture"], cwd=plain, input="{}", capture_output=True, text=True
    )
    assert capture.returncode == 0 and capture.stdout == "" and capture.stderr == ""
    assert list(plain.iterdir()) == []
