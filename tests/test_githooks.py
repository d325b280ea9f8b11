"""Git hooks: trailers, commit entries, rewrites, other people's hooks, never blocking git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitsess.githooks import HOOKS, script

from .conftest import git, log_lines

ROOT = Path(__file__).resolve().parents[1]


def commit(
    repo: Path, name: str, message: str | None = None, *extra: str
) -> subprocess.CompletedProcess[str]:
    (repo / name).write_text(name + "\n")
    git(repo, "add", name)
    return subprocess.run(
        ["git", "commit", "-q", "-m", message or f"Add {name}", *extra],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def commits_in_log(repo: Path, sid: str) -> list[dict]:
    return [e for e in log_lines(repo, sid) if e["type"] == "commit"]


def rewrites(repo: Path, sid: str) -> list[dict]:
    return [
        e["data"]
        for e in log_lines(repo, sid)
        if e["type"] == "event" and e.get("name") == "rewritten"
    ]


@pytest.fixture
def hooked(repo: Path, gs) -> str:
    assert gs("hooks", "install").code == 0
    return gs("new", "Hooked work", "--json").json()["id"]


def test_commit_on_a_session_branch_gets_trailer_and_entry(repo: Path, gs, hooked: str) -> None:
    done = commit(repo, "a.txt", "Add a\n\nWith a body.")
    assert done.returncode == 0 and done.stderr == ""
    message = git(repo, "log", "-1", "--format=%B")
    assert message.endswith(f"With a body.\n\nSession: {hooked}")
    (entry,) = commits_in_log(repo, hooked)
    assert entry["sha"] == git(repo, "rev-parse", "HEAD") and entry["subject"] == "Add a"
    assert entry["tree"] == git(repo, "rev-parse", "HEAD^{tree}")
    assert entry["parents"] == [git(repo, "rev-parse", "HEAD~1")]
    # An amend keeps one trailer, and the log learns the new commit.
    old = entry["sha"]
    (repo / "a.txt").write_text("changed\n")
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    assert git(repo, "log", "-1", "--format=%B").count("Session:") == 1
    amended = commits_in_log(repo, hooked)[-1]
    assert amended["sha"] == git(repo, "rev-parse", "HEAD")
    # What the commit object says, for checking a link against the commit itself.
    assert amended["tree"] == git(repo, "rev-parse", "HEAD^{tree}")
    assert amended["parents"] == [git(repo, "rev-parse", "HEAD~1")]
    assert rewrites(repo, hooked) == [
        {"from": old, "to": git(repo, "rev-parse", "HEAD"), "kind": "amend"}
    ]


def test_other_branches_and_merges_get_nothing(repo: Path, gs, hooked: str) -> None:
    git(repo, "switch", "-q", "main")
    commit(repo, "plain.txt")
    assert "Session:" not in git(repo, "log", "-1", "--format=%B")
    git(repo, "switch", "-q", "-")
    commit(repo, "b.txt")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge main", "main")
    assert "Session:" not in git(repo, "log", "-1", "--format=%B")
    assert [e["subject"] for e in commits_in_log(repo, hooked)] == ["Add b.txt"]
    git(repo, "config", "gitsess.trailerOnMerge", "true")
    git(repo, "switch", "-q", "main")
    commit(repo, "c.txt")
    git(repo, "switch", "-q", "-")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge again", "main")
    assert f"Session: {hooked}" in git(repo, "log", "-1", "--format=%B")


def test_rebase_and_cherry_pick_still_lead_to_the_session(repo: Path, gs, hooked: str) -> None:
    commit(repo, "one.txt")
    commit(repo, "two.txt")
    branch = git(repo, "symbolic-ref", "--short", "HEAD")
    git(repo, "switch", "-q", "main")
    commit(repo, "upstream.txt")
    git(repo, "switch", "-q", branch)
    before = {e["sha"] for e in commits_in_log(repo, hooked)}
    git(repo, "rebase", "-q", "main")
    rebased = git(repo, "rev-list", "main..HEAD").splitlines()
    entries = commits_in_log(repo, hooked)
    assert set(rebased) <= {e["sha"] for e in entries}
    for entry in entries:  # post-rewrite describes the new commits as post-commit does
        assert entry["tree"] == git(repo, "rev-parse", entry["sha"] + "^{tree}")
        assert entry["parents"] == git(repo, "log", "-1", "--format=%P", entry["sha"]).split()
    assert {r["from"] for r in rewrites(repo, hooked)} == before
    assert {r["to"] for r in rewrites(repo, hooked)} == set(rebased)
    # A cherry-pick onto another branch is found through its trailer.
    git(repo, "switch", "-q", "main")
    git(repo, "cherry-pick", rebased[0])
    assert git(repo, "rev-parse", "HEAD") in {e["sha"] for e in commits_in_log(repo, hooked)}


def test_hooks_honour_core_hookspath_and_chain_to_existing_hooks(
    repo: Path, gs, tmp_path: Path
) -> None:
    team = repo / ".githooks"
    team.mkdir()
    existing = team / "prepare-commit-msg"
    original = (
        '#!/bin/sh\necho "Reviewed-by: Team Bot" >> "$1"\necho ran >> "$(dirname "$0")/ran.log"\n'
    )
    existing.write_text(original)
    existing.chmod(0o750)
    git(repo, "config", "core.hooksPath", ".githooks")
    assert gs("hooks", "install").code == 0
    status = gs("hooks", "status", "--json").json()["git"]
    assert status["dir"] == str(team)
    assert status["hooks"]["prepare-commit-msg"] == "installed, runs the previous hook first"
    sid = gs("new", "Team hooks", "--json").json()["id"]
    commit(repo, "t.txt")
    message = git(repo, "log", "-1", "--format=%B")
    assert "Reviewed-by: Team Bot" in message and f"Session: {sid}" in message
    assert (team / "ran.log").read_text() == "ran\n"
    # The team's hook still decides: when it fails, the commit is refused.
    existing_prev = team / "prepare-commit-msg.gitsess-previous"
    existing_prev.write_text("#!/bin/sh\nexit 1\n")
    assert commit(repo, "refused.txt").returncode != 0
    existing_prev.write_text(original)
    assert gs("hooks", "uninstall").code == 0
    assert existing.read_text() == original and oct(existing.stat().st_mode & 0o777) == "0o750"
    assert not any(p.name.endswith(".gitsess-previous") for p in team.iterdir())
    assert not any((team / name).exists() for name in HOOKS if name != "prepare-commit-msg")


def test_linked_worktree_commits_are_recorded(repo: Path, gs, tmp_path: Path) -> None:
    gs("hooks", "install")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "--detach", str(linked))
    sid = gs("new", "In a worktree", "--json", cwd=linked).json()["id"]
    commit(linked, "w.txt")
    assert f"Session: {sid}" in git(linked, "log", "-1", "--format=%B")
    assert [e["subject"] for e in commits_in_log(repo, sid)] == ["Add w.txt"]


def test_a_broken_session_never_blocks_a_commit(repo: Path, gs, hooked: str) -> None:
    blob = git(repo, "hash-object", "-w", "--stdin", input="{broken")
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tsession.json\n")
    git(repo, "update-ref", f"refs/sessions/{hooked}", git(repo, "commit-tree", tree, "-m", "x"))
    done = commit(repo, "still.txt")
    assert done.returncode == 0
    assert len(done.stderr.strip().splitlines()) == 1 and "the commit is fine" in done.stderr
    assert git(repo, "log", "-1", "--format=%s") == "Add still.txt"


def test_without_gitsess_on_path_commits_still_work(repo: Path, gs, hooked: str) -> None:
    env = {**os.environ, "PATH": "/usr/bin:/bin", "GITSESS": "/nonexistent/gitsess"}
    (repo / "x.txt").write_text("x\n")
    git(repo, "add", "x.txt")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "No gitsess here"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0


def test_pre_push_pushes_shared_sessions_with_their_branch(repo: Path, gs, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    gs("hooks", "install")
    git(repo, "config", "gitsess.pushSessions", "true")
    made = gs("new", "Pushed along", "--json").json()
    gs("push", made["id"])
    commit(repo, "p.txt")
    git(repo, "push", "-q", "origin", made["branch"])
    remote_log = git(bare, "rev-parse", f"refs/sessions/{made['id']}")
    assert remote_log == git(repo, "rev-parse", f"refs/sessions/{made['id']}")
    assert [e["subject"] for e in commits_in_log(bare, made["id"])] == ["Add p.txt"]


def test_hooks_folder_holds_the_scripts_gitsess_installs() -> None:
    for name in HOOKS:
        shipped = ROOT / "hooks" / name
        assert shipped.read_text() == script(name), f"hooks/{name} is out of date"
        assert os.access(shipped, os.X_OK)
    declared = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: hooks/prepare-commit-msg" in declared
    for stage in ("post-commit", "post-rewrite"):
        assert f"entry: gitsess hook {stage}" in declared


def test_commits_are_recorded_in_the_background_by_default(
    repo: Path, gs, hooked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.delenv("GITSESS_HOOKS_FOREGROUND")
    assert commit(repo, "bg.txt").returncode == 0
    assert f"Session: {hooked}" in git(repo, "log", "-1", "--format=%B")
    deadline = time.monotonic() + 20
    while not commits_in_log(repo, hooked) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [e["sha"] for e in commits_in_log(repo, hooked)] == [git(repo, "rev-parse", "HEAD")]


def test_a_forged_trailer_is_recorded_but_never_verified(repo: Path, gs, hooked: str) -> None:
    git(repo, "switch", "-q", "main")
    commit(repo, "forged.txt", f"Not from the agent\n\nSession: {hooked}")
    sha = git(repo, "rev-parse", "HEAD")
    assert sha in {e["sha"] for e in commits_in_log(repo, hooked)}
    shown = gs("why", sha, "--json")
    assert shown.code == 0, shown.err
    (link,) = shown.json()["sessions"]
    assert link["session"]["id"] == hooked and link["verified"] is False
    assert "unverified" in gs("pr", "HEAD~1").out


def test_post_commit_does_not_record_a_commit_twice(repo: Path, gs, hooked: str) -> None:
    # As when post-rewrite, running beside a background post-commit, got there first.
    commit(repo, "twice.txt")
    sha = git(repo, "rev-parse", "HEAD")
    assert [e["sha"] for e in commits_in_log(repo, hooked)] == [sha]
    proc = subprocess.run(
        ["gitsess", "hook", "post-commit"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert [e["sha"] for e in commits_in_log(repo, hooked)] == [sha]


def _background_hooks_running(repo: Path) -> bool:
    """Whether a background `gitsess hook post-commit` started in ``repo`` is still running."""
    proc_root = Path("/proc")
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"hook" in argv and b"--background" in argv and Path(cwd) == repo.resolve():
            return True
    return False


def _wait_for_background(repo: Path, sid: str, wanted: int) -> None:
    """Until ``wanted`` commit entries are in the log and no background hook is left running
    (or a generous deadline: the assertions then say what is missing)."""
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = len({e["sha"] for e in commits_in_log(repo, sid)}) >= wanted
        if done and not _background_hooks_running(repo):
            return
        time.sleep(0.2)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc to see the jobs")
def test_quick_commits_in_the_background_are_each_recorded_once(
    repo: Path, gs, hooked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An agent committing in a tight loop: each background job must record the commit it
    # was started for, not whatever HEAD is by the time it runs, and never one twice.
    monkeypatch.delenv("GITSESS_HOOKS_FOREGROUND")
    made = []
    for number in range(20):
        assert commit(repo, f"quick{number}.txt").returncode == 0
        made.append(git(repo, "rev-parse", "HEAD"))
    _wait_for_background(repo, hooked, 20)
    recorded = commits_in_log(repo, hooked)
    assert sorted(e["sha"] for e in recorded) == sorted(made)
    by_sha = {e["sha"]: e for e in recorded}
    for sha in made:  # each entry describes its own commit, read from the commit object
        entry = by_sha[sha]
        assert entry["subject"] == git(repo, "log", "-1", "--format=%s", sha)
        assert entry["tree"] == git(repo, "rev-parse", f"{sha}^{{tree}}")
        assert entry["parents"] == git(repo, "log", "-1", "--format=%P", sha).split()
        assert entry["head"] == sha
    assert not (repo / ".git" / "gitsess" / "hooks.log").exists()


def test_racing_jobs_for_one_commit_record_it_once(repo: Path, gs, hooked: str) -> None:
    # Made with no hooks running, then recorded by several jobs at once (as a background
    # post-commit and post-rewrite, or a repeated hook, can be): one entry, whoever wins.
    (repo / "race.txt").write_text("race\n")
    git(repo, "add", "race.txt")
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "Race")
    sha = git(repo, "rev-parse", "HEAD")
    ref = git(repo, "symbolic-ref", "HEAD")
    jobs = [
        subprocess.Popen(["gitsess", "hook", "post-commit", sha, ref], cwd=repo) for _ in range(6)
    ]
    assert all(job.wait() == 0 for job in jobs)
    assert [e["sha"] for e in commits_in_log(repo, hooked)] == [sha]


def test_an_older_post_commit_script_is_rewritten_and_still_works(
    repo: Path, gs, hooked: str
) -> None:
    hook = repo / ".git" / "hooks" / "post-commit"
    installed = hook.read_text()
    # The script of earlier versions called the hook bare, reading HEAD itself.
    older = installed.replace(" $made", "").replace(
        '  made=$(git rev-parse HEAD --symbolic-full-name HEAD 2>/dev/null) || made=""\n', ""
    )
    assert older != installed and "rev-parse" not in older
    hook.write_text(older)
    assert commit(repo, "old.txt").returncode == 0
    assert [e["sha"] for e in commits_in_log(repo, hooked)] == [git(repo, "rev-parse", "HEAD")]
    assert gs("hooks", "install").code == 0
    assert hook.read_text() == installed


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc to see the jobs")
def test_an_amend_in_the_background_is_recorded_once(
    repo: Path, gs, hooked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # post-rewrite (in the foreground) and the background post-commit both see the amended
    # commit: whichever writes second finds it recorded.
    monkeypatch.delenv("GITSESS_HOOKS_FOREGROUND")
    commit(repo, "first.txt")
    _wait_for_background(repo, hooked, 1)
    old = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-q", "--amend", "-m", "Amended")
    new = git(repo, "rev-parse", "HEAD")
    _wait_for_background(repo, hooked, 2)
    assert [e["sha"] for e in commits_in_log(repo, hooked)] == [old, new]
    assert rewrites(repo, hooked) == [{"from": old, "to": new, "kind": "amend"}]
