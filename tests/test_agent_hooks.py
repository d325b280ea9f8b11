"""`gitsess hooks install|uninstall|status --agent`: merged into the agent's settings, ours only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import git

CLAUDE = ".claude/settings.local.json"


def excluded(repo: Path) -> str:
    exclude = repo / ".git/info/exclude"
    return exclude.read_text() if exclude.exists() else ""


def test_claude_code_hooks_merge_and_uninstall_restores(repo: Path, gs) -> None:
    settings = repo / CLAUDE
    settings.parent.mkdir()
    original = {
        "permissions": {"allow": ["Bash(ls)"]},
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-me"}]}]},
    }
    settings.write_text(json.dumps(original, indent=2) + "\n")
    result = gs("hooks", "install", "--agent", "claude-code")
    assert result.code == 0 and "UserPromptSubmit, Stop, SubagentStop, SessionEnd" in result.out
    merged = json.loads(settings.read_text())
    assert merged["permissions"] == original["permissions"]
    stop = [h["command"] for g in merged["hooks"]["Stop"] for h in g["hooks"]]
    assert stop[0] == "notify-me" and stop[1].endswith("capture --agent claude-code")
    assert "already installed" in gs("hooks", "install", "--agent", "claude").out
    assert len(json.loads(settings.read_text())["hooks"]["Stop"]) == 2  # not twice
    status = gs("hooks", "status", "--json").json()["agents"]
    assert {r["agent"]: r["installed"] for r in status} == {
        "claude-code": True,
        "gemini": False,
        "codex": False,
    }
    assert gs("hooks", "uninstall", "--agent", "claude-code").code == 0
    assert json.loads(settings.read_text()) == original


def test_gemini_hooks_in_a_fresh_file_leave_nothing_behind(repo: Path, gs) -> None:
    assert gs("hooks", "install", "--agent", "gemini").code == 0
    data = json.loads((repo / ".gemini/settings.json").read_text())
    assert set(data["hooks"]) == {"AfterAgent", "SessionEnd"}
    gs("hooks", "uninstall", "--agent", "gemini")
    assert not (repo / ".gemini").exists()


def test_codex_block_keeps_the_users_toml(repo: Path, gs) -> None:
    config = repo / ".codex/config.toml"
    config.parent.mkdir()
    original = '# mine\nmodel = "o5"\n\n[features]\nweb_search = true\n'
    config.write_text(original)
    result = gs("hooks", "install", "--agent", "codex")
    assert result.code == 0 and "hooks = true" in result.err  # the user must turn hooks on
    text = config.read_text()
    assert text.startswith(original) and "[[hooks.Stop.hooks]]" in text
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    parsed = tomllib.loads(text)
    assert parsed["hooks"]["Stop"][0]["hooks"][0]["command"].endswith("capture --agent codex")
    gs("hooks", "uninstall", "--agent", "codex")
    assert config.read_text() == original


def test_hooks_refuse_broken_settings_and_unknown_agents(repo: Path, gs) -> None:
    settings = repo / CLAUDE
    settings.parent.mkdir()
    settings.write_text("{not json")
    result = gs("hooks", "install", "--agent", "claude-code")
    assert result.code == 2 and "not valid JSON" in result.err
    assert settings.read_text() == "{not json"
    assert gs("hooks", "install", "--agent", "vim").code == 2


def test_bare_uninstall_removes_the_git_hooks_and_keeps_agent_hooks(repo: Path, gs) -> None:
    """`hooks uninstall` undoes `hooks install`; agent hooks need --agent or --all."""
    assert gs("hooks", "install").code == 0
    assert gs("hooks", "install", "--agent", "claude-code", "--agent", "gemini").code == 0
    done = gs("hooks", "uninstall")
    assert done.code == 0
    assert "git: removed prepare-commit-msg" in done.out
    assert "claude-code: kept in .claude/settings.local.json" in done.out
    assert "gemini: kept in .gemini/settings.json" in done.out
    assert "codex" not in done.out  # never installed: nothing to say
    status = gs("hooks", "status", "--json").json()
    assert set(status["git"]["hooks"].values()) == {"not installed"}
    assert {r["agent"]: r["installed"] for r in status["agents"]} == {
        "claude-code": True,
        "gemini": True,
        "codex": False,
    }
    # --agent removes that agent's, says the git hooks are gone already and the rest kept.
    done = gs("hooks", "uninstall", "--agent", "gemini")
    assert "gemini: removed from AfterAgent, SessionEnd" in done.out
    assert "claude-code: kept" in done.out and not (repo / ".gemini").exists()
    # --all removes both kinds.
    assert gs("hooks", "install").code == 0
    done = gs("hooks", "uninstall", "--all")
    assert "git: removed" in done.out and "claude-code: removed from" in done.out
    assert "kept" not in done.out
    assert not (repo / ".claude").exists()
    assert not any(row["installed"] for row in gs("hooks", "status", "--json").json()["agents"])


def test_agent_uninstall_leaves_the_git_hooks_and_says_so(repo: Path, gs) -> None:
    gs("hooks", "install")
    gs("hooks", "install", "--agent", "codex")
    done = gs("hooks", "uninstall", "--agent", "codex")
    assert "codex: removed" in done.out and "git: hooks kept" in done.out
    assert (repo / ".git/hooks/post-commit").exists()


def test_claude_code_settings_stay_out_of_git_status(repo: Path, gs) -> None:
    assert git(repo, "status", "--porcelain") == ""
    done = gs("hooks", "install", "--agent", "claude-code")
    assert done.code == 0 and "added to" in done.out
    assert (repo / CLAUDE).exists()
    assert git(repo, "status", "--porcelain") == ""
    exclude = excluded(repo)
    assert exclude.count("/.claude/settings.local.json") == 1
    # Again, or after an uninstall and install: the line is not added twice.
    gs("hooks", "install", "--agent", "claude-code")
    gs("hooks", "uninstall", "--agent", "claude-code")
    again = gs("hooks", "install", "--agent", "claude-code")
    assert "added to" not in again.out
    assert excluded(repo) == exclude
    assert git(repo, "status", "--porcelain") == ""


def test_claude_code_settings_already_ignored_add_no_exclude_line(repo: Path, gs) -> None:
    (repo / ".gitignore").write_text(".claude/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore .claude")
    before = excluded(repo)
    done = gs("hooks", "install", "--agent", "claude-code")
    assert done.code == 0 and "added to" not in done.out
    assert excluded(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_other_agents_files_are_not_excluded(repo: Path, gs) -> None:
    """Gemini's and Codex's project settings may be meant for the team: left to the user."""
    before = excluded(repo)
    gs("hooks", "install", "--agent", "gemini")
    assert excluded(repo) == before
    assert "?? .gemini/" in git(repo, "status", "--porcelain")
