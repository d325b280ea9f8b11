"""`gitsess hooks install|uninstall|status --agent`: merged into the agent's settings, ours only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CLAUDE = ".claude/settings.local.json"


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
    gs("hooks", "uninstall")
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
