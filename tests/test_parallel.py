"""Parallel attempts with real worktrees, real processes and real merges: a worktree per
session, tasks and trials, compare, diff and promote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import git, gitsess_exe, run_cli


def made(result: Any) -> dict[str, Any]:
    assert result.code == 0, result.err
    document: dict[str, Any] = result.json()
    return document


def on_main(repo: Path) -> Path:
    """``repo`` on branch main with a file to change."""
    git(repo, "checkout", "-q", "-B", "main")
    return repo


def commit_file(where: Path, name: str, text: str, message: str) -> str:
    (where / name).write_text(text)
    git(where, "add", name)
    git(where, "commit", "-q", "-m", message)
    return git(where, "rev-parse", "HEAD")


def test_new_with_a_worktree_leaves_the_main_checkout_alone(repo: Path) -> None:
    on_main(repo)
    (repo / "README.md").write_text("local edit\n")  # uncommitted: must stay as it is
    session = made(run_cli(repo, "new", "Side work", "--worktree", "--json"))
    path = Path(session["worktree"])
    assert path.is_dir() and not path.is_relative_to(repo)  # outside the main work tree
    assert path.parent.name == f"{repo.name}.worktrees"
    assert git(path, "branch", "--show-current") == session["branch"]
    assert git(repo, "branch", "--show-current") == "main"
    assert (repo / "README.md").read_text() == "local edit\n"
    again = made(run_cli(repo, "resume", session["id"], "--worktree", "--json"))
    assert (again["worktree"], again["created"]) == (str(path), False)
    status = made(run_cli(path, "status", "--json"))
    assert status["id"] == session["id"]  # inside the worktree, it is the current session
    assert run_cli(path, "record", "--role", "user", "from the worktree").code == 0
    assert made(run_cli(repo, "show", session["id"], "--json"))["entries"][0]["content"] == (
        "from the worktree"
    )


def test_worktree_location_is_configurable_and_a_deleted_one_comes_back(
    repo: Path, tmp_path: Path
) -> None:
    git(repo, "config", "gitsess.worktreeDir", "../trees")
    session = made(run_cli(repo, "new", "Configured", "--no-checkout", "--json"))
    where = run_cli(repo, "worktree", session["id"])
    assert where.code == 0, where.err
    path = Path(where.out.strip())
    assert path.parent == (tmp_path / "trees") and path.is_dir()
    subprocess.run(["rm", "-rf", str(path)], check=True)  # deleted by hand
    back = made(run_cli(repo, "resume", session["id"], "--worktree", "--json"))
    assert back["created"] is True and Path(back["worktree"]).is_dir()
    explicit = tmp_path / "here"
    other = made(run_cli(repo, "new", "Explicit", "--worktree", str(explicit), "--json"))
    assert other["worktree"] == str(explicit) and (explicit / "README.md").exists()


def test_hooks_serve_every_worktree(repo: Path) -> None:
    """git hooks (one set for all worktrees) link a worktree's commits; agent hooks
    installed in the main worktree are carried into each new one."""
    assert run_cli(repo, "hooks", "install").code == 0
    assert run_cli(repo, "hooks", "install", "--agent", "claude-code").code == 0
    session = made(run_cli(repo, "new", "Hooked", "--worktree", "--json"))
    path = Path(session["worktree"])
    settings = json.loads((path / ".claude" / "settings.local.json").read_text())
    assert "capture --agent claude-code" in json.dumps(settings["hooks"])
    sha = commit_file(path, "w.txt", "w\n", "made in the worktree")
    entries = made(run_cli(repo, "show", session["id"], "--json"))["entries"]
    assert [e["sha"] for e in entries if e["type"] == "commit"] == [sha]


def test_two_agents_in_two_worktrees_lose_nothing(repo: Path) -> None:
    a = made(run_cli(repo, "new", "Agent A", "--worktree", "--json"))
    b = made(run_cli(repo, "new", "Agent B", "--worktree", "--json"))
    script = (
        "import subprocess, sys\n"
        "for n in range(int(sys.argv[2])):\n"
        "    args = [sys.argv[1], 'record', '--role', 'assistant', f'turn {n}']\n"
        "    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)\n"
    )
    turns = 25
    procs = [
        subprocess.Popen([sys.executable, "-c", script, gitsess_exe(), str(turns)], cwd=where)
        for where in (a["worktree"], b["worktree"])
    ]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    for session in (a, b):
        entries = made(run_cli(repo, "show", session["id"], "--json"))["entries"]
        assert [e["content"] for e in entries] == [f"turn {n}" for n in range(turns)]


def test_try_starts_numbered_trials_of_a_task(repo: Path) -> None:
    on_main(repo)
    first = made(run_cli(repo, "try", "Dark mode", "-n", "3", "--worktree", "--json"))
    assert [s["title"] for s in first] == ["Dark mode #1", "Dark mode #2", "Dark mode #3"]
    assert all(s["task"] == "Dark mode" and s["from_branch"] == "main" for s in first)
    assert len({s["worktree"] for s in first}) == 3
    assert all(git(Path(s["worktree"]), "branch", "--show-current") == s["branch"] for s in first)
    assert git(repo, "branch", "--show-current") == "main"
    more = made(run_cli(repo, "try", "Dark mode", "-n", "1", "--json"))
    assert [s["title"] for s in more] == ["Dark mode #4"] and more[0].get("worktree") is None
    tasks = made(run_cli(repo, "task", "list", "--json"))
    assert tasks[0]["task"] == "Dark mode" and tasks[0]["sessions"] == 4
    assert run_cli(repo, "try", "x", "-n", "0").code == 2
    forked = made(run_cli(repo, "fork", first[0]["id"], "--no-checkout", "--json"))
    assert forked["task"] == "Dark mode"  # another attempt at the same task


def test_compare_rows(repo: Path) -> None:
    on_main(repo)
    trials = made(run_cli(repo, "try", "Speed", "-n", "2", "--worktree", "--json"))
    one = Path(trials[0]["worktree"])
    commit_file(one, "fast.py", "a\nb\nc\n", "faster")
    commit_file(one, "README.md", "hello\nworld\n", "docs")
    lines = [
        {"type": "message", "role": "user", "content": "make it fast"},
        {"type": "message", "role": "system", "content": "reminder", "meta": {"injected": True}},
        {"type": "tool_call", "name": "Bash", "input": {"command": "pytest"}, "call_id": "c1"},
        {"type": "tool_result", "call_id": "c1", "output": "ok"},
        {
            "type": "message",
            "role": "assistant",
            "content": "done",
            "meta": {"message": {"id": "m1", "usage": {"input_tokens": 100, "output_tokens": 20}}},
        },
        {"type": "event", "name": "check", "data": {"name": "tests", "result": "fail"}},
        {"type": "event", "name": "check", "data": {"name": "tests", "result": "pass"}},
        {"type": "event", "name": "check", "data": {"name": "lint", "result": "fail"}},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines).encode()
    assert run_cli(one, "record", "--jsonl", "-", stdin=stdin).code == 0
    rows = made(run_cli(repo, "compare", "--task", "Speed", "--json"))
    by_id = {row["id"]: row for row in rows}
    row = by_id[trials[0]["id"]]
    assert (row["entries"], row["user_turns"], row["tool_calls"]) == (8, 1, 1)
    code = (row["commits"], row["files_changed"], row["insertions"], row["deletions"])
    assert code == (2, 2, 4, 0)
    assert row["checks"] == {"tests": "pass", "lint": "fail"}
    assert (row["checks_passed"], row["checks_failed"], row["tokens"]) == (1, 1, 120)
    idle = by_id[trials[1]["id"]]
    assert (idle["entries"], idle["commits"], idle["tokens"]) == (0, 0, None)
    table = run_cli(repo, "compare", trials[0]["id"], trials[1]["id"])
    assert table.code == 0 and "Speed #1" in table.out and "✓1 ✗1" in table.out
    assert run_cli(repo, "compare").code == 2


def test_diff_passes_git_options_through(repo: Path) -> None:
    on_main(repo)
    a, b = made(run_cli(repo, "try", "Diff", "-n", "2", "--worktree", "--json"))
    commit_file(Path(a["worktree"]), "x.txt", "from a\n", "a")
    commit_file(Path(b["worktree"]), "y.txt", "from b\n", "b")
    names = run_cli(repo, "diff", a["id"], b["id"], "--name-status")
    assert names.code == 0 and names.out.splitlines() == ["D\tx.txt", "A\ty.txt"]
    only = run_cli(repo, "diff", a["id"], b["id"], "--stat", "--", "y.txt")
    assert "y.txt" in only.out and "x.txt" not in only.out
    quiet = run_cli(repo, "diff", a["id"], b["id"], "--quiet")
    assert quiet.code == 1  # git's own status: they differ


def refs_and_state(repo: Path) -> tuple[str, str, bool]:
    return (
        git(repo, "for-each-ref", "refs/heads"),
        git(repo, "status", "--porcelain"),
        (repo / ".git" / "MERGE_HEAD").exists(),
    )


def test_promote_fast_forwards_and_retires_the_other_trials(repo: Path) -> None:
    on_main(repo)
    trials = made(run_cli(repo, "try", "Pick", "-n", "3", "--worktree", "--json"))
    winner, dirty, clean = trials
    sha = commit_file(Path(winner["worktree"]), "win.txt", "yes\n", "the winner")
    (Path(dirty["worktree"]) / "unsaved.txt").write_text("keep me\n")
    result = run_cli(repo, "promote", winner["id"], "--json")
    done = made(result)
    assert (done["into"], done["how"], done["commit"]) == ("main", "fast-forward", sha)
    assert git(repo, "rev-parse", "main") == sha and (repo / "win.txt").read_text() == "yes\n"
    assert sorted(done["archived"]) == sorted([dirty["id"], clean["id"]])
    assert done["removed_worktrees"] == [clean["worktree"]]
    assert not Path(clean["worktree"]).exists()
    assert (Path(dirty["worktree"]) / "unsaved.txt").read_text() == "keep me\n"
    assert dirty["worktree"] in done["kept_worktrees"]
    entries = made(run_cli(repo, "show", winner["id"], "--json"))["entries"]
    assert entries[-1]["type"] == "event" and entries[-1]["name"] == "promoted"
    assert entries[-1]["data"]["into"] == "main"
    assert run_cli(repo, "unarchive", clean["id"]).code == 0  # recoverable


def test_promote_merges_without_checking_the_target_out(repo: Path) -> None:
    on_main(repo)
    session = made(run_cli(repo, "new", "Feature", "--worktree", "--json"))
    commit_file(Path(session["worktree"]), "feature.txt", "f\n", "feature")
    main_tip = commit_file(repo, "other.txt", "o\n", "main moved on")
    git(repo, "checkout", "-q", "-b", "elsewhere")  # main is checked out nowhere now
    done = made(run_cli(repo, "promote", session["id"], "--json"))
    assert done["how"] == "merge"
    parents = git(repo, "rev-list", "--parents", "-n", "1", "main").split()[1:]
    assert parents == [main_tip, git(repo, "rev-parse", session["branch"])]
    message = git(repo, "log", "-1", "--format=%B", "main")
    assert message.startswith(f"Merge branch '{session['branch']}' into main")
    assert f"Session: {session['id']}" in message
    assert git(repo, "ls-tree", "--name-only", "main").split() == [
        "README.md",
        "feature.txt",
        "other.txt",
    ]
    assert git(repo, "branch", "--show-current") == "elsewhere"
    again = run_cli(repo, "promote", session["id"])
    assert again.code == 0 and "already has everything" in again.out


def test_promote_squash_and_ff_only(repo: Path) -> None:
    on_main(repo)
    session = made(run_cli(repo, "new", "Squashed", "--worktree", "--json"))
    commit_file(Path(session["worktree"]), "s1.txt", "1\n", "one")
    commit_file(Path(session["worktree"]), "s2.txt", "2\n", "two")
    main_tip = commit_file(repo, "m.txt", "m\n", "main moved")
    refused = run_cli(repo, "promote", session["id"], "--ff-only")
    assert refused.code == 1 and "fast-forward is impossible" in refused.err
    assert git(repo, "rev-parse", "main") == main_tip
    done = made(run_cli(repo, "promote", session["id"], "--squash", "--json"))
    assert done["how"] == "squash"
    assert git(repo, "rev-list", "--parents", "-n", "1", "main").split()[1:] == [main_tip]
    assert sorted(git(repo, "ls-tree", "--name-only", "main").split()) == [
        "README.md",
        "m.txt",
        "s1.txt",
        "s2.txt",
    ]
    assert (repo / "s2.txt").exists()  # main is checked out here: its files follow


@pytest.mark.parametrize("trouble", ["conflict", "dirty", "merging"])
def test_promote_refuses_and_changes_nothing(repo: Path, trouble: str) -> None:
    on_main(repo)
    session = made(run_cli(repo, "new", "Risky", "--worktree", "--json"))
    commit_file(Path(session["worktree"]), "README.md", "theirs\n", "theirs")
    if trouble == "conflict":
        commit_file(repo, "README.md", "ours\n", "ours")
    elif trouble == "dirty":
        commit_file(repo, "n.txt", "n\n", "main moved")
        (repo / "n.txt").write_text("uncommitted\n")
    else:
        commit_file(repo, "n.txt", "n\n", "main moved")
        git(repo, "checkout", "-q", "-b", "side", "HEAD~1")
        commit_file(repo, "n.txt", "side\n", "side")
        git(repo, "checkout", "-q", "main")
        git(repo, "merge", "side", check=False)  # stops with a conflict: a merge in progress
    before = refs_and_state(repo)
    log_before = git(repo, "rev-parse", f"refs/sessions/{session['id']}")
    result = run_cli(repo, "promote", session["id"])
    assert result.code == 1 and len(result.err.splitlines()) == 1, result.err
    assert "nothing was changed" in result.err and "Traceback" not in result.err
    assert refs_and_state(repo) == before
    assert git(repo, "rev-parse", f"refs/sessions/{session['id']}") == log_before
    if trouble == "merging":
        git(repo, "merge", "--abort")


def test_promote_needs_a_target(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    session = made(run_cli(repo, "new", "Detached start", "--no-checkout", "--json"))
    result = run_cli(repo, "promote", session["id"])
    assert result.code == 2 and "--into BRANCH" in result.err
    assert run_cli(repo, "promote", session["id"], "--into", "nope").code == 2


def test_status_names_the_worktree_and_archive_or_delete_can_remove_it(repo: Path) -> None:
    on_main(repo)
    one = made(run_cli(repo, "new", "One", "--worktree", "--json"))
    two = made(run_cli(repo, "new", "Two", "--worktree", "--json"))
    status = run_cli(Path(one["worktree"]), "status")
    assert f"worktree {one['worktree']}" in status.out
    assert made(run_cli(Path(one["worktree"]), "status", "--json"))["worktree"] == one["worktree"]
    assert "worktree" not in run_cli(repo, "status").out
    (Path(one["worktree"]) / "draft.txt").write_text("unsaved\n")
    refused = run_cli(repo, "archive", one["id"], "--remove-worktree")
    assert refused.code == 1 and "uncommitted changes" in refused.err
    assert made(run_cli(repo, "show", one["id"], "--json"))["session"]["status"] == "active"
    assert (Path(one["worktree"]) / "draft.txt").exists()
    done = run_cli(repo, "archive", two["id"], "--remove-worktree")
    assert done.code == 0 and f"Removed its worktree {two['worktree']}" in done.out
    assert not Path(two["worktree"]).exists()
    (Path(one["worktree"]) / "draft.txt").unlink()
    deleted = run_cli(repo, "delete", one["id"], "--remove-worktree")
    assert deleted.code == 0 and not Path(one["worktree"]).exists()
    assert git(repo, "worktree", "list").count("\n") == 0  # only the main one is left


def test_list_marks_worktrees_and_filters_by_task(repo: Path) -> None:
    on_main(repo)
    trials = made(run_cli(repo, "try", "Listed", "-n", "2", "--worktree", "--json"))
    plain = made(run_cli(repo, "new", "Plain", "--no-checkout", "--json"))
    lines = run_cli(repo, "list").out.splitlines()
    assert lines[0].split()[-1] == "worktree"
    for trial in trials:
        line = next(x for x in lines if trial["id"] in x)
        assert line.startswith(f"+  {trial['id']}") and line.endswith(trial["worktree"])
    assert next(x for x in lines if plain["id"] in x).startswith(f"   {plain['id']}")
    inside = run_cli(Path(trials[0]["worktree"]), "list").out.splitlines()
    assert next(x for x in inside if trials[0]["id"] in x).startswith("*")  # current there
    listed = made(run_cli(repo, "list", "--task", "Listed", "--json"))
    assert sorted(r["id"] for r in listed) == sorted(t["id"] for t in trials)
    assert run_cli(repo, "list", "--task", "Nope").out == "No sessions of task 'Nope'.\n"


def test_capture_in_each_worktree_writes_to_that_worktrees_session(
    repo: Path, tmp_path: Path
) -> None:
    from .test_capture import hook, turn, write_transcript

    sessions = made(run_cli(repo, "try", "Captured", "-n", "2", "--worktree", "--json"))
    for n, session in enumerate(sessions, start=1):
        transcript = tmp_path / f"agent-{n}.jsonl"
        write_transcript(transcript, turn(n))
        payload = {"transcript_path": str(transcript), "cwd": session["worktree"]}
        result = hook(Path(session["worktree"]), payload)
        assert result.returncode == 0 and result.stderr == "", result.stderr
    for n, session in enumerate(sessions, start=1):
        entries = made(run_cli(repo, "show", session["id"], "--json"))["entries"]
        assert [e["id"] for e in entries] == [f"u{n}", f"a{n}"]


def test_agent_hooks_installed_later_reach_existing_worktrees(repo: Path) -> None:
    session = made(run_cli(repo, "new", "Early", "--worktree", "--json"))
    settings = Path(session["worktree"]) / ".claude" / "settings.local.json"
    assert not settings.exists()
    result = run_cli(repo, "hooks", "install", "--agent", "claude-code")
    assert result.code == 0 and f"worktree {session['worktree']} too" in result.out
    assert "capture --agent claude-code" in settings.read_text()
    assert git(Path(session["worktree"]), "status", "--porcelain") == ""  # excluded there too
