"""A teammate's fetched session is data: hostile summary fields and tool calls never crash
`show`, `compact` or `resume --agent`, and never reach the terminal as control codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import git
from .test_hostile_remote import MATE_ID, assert_clean, entry_line, forge, mate_meta, team

__all__ = ["team"]  # the fixture, used by name

DEEP = 100_000


def hostile_lines() -> list[bytes]:
    deep_input = b"[" * DEEP + b"]" * DEEP
    return [
        entry_line(id="e1", content="\x1b]0;owned\x07 please \x1b[2J fix it"),
        entry_line(
            id="e2",
            type="summary",
            content={"not": "text"},
            covers="all of them",
            focus={"a": 1},
            files="everything",
            commits="many",
            summarizer=5,
            last="L" * 100_000,
        ),
        entry_line(id="e3", type="summary", content="s", covers=10**30, focus="\x1b[31mred"),
        b'{"id":"e4","ts":"2026-11-22T10:00:01.000Z","type":"tool_call","name":"Bash",'
        b'"call_id":"c1","input":' + deep_input + b"}",
        entry_line(
            id="e5",
            type="tool_call",
            name="Read",
            call_id="c2",
            input={"file_path": "/w/\x1b[2Jx" + "y" * 50_000},
        ),
        entry_line(
            id="e6",
            type="tool_call",
            name="Bash",
            call_id="c3",
            input={"command": "cat <<'EOF'\nnever ends\n' unbalanced \"quotes > /etc/x"},
        ),
        entry_line(
            id="e7",
            type="tool_call",
            name="apply_patch",
            call_id="c4",
            input="*** Begin Patch\n" + "*** Update File: \x1b[2Jevil.py\n" * 3,
        ),
        entry_line(id="e8", type="tool_result", call_id="c1", output="x" * 300_000),
        entry_line(id="e9", type="tool_result", call_id="nobody", output="orphan"),
        entry_line(id="e10", role="assistant", content="done"),
    ]


@pytest.mark.parametrize("agent", ["claude-code", "codex"])
def test_hostile_summaries_and_calls_are_data(
    team: tuple[Path, Path, Path], gs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agent: str
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    me, mate, _ = team
    git(mate, "push", "-q", "origin", f"main:session/teammate-{MATE_ID}")
    forge(mate, MATE_ID, mate_meta(), hostile_lines())
    assert_clean(gs("fetch", cwd=me))
    for args in (["show", MATE_ID], ["show", MATE_ID, "--full"]):
        shown = gs(*args, cwd=me)
        assert_clean(shown)
        assert shown.code == 0 and "\x1b" not in shown.out + shown.err
    compacted = gs("compact", MATE_ID, "--json", cwd=me)
    assert_clean(compacted)
    assert compacted.code == 0
    summary = compacted.json()["summary"]
    assert summary["covers"] == 10 and summary["previous"] == "e3"
    assert summary["files"]["modified"] == ["\x1b[2Jevil.py"]  # data, kept as it is
    said = gs("compact", MATE_ID, cwd=me)
    assert said.code == 0 and "\x1b" not in said.out
    handed = gs("resume", MATE_ID, "--agent", agent, "--json", cwd=me)
    assert_clean(handed)
    assert handed.code == 0, handed.err
    git(me, "checkout", "-q", "main")
    full = gs("resume", MATE_ID, "--agent", agent, "--full", cwd=me)
    assert_clean(full)
    assert full.code == 0 and "\x1b" not in full.out
    transcript = Path(handed.json()["agent"]["transcript"]).read_text()
    assert "owned" in transcript  # the summary names the request, as data
    names = git(me, "ls-tree", "--name-only", f"refs/sessions/{MATE_ID}:log").split()
    count = sum(
        len(git(me, "cat-file", "blob", f"refs/sessions/{MATE_ID}:log/{n}").splitlines())
        for n in names
    )
    assert count == 11  # compact appended one entry and removed none
    assert json.loads(compacted.out)["session"] == MATE_ID
