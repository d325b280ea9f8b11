"""`gitsess resume SESSION --agent`: the conversation handed back to Claude Code or Codex."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from gitsess.agents import get
from gitsess.handoff import NO_RESULT

from .conftest import CORPUS, git, gitsess_exe, log_lines

CONVERSATION = [
    {"type": "message", "role": "user", "content": "Add a dark mode toggle"},
    {"type": "reasoning", "content": "Check the CSS first."},
    {"type": "tool_call", "name": "Bash", "input": {"command": "ls src"}, "call_id": "call_1"},
    {"type": "tool_result", "call_id": "call_1", "output": "app.css\nmain.ts"},
    {"type": "message", "role": "assistant", "content": "Added the toggle to main.ts."},
]


@pytest.fixture
def session(repo: Path, gs) -> str:
    sid = gs("new", "Dark mode", "--no-checkout", "--json").json()["id"]
    gs("record", sid, "--jsonl", "-", stdin="\n".join(json.dumps(e) for e in CONVERSATION))
    return sid


def essentials(entries: list[dict]) -> list[tuple]:
    """What must survive a hand-over: prompts, replies, tool calls and their results."""
    out = []
    for e in entries:
        meta = e.get("meta") or {}
        if meta.get("inactive") or meta.get("injected"):
            continue
        if e["type"] == "message" and e.get("role") in ("user", "assistant"):
            text = (
                e["content"]
                if isinstance(e["content"], str)
                else " ".join(p.get("text", "") for p in e["content"] if isinstance(p, dict))
            )
            out.append(("message", e["role"], text.strip()))
        elif e["type"] == "tool_call":
            out.append(("tool_call", e["name"]))
        elif e["type"] == "tool_result":
            out.append(("tool_result",))
    return out


def test_resume_in_claude_code(repo: Path, gs, session: str, homes: dict[str, Path]) -> None:
    result = gs("resume", session, "--agent", "claude-code")
    assert result.code == 0, result.err
    native = re.search(r"claude --resume ([0-9a-f-]{36})", result.out).group(1)
    folder = re.sub(r"[^A-Za-z0-9]", "-", str(repo.resolve()))
    path = homes["claude-code"] / "projects" / folder / f"{native}.jsonl"
    assert path.is_file()
    assert git(repo, "symbolic-ref", "--short", "HEAD").startswith("session/dark-mode-")
    back = get("claude-code").parse(path)
    assert essentials(back.entries) == essentials(log_lines(repo, session))


def test_resume_in_codex(repo: Path, gs, session: str, homes: dict[str, Path]) -> None:
    result = gs("resume", session, "--agent", "codex", "--json")
    assert result.code == 0, result.err
    handed = result.json()["agent"]
    native = handed["command"].removeprefix("codex resume ")
    path = Path(handed["transcript"])
    assert path.is_relative_to(homes["codex"] / "sessions") and native in path.name
    back = get("codex").parse(path)
    assert essentials(back.entries) == essentials(log_lines(repo, session))


def test_capture_after_resume_records_only_the_new_turn(
    repo: Path, gs, session: str, homes: dict[str, Path]
) -> None:
    handed = gs("resume", session, "--agent", "codex", "--json").json()["agent"]
    path = Path(handed["transcript"])
    before = len(log_lines(repo, session))
    # Codex carries on: it appends a new turn to the same rollout.
    records = [
        {
            "timestamp": "2026-11-25T12:00:00.000Z",
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Now make it persist"}],
            },
        },
        {
            "timestamp": "2026-11-25T12:00:01.000Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": "Now make it persist"},
        },
    ]
    with path.open("a") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    payload = {"transcript_path": str(path), "cwd": str(repo), "hook_event_name": "Stop"}
    proc = subprocess.run(
        [gitsess_exe(), "capture", "--agent", "codex"],
        cwd=repo,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    after = log_lines(repo, session)
    assert len(after) == before + 1
    assert after[-1]["content"] == "Now make it persist"


@pytest.mark.parametrize(
    ("source", "fmt", "target"),
    [
        (
            "codex/rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
            "codex",
            "claude-code",
        ),
        ("claude-code/small-task-call.jsonl", "claude-code", "codex"),
    ],
)
def test_a_session_from_one_agent_resumes_in_another(
    repo: Path, gs, homes: dict[str, Path], source: str, fmt: str, target: str
) -> None:
    if not CORPUS.exists():
        pytest.skip("no corpus beside this checkout")
    imported = gs("import", str(CORPUS / source), "--no-checkout", "--json")
    assert imported.code == 0, imported.err
    sid = imported.json()["id"]
    result = gs("resume", sid, "--agent", target, "--json")
    assert result.code == 0, result.err
    back = get(target).parse(Path(result.json()["agent"]["transcript"]))
    # A call the log holds no result for is answered by a stand-in (the target's API
    # refuses an unanswered call): the rest is the conversation as it was.
    given = [e for e in back.entries if e.get("output") != NO_RESULT]
    assert len(given) < len(back.entries)
    assert essentials(given) == essentials(log_lines(repo, sid))


def test_unknown_agent_changes_nothing(repo: Path, gs, session: str) -> None:
    result = gs("resume", session, "--agent", "gemini")
    assert result.code == 2 and "cannot resume in 'gemini'" in result.err
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
