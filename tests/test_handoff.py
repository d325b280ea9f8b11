"""`resume --agent` after `gitsess compact`: the agent gets the latest summary in its own
form of a compacted history plus the entries after it; `--full` everything; large tool
output capped; `--compact` when the hand-off is too large; sessions of one agent resumed
in the other with tool calls the target accepts. Real transcripts from the corpus."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import get

from .conftest import CORPUS, git, log_lines, run_cli

CODEX = "codex/rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl"
CLAUDE_PREAMBLE = "This session is being continued from a previous conversation that ran out"
CODEX_PREAMBLE = "Another language model started to solve this problem"
FIRST_PROMPT = "for the change in cmd/entire/cli/hooks_claudecode_handlers.go"
BUILD_LOG = "".join(f"compiling module {n:05d} ... ok\n" for n in range(6000))  # ~190 KB

TAIL: list[dict[str, Any]] = [
    {"type": "message", "role": "user", "content": "Now run the build once more"},
    {"type": "tool_call", "name": "Bash", "input": {"command": "make build"}, "call_id": "t1"},
    {"type": "tool_result", "call_id": "t1", "output": BUILD_LOG},
    {"type": "message", "role": "assistant", "content": "The build passes."},
]


def need_corpus() -> None:
    if not CORPUS.exists():
        pytest.skip("no corpus beside this checkout")


def big_claude_transcript(path: Path, copies: int) -> int:
    """A multi-megabyte Claude Code session made of the corpus's real one (a compaction,
    tool calls) ``copies`` times over, each copy's uuids, tool ids and message ids made
    its own and its first line chained to the previous copy's last."""
    source = (CORPUS / "claude-code" / "compaction.jsonl").read_text()
    lines = [line for line in source.splitlines() if line.strip()]
    ids = sorted({json.loads(line)["uuid"] for line in lines if '"uuid"' in line})
    pattern = re.compile(
        "|".join(map(re.escape, ids)) + r"|(toolu_[A-Za-z0-9]+)|(msg_[A-Za-z0-9]+)"
    )
    last = None
    with path.open("w") as out:
        for copy in range(copies):

            def swap(match: re.Match[str], copy: int = copy) -> str:
                if match.group(1) or match.group(2):
                    return f"{match.group(0)}{copy:02d}"
                return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{copy}:{match.group(0)}"))

            records = [json.loads(pattern.sub(swap, line) if copy else line) for line in lines]
            known = {r.get("uuid") for r in records}
            for record in records:
                if copy and record.get("parentUuid") not in (None, *known):
                    record["parentUuid"] = last
                out.write(json.dumps(record) + "\n")
            last = [r["uuid"] for r in records if isinstance(r.get("uuid"), str)][-1]
    return path.stat().st_size


def imported(repo: Path, transcript: Path) -> str:
    result = run_cli(repo, "import", str(transcript), "--no-checkout", "--json")
    assert result.code == 0, result.err
    return str(result.json()["id"])


def record(repo: Path, sid: str, entries: list[dict[str, Any]]) -> None:
    data = "\n".join(json.dumps(e) for e in entries).encode()
    result = run_cli(repo, "record", sid, "--jsonl", "-", stdin=data)
    assert result.code == 0, result.err


def hand_off(repo: Path, sid: str, agent: str, *options: str) -> tuple[dict[str, Any], Path]:
    result = run_cli(repo, "resume", sid, "--agent", agent, *options, "--json")
    assert result.code == 0, result.err
    handed = result.json()["agent"]
    git(repo, "checkout", "-q", "main")  # the next hand-off starts from here again
    return handed, Path(handed["transcript"])


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def user_text(record: dict[str, Any]) -> str:
    content = record.get("message", {}).get("content")
    if isinstance(content, str):
        return content
    return json.dumps(content)


def test_a_multi_megabyte_claude_code_session_hands_over_its_summary_and_tail_only(
    repo: Path, tmp_path: Path, homes: dict[str, Path]
) -> None:
    need_corpus()
    transcript = tmp_path / "big.jsonl"
    assert big_claude_transcript(transcript, 10) > 2_500_000
    sid = imported(repo, transcript)
    compacted = run_cli(repo, "compact", sid, "--json")
    assert compacted.code == 0, compacted.err
    summary = compacted.json()["summary"]
    assert summary["covers"] == len(log_lines(repo, sid)) - 1
    assert "hooks_claudecode_handlers.go" in " ".join(summary["files"]["modified"])
    record(repo, sid, TAIL)

    handed, path = hand_off(repo, sid, "claude-code")
    assert handed["summary"] == summary["id"] and handed["entries"] == 1 + len(TAIL)
    assert handed["capped"] == 1
    written = records_of(path)
    # Claude Code's own form of a compacted history: the boundary, then the summary.
    assert written[0]["type"] == "system" and written[0]["subtype"] == "compact_boundary"
    assert written[1]["isCompactSummary"] is True
    assert written[1]["message"]["content"].startswith(CLAUDE_PREAMBLE)
    assert "(gitsess compact)" in written[1]["message"]["content"]
    # Then the tail, and nothing of the covered past.
    assert user_text(written[2]) == "Now run the build once more"
    assert written[3]["message"]["content"][0]["name"] == "Bash"
    result = written[4]["message"]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "t1"
    assert "capped at 16,384 characters (gitsess.handoffToolOutput)" in result["content"]
    assert (
        result["content"].startswith("compiling module 00000") and len(result["content"]) < 17_000
    )
    assert result["content"].rstrip().endswith("compiling module 05999 ... ok")
    assert written[5]["message"]["content"][0]["text"] == "The build passes."
    assert len(written) == 6
    # The covered past reaches the agent only through the summary.
    assert FIRST_PROMPT in written[1]["message"]["content"]
    assert not any(FIRST_PROMPT in json.dumps(r) for r in written[:1] + written[2:])
    assert path.stat().st_size < 60_000
    back = get("claude-code").parse(path).entries
    assert [e["type"] for e in back][:2] == ["event", "summary"]

    # --full: everything as before compaction; gitsess's summaries are not handed over.
    handed, path = hand_off(repo, sid, "claude-code", "--full")
    assert handed["summary"] is None
    text = path.read_text()
    assert FIRST_PROMPT in text and "(gitsess compact)" not in text
    assert "The build passes." in text


def test_a_codex_hand_off_starts_from_a_compacted_record(
    repo: Path, homes: dict[str, Path]
) -> None:
    need_corpus()
    sid = imported(repo, CORPUS / CODEX)
    assert run_cli(repo, "compact", sid).code == 0
    record(repo, sid, TAIL)
    _, path = hand_off(repo, sid, "codex")
    written = records_of(path)
    assert [r["type"] for r in written[:2]] == ["session_meta", "compacted"]
    message = written[1]["payload"]["message"]
    assert message.startswith(CODEX_PREAMBLE) and "(gitsess compact)" in message
    items = [r["payload"] for r in written[2:] if r["type"] == "response_item"]
    assert items[0]["role"] == "user"
    assert items[0]["content"][0]["text"] == "Now run the build once more"
    assert [i["type"] for i in items[1:]] == ["function_call", "function_call_output", "message"]
    assert "capped at 16,384 characters" in items[2]["output"]
    asked = "let's update the defailt context compart"
    assert asked in message and not any(asked in json.dumps(r) for r in written[2:])


def test_the_tool_output_cap_is_set_in_git_config(repo: Path, homes: dict[str, Path]) -> None:
    sid = run_cli(repo, "new", "Build", "--no-checkout", "--json").json()["id"]
    record(repo, sid, TAIL)
    git(repo, "config", "gitsess.handoffToolOutput", "1k")
    _, path = hand_off(repo, sid, "claude-code")
    assert "capped at 1,024 characters" in path.read_text()
    git(repo, "config", "gitsess.handoffToolOutput", "0")  # no cap
    handed, path = hand_off(repo, sid, "claude-code")
    assert handed["capped"] == 0 and "compiling module 03000" in path.read_text()
    git(repo, "config", "gitsess.handoffToolOutput", "lots")
    refused = run_cli(repo, "resume", sid, "--agent", "codex")
    assert refused.code == 2 and "gitsess.handoffToolOutput must be a number" in refused.err


def test_resume_compact_compacts_first_only_when_the_hand_off_is_too_large(
    repo: Path, homes: dict[str, Path]
) -> None:
    need_corpus()
    sid = imported(repo, CORPUS / CODEX)
    before = git(repo, "rev-parse", f"refs/sessions/{sid}")
    handed, _ = hand_off(repo, sid, "claude-code", "--compact")  # under the default 400k
    assert handed["compacted"] is None and handed["summary"] is None
    assert git(repo, "rev-parse", f"refs/sessions/{sid}") == before
    git(repo, "config", "gitsess.handoffSize", "20k")
    result = run_cli(
        repo, "resume", sid, "--agent", "claude-code", "--compact", "--focus", "compaction"
    )
    assert result.code == 0, result.err
    assert "Compacted first" in result.out
    summary = log_lines(repo, sid)[-1]
    assert summary["type"] == "summary" and summary["focus"] == "compaction"
    path = Path(re.search(r"Wrote the conversation to (\S+)", result.out).group(1))
    written = records_of(path)
    assert written[0]["subtype"] == "compact_boundary" and len(written) == 2


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--focus", "x"], "--focus goes with --compact"),
        (["--full"], "--full and --compact go with --agent"),
        (["--agent", "codex", "--full", "--compact"], "not both"),
    ],
)
def test_hand_off_options_are_checked(repo: Path, args: list[str], said: str) -> None:
    sid = run_cli(repo, "new", "Opts", "--no-checkout", "--json").json()["id"]
    result = run_cli(repo, "resume", sid, *args)
    assert result.code == 2 and said in result.err
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"


def claude_pairs_hold(written: list[dict[str, Any]]) -> None:
    """Claude's rule: every tool_use of an assistant message is answered by a tool_result
    in the user lines right after it, and every tool_result answers such a tool_use."""
    open_calls: set[str] = set()
    for record in written:
        content = record.get("message", {}).get("content")
        blocks = content if isinstance(content, list) else []
        if record["type"] == "assistant":
            for block in blocks:
                if block.get("type") == "tool_use":
                    assert isinstance(block["input"], dict)
                    open_calls.add(block["id"])
        elif record["type"] == "user":
            for block in blocks:
                if block.get("type") == "tool_result":
                    assert block["tool_use_id"] in open_calls, block["tool_use_id"]
                    open_calls.discard(block["tool_use_id"])
            if not any(b.get("type") == "tool_result" for b in blocks) and not record.get("isMeta"):
                assert not open_calls, open_calls  # a prompt before the results came
    assert not open_calls


def codex_pairs_hold(written: list[dict[str, Any]]) -> None:
    """Codex's rule: every call has its output, by call_id, and function arguments are
    JSON text."""
    calls: dict[str, str] = {}
    outputs: set[str] = set()
    for record in written:
        payload = record["payload"]
        if record["type"] != "response_item":
            continue
        if payload["type"] == "function_call":
            json.loads(payload["arguments"])
            calls[payload["call_id"]] = "function_call_output"
        elif payload["type"] == "custom_tool_call":
            calls[payload["call_id"]] = "custom_tool_call_output"
        elif payload["type"] in ("function_call_output", "custom_tool_call_output"):
            assert calls.get(payload["call_id"]) == payload["type"], payload["call_id"]
            outputs.add(payload["call_id"])
    assert set(calls) == outputs


@pytest.mark.parametrize("compact", [False, True])
def test_a_codex_session_resumes_in_claude_code_with_tool_calls_it_accepts(
    repo: Path, homes: dict[str, Path], compact: bool
) -> None:
    need_corpus()
    sid = imported(repo, CORPUS / CODEX)
    if compact:
        assert run_cli(repo, "compact", sid).code == 0
        record(repo, sid, TAIL)
    _, path = hand_off(repo, sid, "claude-code")
    written = records_of(path)
    claude_pairs_hold(written)
    names = {
        b["name"]
        for r in written
        if r["type"] == "assistant"
        for b in r["message"]["content"]
        if b.get("type") == "tool_use"
    }
    if compact:
        assert names == {"Bash"}  # the tail's only call: the covered ones are summarized
    else:
        assert {"exec_command", "apply_patch", "web_search"} <= names


@pytest.mark.parametrize(
    "source",
    ["claude-code/incremental-subagents/turn-2.jsonl", "claude-code/compaction.jsonl"],
)
def test_a_claude_code_session_resumes_in_codex_with_tool_calls_it_accepts(
    repo: Path, homes: dict[str, Path], source: str
) -> None:
    need_corpus()
    sid = imported(repo, CORPUS / source)
    for options in ((), ("--full",)):
        _, path = hand_off(repo, sid, "codex", *options)
        written = records_of(path)
        codex_pairs_hold(written)
        assert any(r["payload"].get("type") == "function_call" for r in written)


def test_a_failing_summarizer_on_resume_compact_touches_nothing(
    repo: Path, tmp_path: Path, homes: dict[str, Path]
) -> None:
    sid = run_cli(repo, "new", "Build", "--no-checkout", "--json").json()["id"]
    record(repo, sid, TAIL)
    before = git(repo, "rev-parse", f"refs/sessions/{sid}")
    failing = tmp_path / "summarize"
    failing.write_text("#!/bin/sh\necho 'quota exceeded' >&2\nexit 1\n")
    failing.chmod(0o755)
    git(repo, "config", "gitsess.summarizer", str(failing))
    git(repo, "config", "gitsess.handoffSize", "1k")
    result = run_cli(repo, "resume", sid, "--agent", "claude-code", "--compact")
    assert (
        result.code == 1 and "quota exceeded" in result.err and "nothing was written" in result.err
    )
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"  # not checked out
    assert git(repo, "rev-parse", f"refs/sessions/{sid}") == before
    assert not homes["claude-code"].exists()
