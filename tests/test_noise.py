"""Agent noise folded to one line in `show`, `pr` and the exports, from real transcripts.

The corpus (shared/corpus beside the checkout) holds what Codex and Claude Code really
write: the system prompt, AGENTS.md and environment context Codex injects, Claude Code's
slash-command echoes and caveats, token counters, encrypted reasoning, subagents. Each
test imports a transcript with the real `gitsess` command and reads what a user reads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import CORPUS, git, log_lines, run_cli

ENTRY_TAG = re.compile(r"  #\d+ [^ \n]{0,8}$", re.MULTILINE)

CODEX = CORPUS / "codex" / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl"
CLAUDE_COMMANDS = CORPUS / "claude-code" / "compaction.jsonl"
CLAUDE_SUBAGENT = CORPUS / "claude-code" / "incremental-subagents" / "turn-2.jsonl"
CLAUDE_OLD_SIDECHAIN = (
    CORPUS / "claude-code" / "sidechain-old-layout" / "4c2ddfdc-b619-4525-8d03-1950fb1b0257.jsonl"
)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"no corpus file {path.name}")
    return path


def imported(repo: Path, transcript: Path) -> str:
    done = run_cli(repo, "import", str(need(transcript)), "--no-checkout", "--json")
    assert done.code == 0, done.err
    return str(json.loads(done.out)["id"])


def show(repo: Path, *args: str) -> str:
    shown = run_cli(repo, "show", *args)
    assert shown.code == 0, shown.err
    return ENTRY_TAG.sub("", shown.out)  # each entry's "#12 k3f9a2bc" (test_output.py)


def text_of(entry: dict[str, Any]) -> str:
    content = entry.get("content")
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and "text" in p)
    return str(content)


def injected(entries: list[dict[str, Any]], start: str) -> dict[str, Any]:
    return next(e for e in entries if e.get("type") == "message" and start in text_of(e))


# -- show ----------------------------------------------------------------------------------


def test_codex_injected_context_token_counts_and_empty_reasoning_fold(repo: Path) -> None:
    sid = imported(repo, CODEX)
    entries = log_lines(repo, sid)
    prompt = injected(entries, "You are Codex, a coding agent")
    context = injected(entries, "# AGENTS.md instructions for")
    shown = show(repo, sid)

    lines = shown.splitlines()
    assert f"  · injected: system prompt ({len(text_of(prompt)):,} characters)" in lines
    size = sum(len(p["text"]) for p in context["content"])
    assert (
        f"  · injected: AGENTS.md instructions, environment context ({size:,} characters)" in lines
    )
    assert "  · reasoning: empty (encrypted by the agent)" in lines
    assert "  · token count: 18,870 tokens" in lines
    # Nothing of what was folded is shown, the conversation is.
    for hidden in ("You are Codex, a coding agent", "<environment_context>", "AGENTS.md instr"):
        assert hidden not in shown.replace("injected: AGENTS.md instructions", "")
    assert '"total_token_usage"' not in shown
    assert "user  " in shown and "\nshow tools\n" in shown
    assert "Available tool groups in this session" in shown

    full = show(repo, sid, "--full")
    # The injected context alone is ~48,000 characters: gone from what a reader reads.
    assert len(shown) < len(full) - 40_000
    assert "You are Codex, a coding agent" in full and "<environment_context>" in full
    assert '"total_token_usage"' in full and "· injected:" not in full

    # The data stays as recorded: --json and the log hold every character.
    as_json = json.loads(show(repo, sid, "--json"))["entries"]
    assert as_json == entries
    assert text_of(injected(as_json, "You are Codex")) == text_of(prompt)


def test_claude_code_slash_commands_and_caveats_fold(repo: Path) -> None:
    sid = imported(repo, CLAUDE_COMMANDS)
    shown = show(repo, sid)
    lines = shown.splitlines()
    assert "  · command: /exit" in lines
    assert any(line.startswith("  · injected: local-command caveat (") for line in lines)
    assert any(line.startswith("  · command output (") for line in lines)
    assert "<command-name>" not in shown and "<local-command-stdout>" not in shown
    assert "Caveat: The messages below" not in shown
    # The user's real prompt is still the user's.
    assert "user  " in shown and "I think if we fail to open the repository" in shown
    full = show(repo, sid, "--full")
    assert "<command-name>/exit</command-name>" in full and "Caveat: The messages below" in full


@pytest.mark.parametrize(
    ("transcript", "agent"), [(CLAUDE_SUBAGENT, "a485154"), (CLAUDE_OLD_SIDECHAIN, "50243ee8")]
)
def test_a_subagents_prompt_is_the_agents_not_the_users(
    repo: Path, transcript: Path, agent: str
) -> None:
    sid = imported(repo, transcript)
    entries = log_lines(repo, sid)
    first = next(e for e in entries if (e.get("meta") or {}).get("subagent") == agent)
    assert first["role"] == "user"  # as recorded: the harness sent it under the user's role
    opening = text_of(first).splitlines()[0]
    shown = show(repo, sid)
    lines = shown.splitlines()
    at = lines.index(opening)
    assert lines[at - 1].startswith(f"assistant → subagent {agent}  "), lines[at - 1]

    exported = run_cli(repo, "export", sid, "--format", "md")
    assert exported.code == 0, exported.err
    assert f"**Assistant → subagent {agent}**" in exported.out
    page = run_cli(repo, "export", sid, "--format", "html")
    assert f'<span class="who">assistant → subagent {agent}</span>' in page.out


def test_older_and_hand_written_logs_are_classified_by_content(repo: Path) -> None:
    """Logs written before importers tagged injected text, or by `record --jsonl`."""
    sid = json.loads(run_cli(repo, "new", "Hand made", "--no-checkout", "--json").out)["id"]
    context = "<environment_context>\n  <cwd>/work</cwd>\n</environment_context>"
    claude_md = (
        "<system-reminder>\nAs you answer the user's questions, you can use the following "
        "context:\n# claudeMd\nContents of /work/CLAUDE.md:\n\nRun make test.\n</system-reminder>"
    )
    entries = [
        {"type": "message", "role": "user", "content": context},
        {"type": "message", "role": "user", "content": [{"type": "text", "text": claude_md}]},
        {
            "type": "message",
            "role": "user",
            "content": "Fix the bug\n<system-reminder>x</system-reminder>",
        },
        {"type": "message", "role": "system", "content": "Answer in French."},
        {"type": "reasoning", "content": ""},
        {"type": "event", "name": "usage_record", "data": {"usage": {"input": 10, "output": 5}}},
    ]
    stdin = "\n".join(json.dumps(e) for e in entries).encode()
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=stdin).code == 0
    lines = show(repo, sid).splitlines()
    assert f"  · injected: environment context ({len(context)} characters)" in lines
    assert f"  · injected: CLAUDE.md instructions ({len(claude_md)} characters)" in lines
    assert "Fix the bug" in lines  # a prompt with a reminder appended stays the user's
    assert "Answer in French." in lines  # a system message someone wrote is no noise
    assert "  · reasoning: empty" in lines
    assert "  · token count: 15 tokens" in lines
    assert "<cwd>/work</cwd>" not in "\n".join(lines)


# -- exports and pr ------------------------------------------------------------------------


def test_exports_fold_the_same_noise_and_full_unfolds_it(repo: Path, tmp_path: Path) -> None:
    sid = imported(repo, CODEX)
    for fmt in ("md", "html"):
        folded = run_cli(repo, "export", sid, "--format", fmt)
        assert folded.code == 0, folded.err
        assert "injected: system prompt (21,335 characters)" in folded.out
        assert "You are Codex, a coding agent" not in folded.out
        assert "reasoning: empty (encrypted by the agent)" in folded.out
        whole = run_cli(repo, "export", sid, "--format", fmt, "--full")
        assert whole.code == 0, whole.err
        assert "You are Codex, a coding agent" in whole.out and "injected:" not in whole.out
    # JSONL is the data, as recorded: nothing folded.
    jsonl = run_cli(repo, "export", sid)
    assert (
        "You are Codex, a coding agent" in jsonl.out and "injected: system prompt" not in jsonl.out
    )


def test_pr_folds_noise_and_lists_only_the_users_prompts(repo: Path) -> None:
    sid = imported(repo, CLAUDE_COMMANDS)
    (repo / "fix.go").write_text("package main\n")
    git(repo, "add", "fix.go")
    git(repo, "commit", "-q", "-m", "Surface the error", "-m", f"Session: {sid}")
    sha = git(repo, "rev-parse", "HEAD")
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    entry = {
        "type": "commit",
        "sha": sha,
        "subject": "Surface the error",
        "tree": tree,
        "parents": [git(repo, "rev-parse", "HEAD~1")],
    }
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=json.dumps(entry).encode()).code == 0

    pr = run_cli(repo, "pr", "HEAD~1")
    assert pr.code == 0, pr.err
    prompts = pr.out.split("**Prompts**", 1)[1].split("**What the agent did:**", 1)[0]
    assert "/exit" not in prompts and "Goodbye" not in prompts and "Caveat" not in prompts
    assert "1. for the change in cmd/entire/cli/hooks_claudecode_handlers.go" in prompts
    assert "<sub>· command: /exit</sub>" in pr.out
    assert "&lt;command-name&gt;" not in pr.out
    full = run_cli(repo, "pr", "HEAD~1", "--full")
    assert "&lt;command-name&gt;/exit" in full.out and "<sub>· command: /exit</sub>" not in full.out
