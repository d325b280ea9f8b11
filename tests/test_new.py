"""`gitsess new`: a branch for the code and a log under refs/sessions/<id>."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import branches, git, make_repo, meta, session_ids


def test_new_creates_branch_log_and_checks_out(repo: Path, gs) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = gs("new", "Add dark mode", "--json")
    assert result.code == 0, result.err
    summary = result.json()
    sid = summary["id"]
    assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{10}", sid)
    assert summary["branch"] == f"session/add-dark-mode-{sid}"
    assert summary["entries"] == 0 and summary["current"] is True
    assert summary["log"] == git(repo, "rev-parse", f"refs/sessions/{sid}")
    assert git(repo, "symbolic-ref", "--short", "HEAD") == summary["branch"]
    stored = meta(repo, sid)
    assert stored["title"] == "Add dark mode" and stored["base"] == head
    assert stored["status"] == "active" and stored["visibility"] == "private"
    assert stored["author"] == {"name": "Ada Tester", "email": "ada@example.com"}
    # An empty log: session.json alone, and the commit says which session it is.
    assert git(repo, "ls-tree", "--name-only", f"refs/sessions/{sid}") == "session.json"
    assert f"Session: {sid}" in git(repo, "log", "-1", "--format=%B", f"refs/sessions/{sid}")


def test_new_human_output_names_session_and_branch(repo: Path, gs) -> None:
    result = gs("new", "Fix the login bug")
    assert result.code == 0
    (sid,) = session_ids(repo)
    assert sid in result.out and "Fix the login bug" in result.out
    assert f"session/fix-the-login-bug-{sid}" in result.out


def test_no_checkout_stays_on_current_branch(repo: Path, gs) -> None:
    summary = gs("new", "Later", "--no-checkout", "--json").json()
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert summary["branch"] in branches(repo)
    assert summary["current"] is False


def test_from_rev_starts_branch_there(repo: Path, gs) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "second")
    summary = gs("new", "From the start", "--from", "HEAD~1", "--json").json()
    assert git(repo, "rev-parse", "HEAD") == first
    assert summary["base"] == first


def test_unknown_from_rev_is_bad_input_and_writes_nothing(repo: Path, gs) -> None:
    result = gs("new", "Nowhere", "--from", "no-such-rev")
    assert result.code == 2 and "no-such-rev" in result.err
    assert session_ids(repo) == [] and branches(repo) == ["main"]


def test_local_changes_come_along(repo: Path, gs) -> None:
    (repo / "README.md").write_text("edited\n")
    (repo / "new.txt").write_text("untracked\n")
    assert gs("new", "Carry my edits").code == 0
    assert (repo / "README.md").read_text() == "edited\n"
    assert (repo / "new.txt").read_text() == "untracked\n"


def test_new_with_conflicting_local_changes_refuses_and_writes_nothing(repo: Path, gs) -> None:
    git(repo, "switch", "-q", "-c", "other")
    (repo / "README.md").write_text("other version\n")
    git(repo, "commit", "-q", "-am", "other")
    (repo / "README.md").write_text("my precious edit\n")
    result = gs("new", "From main", "--from", "main")
    assert result.code == 1
    assert "cannot check out" in result.err and len(result.err.splitlines()) == 1
    assert session_ids(repo) == [] and sorted(branches(repo)) == ["main", "other"]
    assert (repo / "README.md").read_text() == "my precious edit\n"


def test_detached_head(repo: Path, gs) -> None:
    git(repo, "checkout", "-q", "--detach")
    summary = gs("new", "Detached", "--json").json()
    assert git(repo, "symbolic-ref", "--short", "HEAD") == summary["branch"]


def test_linked_worktree(repo: Path, gs, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "--detach", str(linked))
    summary = gs("new", "In a worktree", "--json", cwd=linked).json()
    assert git(linked, "symbolic-ref", "--short", "HEAD") == summary["branch"]
    # The log is shared with the main work tree, which is still on main.
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert [row["id"] for row in gs("list", "--json").json()] == [summary["id"]]
    assert gs("status", "--json", cwd=linked).json()["id"] == summary["id"]


def test_repository_without_commits(tmp_path: Path, gs) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    summary = gs("new", "First steps", "--json", cwd=empty).json()
    assert summary["base"] is None
    assert git(empty, "symbolic-ref", "--short", "HEAD") == summary["branch"]
    (empty / "a.txt").write_text("a\n")
    git(empty, "add", "a.txt")
    git(empty, "commit", "-q", "-m", "first")
    assert gs("status", "--json", cwd=empty).json()["id"] == summary["id"]


def test_branch_prefix_is_configurable(repo: Path, gs) -> None:
    git(repo, "config", "gitsess.branchPrefix", "ai/")
    summary = gs("new", "Prefixed", "--json").json()
    assert summary["branch"] == f"ai/prefixed-{summary['id']}"


def test_invalid_branch_prefix_is_bad_input(repo: Path, gs) -> None:
    git(repo, "config", "gitsess.branchPrefix", "bad..prefix/")
    result = gs("new", "Whatever")
    assert result.code == 2 and "gitsess.branchPrefix" in result.err
    assert session_ids(repo) == []


@pytest.mark.parametrize(
    "title",
    [
        "feature/login: fix ../../etc/passwd",
        "..",
        "Add ✨ sparkles 🎉 to the UI",
        "🎉🎉🎉",
        "x" * 300,
        "Ünïcödé façade — naïve",
        "refs/heads/main",
        "@{-1}",
        "a.lock",
    ],
)
def test_awkward_titles_make_valid_branches_and_keep_the_title(repo: Path, gs, title: str) -> None:
    result = gs("new", title, "--json")
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["title"] == title
    git(repo, "check-ref-format", "--branch", summary["branch"])  # raises if invalid
    assert meta(repo, summary["id"])["title"] == title


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("line\nbreak", "control"),
        ("bell\x07", "control"),
        ("tab\there", "control"),
    ],
)
def test_invalid_titles_are_rejected_with_nothing_written(
    repo: Path, gs, title: str, reason: str
) -> None:
    result = gs("new", title)
    assert result.code == 2
    assert reason in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert session_ids(repo) == [] and branches(repo) == ["main"]
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"


def test_second_repo_is_independent(tmp_path: Path, gs) -> None:
    one = make_repo(tmp_path / "one")
    two = make_repo(tmp_path / "two")
    gs("new", "Only in one", cwd=one)
    assert gs("list", "--json", cwd=two).json() == []


def test_a_log_that_cannot_be_written_leaves_no_branch_behind(repo: Path, gs) -> None:
    # A file where the refs/sessions folder should be: git cannot create the log's ref.
    (repo / ".git" / "refs" / "sessions").write_text("in the way\n")
    (repo / "README.md").write_text("local edit\n")
    result = gs("new", "Doomed")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    assert branches(repo) == ["main"]
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert (repo / "README.md").read_text() == "local edit\n"
    (repo / ".git" / "refs" / "sessions").unlink()


def test_every_way_of_making_a_session_writes_a_valid_session_json(
    repo: Path, gs, tmp_path: Path
) -> None:
    """session.json is built without pydantic on the fast paths: the model still holds."""
    from gitsess.model import check_meta

    made = gs("new", "Made", "--json").json()["id"]
    gs("record", "--role", "user", "hello")
    forked = gs("fork", made, "--json").json()["id"]
    exported = tmp_path / "made.jsonl"
    gs("export", made, "-o", str(exported))
    imported = gs("import", str(exported), "--no-checkout", "--json").json()["id"]
    for sid in (made, forked, imported):
        check_meta(meta(repo, sid))


def test_every_default_branch_name_is_one_git_accepts(repo: Path) -> None:
    """With the default prefix gitsess does not ask git whether the name is valid: the
    slug and the id make it so. git agrees, whatever the title."""
    from .conftest import run_cli

    for title in ("Plain", "..lock", "a/b\\c", "trail-", "x.lock", "日本語", "@{u}", "~^:?*["):
        made = run_cli(repo, "new", title, "--no-checkout", "--json")
        assert made.code == 0, made.err
        branch = json.loads(made.out)["branch"]
        assert git(repo, "check-ref-format", "--branch", branch) == branch
        assert git(repo, "rev-parse", "--verify", f"refs/heads/{branch}")
