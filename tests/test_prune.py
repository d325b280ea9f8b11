"""`gitsess prune`: recoverable deletion of empty, old or archived sessions, in bulk."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import git, meta, run_cli, session_ids, trash_logs


def new(repo: Path, title: str, *args: str) -> str:
    made = run_cli(repo, "new", title, "--no-checkout", "--json", *args)
    assert made.code == 0, made.err
    return str(json.loads(made.out)["id"])


def say(repo: Path, session_id: str, text: str = "hello") -> None:
    assert run_cli(repo, "record", session_id, "--role", "user", text).code == 0


def age(repo: Path, session_id: str, stamp: str) -> None:
    """Give the session's log a commit whose session.json says it last changed at
    ``stamp`` (as a session untouched since then would), keeping its entries."""
    ref = f"refs/sessions/{session_id}"
    old = git(repo, "rev-parse", ref)
    data = {**meta(repo, session_id), "updated": stamp, "created": stamp}
    blob = git(repo, "hash-object", "-w", "--stdin", input=json.dumps(data))
    rows = git(repo, "ls-tree", ref).splitlines()
    rows = [r for r in rows if not r.endswith("\tsession.json")]
    tree = git(repo, "mktree", input="\n".join([*rows, f"100644 blob {blob}\tsession.json"]))
    message = git(repo, "log", "-1", "--format=%B", ref)
    commit = git(repo, "commit-tree", tree, "-p", old, "-m", message)
    git(repo, "update-ref", ref, commit, old)


def test_without_criteria_it_is_a_one_line_error_and_nothing_changes(repo: Path) -> None:
    new(repo, "Empty")
    before = session_ids(repo)
    result = run_cli(repo, "prune")
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "gitsess: say what to prune: --empty, --older-than DURATION, --archived (combinable)\n"
    )
    bad = run_cli(repo, "prune", "--older-than", "soon")
    assert bad.code == 2 and len(bad.err.splitlines()) == 1
    assert "invalid --older-than 'soon'" in bad.err
    assert session_ids(repo) == before


def test_empty_sessions_go_recoverably_and_their_branches_stay(repo: Path) -> None:
    empty, other = new(repo, "Nothing said"), new(repo, "Nothing either")
    talked = new(repo, "Talked")
    say(repo, talked)
    result = run_cli(repo, "prune", "--empty")
    assert result.code == 0, result.err
    assert "Pruned 2 sessions:" in result.out
    assert f"{empty}  Nothing said  (0 entries)" in result.out
    assert "gitsess undelete" in result.out
    assert session_ids(repo) == [talked]
    assert len(trash_logs(repo)) == 2
    branches = git(repo, "branch", "--format=%(refname:short)").split()
    assert f"session/nothing-said-{empty}" in branches  # as `delete`: the code stays
    listed = run_cli(repo, "undelete").out
    assert empty in listed and other in listed
    assert run_cli(repo, "undelete", empty).code == 0
    assert sorted(session_ids(repo)) == sorted([empty, talked])
    assert run_cli(repo, "prune", "--empty").out.startswith("Pruned 1 session:")


def test_dry_run_lists_and_changes_nothing(repo: Path) -> None:
    empty = new(repo, "Empty")
    refs = git(repo, "for-each-ref")
    result = run_cli(repo, "prune", "--empty", "--dry-run")
    assert result.code == 0
    assert result.out.startswith("Would prune 1 session:") and empty in result.out
    assert git(repo, "for-each-ref") == refs and trash_logs(repo) == []
    data = json.loads(run_cli(repo, "prune", "--empty", "--dry-run", "--json").out)
    assert data["dry_run"] is True and [p["id"] for p in data["pruned"]] == [empty]
    assert git(repo, "for-each-ref") == refs


def test_criteria_combine_as_and(repo: Path) -> None:
    archived_empty = new(repo, "Archived empty")
    archived_full = new(repo, "Archived full")
    say(repo, archived_full)
    active_empty = new(repo, "Active empty")
    for sid in (archived_empty, archived_full):
        assert run_cli(repo, "archive", sid).code == 0
    data = json.loads(run_cli(repo, "prune", "--archived", "--empty", "--json").out)
    assert [p["id"] for p in data["pruned"]] == [archived_empty]
    assert sorted(session_ids(repo)) == sorted([archived_full, active_empty])
    data = json.loads(run_cli(repo, "prune", "--archived", "--json").out)
    assert [p["id"] for p in data["pruned"]] == [archived_full]
    assert session_ids(repo) == [active_empty]


def test_older_than_reads_the_last_change(repo: Path) -> None:
    ancient, recent = new(repo, "Ancient"), new(repo, "Recent")
    say(repo, ancient)
    age(repo, ancient, "2020-01-01T00:00:00.000Z")
    age(repo, recent, "2020-01-01T00:00:00Z")
    assert run_cli(repo, "rename", recent, "Renamed today").code == 0  # a change: `changed`
    hostile = new(repo, "Hostile time")
    age(repo, hostile, "not a time \x1b[31m")  # unreadable: its age is unknown, never old
    result = run_cli(repo, "prune", "--older-than", "90d")
    assert result.code == 0, result.err
    assert result.out.startswith("Pruned 1 session:") and ancient in result.out
    assert sorted(session_ids(repo)) == sorted([recent, hostile])
    assert "No sessions match" in run_cli(repo, "prune", "--older-than", "52w").out


def test_the_current_a_checked_out_and_a_pinned_session_stay(repo: Path, tmp_path: Path) -> None:
    current = json.loads(run_cli(repo, "new", "Here", "--json").out)["id"]
    elsewhere = new(repo, "Elsewhere")
    worktree = tmp_path / "elsewhere"
    git(repo, "worktree", "add", "-q", str(worktree), meta(repo, elsewhere)["branch"])
    pinned = new(repo, "Pinned")
    assert run_cli(repo, "pin", pinned).code == 0
    gone = new(repo, "Gone")
    result = run_cli(repo, "prune", "--empty")
    assert result.code == 0, result.err
    assert result.out.startswith("Pruned 1 session:") and gone in result.out
    assert f"{current}  Here: the current session" in result.out
    assert f"{elsewhere}  Elsewhere: checked out in {worktree}" in result.out
    assert f"{pinned}  Pinned: pinned" in result.out
    assert sorted(session_ids(repo)) == sorted([current, elsewhere, pinned])
    kept = json.loads(run_cli(repo, "prune", "--empty", "--json").out)["kept"]
    assert {k["id"] for k in kept} == {current, elsewhere, pinned}


def test_a_shared_session_with_unpushed_changes_stays(work: Path) -> None:
    pushed, changed = new(work, "Pushed"), new(work, "Changed since")
    for sid in (pushed, changed):
        say(work, sid)
        assert run_cli(work, "archive", sid).code == 0
        assert run_cli(work, "push", "origin", sid).code == 0
    say(work, changed, "only here")  # the remote's copy lacks this
    result = run_cli(work, "prune", "--archived")
    assert result.code == 0, result.err
    assert result.out.startswith("Pruned 1 session:") and pushed in result.out
    assert f"{changed}  Changed since: shared, with changes no remote has" in result.out
    assert "their copies on origin stay" in result.err
    assert session_ids(work) == [changed]
    assert run_cli(work, "push", "origin", changed).code == 0
    assert run_cli(work, "prune", "--archived").out.startswith("Pruned 1 session:")
    assert session_ids(work) == []


def test_many_sessions_are_pruned_in_one_transaction(repo: Path) -> None:
    made = [new(repo, f"Empty {n}") for n in range(12)]
    git(repo, "pack-refs", "--all")  # packed and loose refs together
    made.append(new(repo, "Loose"))
    result = run_cli(repo, "prune", "--empty")
    assert result.code == 0 and result.out.startswith("Pruned 13 sessions:")
    assert session_ids(repo) == []
    assert sorted(line.split()[0] for line in run_cli(repo, "undelete").out.splitlines()) == sorted(
        made
    )
