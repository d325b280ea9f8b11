"""Bad input everywhere: one line on stderr, the format's exit code, no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import git, make_repo, run_cli, session_ids


def test_not_a_repository(tmp_path: Path, gs) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for args in (("list",), ("new", "x"), ("status",)):
        result = gs(*args, cwd=plain)
        assert result.code == 2 and "not a git repository" in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_missing_directory(tmp_path: Path, gs) -> None:
    result = gs("list", cwd=tmp_path / "nope")
    assert result.code == 2 and "no such directory" in result.err


def test_bare_repository_is_named_as_such(tmp_path: Path, gs) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    result = gs("new", "x", cwd=bare)
    assert result.code == 2 and "bare repository" in result.err


def test_unknown_command_and_option(repo: Path, gs) -> None:
    for args in (("frobnicate",), ("list", "--bogus"), ("show",)):
        result = gs(*args)
        assert result.code == 2
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_cli_subprocess_errors_have_no_traceback(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_cli(plain, "status")
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == f"gitsess: not a git repository: {plain}"


def test_non_utf8_title_from_argv(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    result = run_cli(repo, "new", os.fsdecode(b"caf\xe9"))
    assert result.code == 2 and "not valid UTF-8" in result.err
    assert session_ids(repo) == []


def test_corrupt_session_json_is_a_clear_error(repo: Path, gs) -> None:
    sid = gs("new", "Will break", "--json").json()["id"]
    blob = git(repo, "hash-object", "-w", "--stdin", input="{not json")
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tsession.json\n")
    commit = git(repo, "commit-tree", tree, "-m", "broken")
    git(repo, "update-ref", f"refs/sessions/{sid}", commit)
    result = gs("show", sid)
    assert result.code == 2 and "not a JSON object" in result.err
    assert gs("list", "--json").json() == []  # listed sessions skip it rather than crash


def test_debug_shows_tracebacks_of_internal_errors(
    repo: Path, gs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitsess import sessions

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(sessions.Sessions, "page", boom)
    result = gs("list")
    assert result.code == 1 and "internal error: RuntimeError: kaboom" in result.err
    assert "--debug" in result.err
    with pytest.raises(RuntimeError):
        gs("--debug", "list")
