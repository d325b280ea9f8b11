"""`gitsess capture` never blocks the agent whose hook runs it.

What the hook names as the transcript may be a FIFO with no writer, a device, a socket or
a folder: refused before it is opened, logged, exit 0. A transcript of hundreds of
megabytes is read a window at a time from where the last capture stopped, in bounded
memory and time; repeated captures record every entry once, as an import would.
Timeouts here are hang guards, not performance assertions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import CORPUS, git, gitsess_exe, log_lines, make_repo

PAD = "lorem ipsum " * 125  # 1.5 kB of text per record


def capture(repo: Path, transcript: Path, agent: str = "claude-code") -> tuple[int, str, int]:
    """One hook call: exit status, stderr, and the peak memory (kB) of the capture."""
    payload = json.dumps(
        {"session_id": "big", "transcript_path": str(transcript), "cwd": str(repo)}
    )
    # A fresh parent, so RUSAGE_CHILDREN is this capture's (and its git children's) alone.
    script = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], input=sys.stdin.buffer.read(), stderr=subprocess.PIPE)\n"
        "sys.stderr.buffer.write(p.stderr)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, gitsess_exe(), "capture", "--agent", agent],
        cwd=repo,
        input=payload.encode(),
        capture_output=True,
        check=False,
        timeout=300,  # a hang guard
    )
    code, peak = proc.stdout.decode().split()
    return int(code), proc.stderr.decode(), int(peak)


def capture_log(repo: Path) -> str:
    path = repo / ".git" / "gitsess" / "capture.log"
    return path.read_text() if path.exists() else ""


@pytest.mark.parametrize("agent", ["claude-code", "codex"])
@pytest.mark.parametrize("kind", ["fifo", "device", "random", "socket", "folder"])
def test_what_is_not_a_file_is_refused_at_once(
    repo: Path, tmp_path: Path, kind: str, agent: str
) -> None:
    path = tmp_path / "transcript.jsonl"
    held = None
    if kind == "fifo":
        os.mkfifo(path)  # and nobody ever writes to it: opening it would wait forever
    elif kind == "device":
        path = Path("/dev/zero")  # endless
    elif kind == "random":
        path = Path("/dev/urandom")
    elif kind == "socket":
        held = socket.socket(socket.AF_UNIX)
        held.bind(str(path))
    else:
        path.mkdir()
    try:
        code, err, _ = capture(repo, path, agent)
    finally:
        if held is not None:
            held.close()
    assert code == 0, err
    assert f"skipped: {path} is not a regular file" in capture_log(repo)
    assert not git(repo, "for-each-ref", "refs/sessions/")


def linear_transcript(path: Path, megabytes: int) -> int:
    """A Claude Code transcript of about ``megabytes``: one chain of prompts and answers."""
    count = 0
    parent = None
    written = 0
    with path.open("w") as handle:
        while written < megabytes * 1_000_000:
            uid = f"00000000-0000-4000-8000-{count:012d}"
            if count % 2 == 0:
                message: dict[str, Any] = {"role": "user", "content": f"prompt {count} {PAD}"}
            else:
                text = {"type": "text", "text": f"answer {count} {PAD}"}
                message = {"role": "assistant", "id": f"m{count}", "content": [text]}
            record = {
                "type": message["role"],
                "uuid": uid,
                "parentUuid": parent,
                "sessionId": "big",
                "timestamp": f"2026-11-25T10:{count // 60000 % 60:02d}:{count // 1000 % 60:02d}."
                f"{count % 1000:03d}Z",
                "cwd": "/work",
                "message": message,
            }
            line = json.dumps(record) + "\n"
            handle.write(line)
            written += len(line)
            parent = uid
            count += 1
    return count


def capture_all(repo: Path, transcript: Path, agent: str = "claude-code") -> tuple[int, int]:
    """Capture until a call leaves nothing for the next turn: (calls, largest peak in kB)."""
    calls = peak = 0
    while True:
        calls += 1
        before = capture_log(repo).count("more next turn")
        code, err, used = capture(repo, transcript, agent)
        assert code == 0 and not err, err
        peak = max(peak, used)
        if capture_log(repo).count("more next turn") == before:
            return calls, peak
        assert calls < 400, "capture makes no progress"


def import_log(where: Path, transcript: Path, agent: str) -> list[dict[str, Any]]:
    """The log `gitsess import` makes of ``transcript`` in a new repository."""
    other = make_repo(where)
    result = subprocess.run(
        [gitsess_exe(), "import", str(transcript), "--format", agent, "--json"],
        cwd=other,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return log_lines(other, only_session(other))


def only_session(repo: Path) -> str:
    refs = git(repo, "for-each-ref", "--format=%(refname:strip=2)", "refs/sessions/")
    assert len(refs.splitlines()) == 1, refs
    return refs


def test_a_huge_transcript_is_captured_in_parts_with_bounded_memory(
    repo: Path, tmp_path: Path
) -> None:
    transcript = tmp_path / "huge.jsonl"
    count = linear_transcript(transcript, 300)
    size = transcript.stat().st_size
    git(repo, "config", "gitsess.captureWindow", "2m")
    git(repo, "config", "gitsess.captureBudget", "10")
    code, err, first_peak = capture(repo, transcript)
    assert code == 0 and not err, err
    # The hook returned with a part recorded, and says the rest comes next turn.
    assert "more next turn" in capture_log(repo)
    sid = only_session(repo)
    assert 0 < len(log_lines(repo, sid)) < count
    calls, peak = capture_all(repo, transcript)
    assert calls > 1
    ids = [entry["id"] for entry in log_lines(repo, sid)]
    assert ids == [f"00000000-0000-4000-8000-{n:012d}" for n in range(count)]
    # Bounded by the window, not the file: far below its 300 MB.
    assert max(first_peak, peak) * 1024 < size / 3, (max(first_peak, peak), size)
    # And once caught up, the next turn is the fast path: nothing new, nothing read.
    assert capture(repo, transcript)[0] == 0
    assert len(log_lines(repo, sid)) == count


def test_parts_record_what_an_import_records(repo: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    linear_transcript(transcript, 3)
    # Records written again far apart (an agent replaying them), in other parts of the file.
    lines = transcript.read_text().splitlines(keepends=True)
    transcript.write_text("".join(lines + lines[5:7] + lines[1000:1001] + lines[5:6]))
    git(repo, "config", "gitsess.captureWindow", "64k")  # 3 MB: read in parts
    git(repo, "config", "gitsess.captureBudget", "0")  # one window per turn
    calls, _ = capture_all(repo, transcript)
    assert calls > 10
    captured = log_lines(repo, only_session(repo))

    imported = import_log(tmp_path / "other", transcript, "claude-code")

    # Not compared: the marks of abandoned branches that the replayed records put on
    # earlier entries afterwards: capture appends and never rewrites (docs/agents.md, "Limits
    # of capture").
    assert comparable(captured, "inactive") == comparable(imported, "inactive")


def comparable(entries: list[dict[str, Any]], *meta_keys: str) -> list[dict[str, Any]]:
    """Entries without `head` (the commit checked out when each was recorded) and without
    the ``meta_keys``."""
    return [
        {
            **{k: v for k, v in e.items() if k not in ("head", "meta")},
            "meta": {k: v for k, v in e.get("meta", {}).items() if k not in meta_keys},
        }
        for e in entries
    ]


# -- Codex rollouts --------------------------------------------------------------------

CODEX_SESSION = "019e1625-789d-76c0-80ab-3724b5ddb799"


def codex_rollout(path: Path, megabytes: float) -> int:
    """A Codex rollout of about ``megabytes``, with what its parse carries from line to
    line: message items and their event mirrors (item first for the user, event first for
    the assistant), reasoning and its events, tool calls whose outputs say their exit code
    or whose failure only a command's end event (before the output) reports, web searches
    whose call id comes from an earlier event, model changes, compactions. Returns the
    number of lines."""

    def line(kind: str, payload: dict[str, Any], n: int) -> str:
        ts = f"2026-11-25T10:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z"
        return json.dumps({"timestamp": ts, "type": kind, "payload": payload}) + "\n"

    def text(kind: str, body: str) -> list[dict[str, str]]:
        return [{"type": kind, "text": body}]

    meta = {"id": CODEX_SESSION, "cwd": "/work", "cli_version": "0.125.0", "originator": "t"}
    head = line("session_meta", meta, 0)
    written, lines, turn = len(head), 1, 0
    with path.open("w") as handle:
        handle.write(head)
        while written < megabytes * 1_000_000:
            call = f"call_{turn}"
            model = "gpt-5.5" if turn // 40 % 2 else "gpt-5.4"
            prompt = f"prompt {turn} {PAD}"
            answer = f"answer {turn} {PAD}"
            thought = f"thinking {turn}"
            records = [
                ("event_msg", {"type": "task_started", "turn_id": str(turn)}),
                ("turn_context", {"cwd": "/work", "model": model, "approval_policy": "never"}),
                (
                    "response_item",
                    {"type": "message", "role": "user", "content": text("input_text", prompt)},
                ),
                ("event_msg", {"type": "user_message", "message": prompt, "images": []}),
                ("event_msg", {"type": "agent_reasoning", "text": thought}),
                (
                    "response_item",
                    {
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": thought}],
                        "encrypted_content": "gAAAA" + "x" * 200,
                    },
                ),
                (
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "exec_command",
                        "arguments": json.dumps({"cmd": f"make {turn}"}),
                        "call_id": call,
                    },
                ),
            ]
            if turn % 3 == 0:  # its failure is known from the end event only
                records += [
                    (
                        "event_msg",
                        {
                            "type": "exec_command_end",
                            "call_id": call,
                            "exit_code": 2,
                            "stdout": PAD,
                        },
                    ),
                    (
                        "response_item",
                        {
                            "type": "function_call_output",
                            "call_id": call,
                            "output": f"failed {PAD}",
                        },
                    ),
                ]
            else:
                body = f"Process exited with code {turn % 2}\nOutput:\n{PAD}"
                records.append(
                    (
                        "response_item",
                        {"type": "function_call_output", "call_id": call, "output": body},
                    )
                )
            if turn % 7 == 0:
                action = {"type": "search", "query": f"q{turn}"}
                records += [
                    (
                        "event_msg",
                        {
                            "type": "web_search_end",
                            "call_id": f"ws_{turn}",
                            "query": f"q{turn}",
                            "action": action,
                        },
                    ),
                    (
                        "response_item",
                        {"type": "web_search_call", "status": "completed", "action": action},
                    ),
                ]
            records += [
                (
                    "event_msg",
                    {"type": "agent_message", "message": answer, "phase": "final_answer"},
                ),
                (
                    "response_item",
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": text("output_text", answer),
                        "phase": "final_answer",
                    },
                ),
                ("event_msg", {"type": "token_count", "info": {"total": turn}}),
                ("event_msg", {"type": "task_complete", "turn_id": str(turn)}),
            ]
            if turn % 50 == 49:
                records.append(("compacted", {"message": f"summary up to {turn}"}))
            chunk = "".join(
                line(kind, payload, lines + i) for i, (kind, payload) in enumerate(records)
            )
            handle.write(chunk)
            written += len(chunk)
            lines += len(records)
            turn += 1
    return lines


def test_a_huge_codex_rollout_is_captured_in_parts_as_an_import(repo: Path, tmp_path: Path) -> None:
    transcript = tmp_path / f"rollout-2026-11-25T10-00-00-{CODEX_SESSION}.jsonl"
    codex_rollout(transcript, 40)
    git(repo, "config", "gitsess.captureWindow", "1m")
    git(repo, "config", "gitsess.captureBudget", "0")  # one window per turn
    code, err, _ = capture(repo, transcript, "codex")
    assert code == 0 and not err, err
    # A part recorded, the rest next turn (not skipped as too large).
    assert "more next turn" in capture_log(repo)
    assert "skipped" not in capture_log(repo)
    sid = only_session(repo)
    assert 0 < len(log_lines(repo, sid)) < 10_000
    calls, peak = capture_all(repo, transcript, "codex")
    assert calls > 20
    captured = log_lines(repo, sid)
    ids = [entry["id"] for entry in captured]
    assert len(ids) == len(set(ids))  # every entry once
    # What an import of the whole file records: the same ids, types, content, meta.
    assert comparable(captured) == comparable(import_log(tmp_path / "other", transcript, "codex"))
    assert {"message", "reasoning", "tool_call", "tool_result", "summary", "event"} <= {
        entry["type"] for entry in captured
    }
    # Memory is bounded by the window, not the file: a tenth of it takes about as much.
    small_repo = make_repo(tmp_path / "small")
    small = tmp_path / f"rollout-2026-11-25T11-00-00-{CODEX_SESSION}.jsonl"
    codex_rollout(small, 5)
    git(small_repo, "config", "gitsess.captureWindow", "1m")
    git(small_repo, "config", "gitsess.captureBudget", "0")
    _, small_peak = capture_all(small_repo, small, "codex")
    assert peak < 2 * small_peak, (peak, small_peak)


def test_a_real_codex_rollout_captured_in_small_parts_is_its_import(
    repo: Path, tmp_path: Path
) -> None:
    found = sorted((CORPUS / "codex").glob("rollout-*.jsonl")) if CORPUS.is_dir() else []
    if not found:
        pytest.skip("no Codex rollout in the corpus")
    transcript = found[0]
    git(repo, "config", "gitsess.captureWindow", "16k")
    git(repo, "config", "gitsess.captureBudget", "0")
    calls, _ = capture_all(repo, transcript, "codex")
    assert calls > 10
    captured = log_lines(repo, only_session(repo))
    assert comparable(captured) == comparable(import_log(tmp_path / "other", transcript, "codex"))
