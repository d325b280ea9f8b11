"""`gitsess` and `git session` are the same program."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import git, run_cli


def test_git_session_works_like_gitsess(repo: Path) -> None:
    made = run_cli(repo, "new", "Through git", "--json")
    assert made.code == 0, made.err
    sid = json.loads(made.out)["id"]
    via_git = run_cli(repo, "session", "list", "--json", program="git")
    assert via_git.code == 0, via_git.err
    assert [row["id"] for row in json.loads(via_git.out)] == [sid]
    assert git(repo, "session", "status", "--json") == run_cli(repo, "status", "--json").out.strip()


def test_version_and_help(repo: Path) -> None:
    version = run_cli(repo, "--version")
    assert version.code == 0 and version.out.startswith("gitsess, version ")
    helped = run_cli(repo, "--help")
    assert helped.code == 0
    for command in (
        "new",
        "list",
        "show",
        "record",
        "fork",
        "resume",
        "status",
        "rename",
        "archive",
        "unarchive",
        "delete",
        "undelete",
    ):
        assert command in helped.out


def test_output_is_uncoloured_when_piped(repo: Path) -> None:
    run_cli(repo, "new", "Colours")
    shown = run_cli(repo, "list")
    assert "\x1b[" not in shown.out and "Colours" in shown.out


def test_no_command_prints_the_help(repo: Path) -> None:
    for args in ((), ("hooks",), ("remote",)):
        result = run_cli(repo, *args)
        assert result.code == 0 and result.out.startswith("Usage: gitsess") and result.err == ""
