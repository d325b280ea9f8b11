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

from .conftest import git, gitsess_exe, log_lines, make_repo

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


def capture_all(repo: Path, transcript: Path) -> tuple[int, int]:
    """Capture until a call leaves nothing for the next turn: (calls, largest peak in kB)."""
    calls = peak = 0
    while True:
        calls += 1
        before = capture_log(repo).count("more next turn")
        code, err, used = capture(repo, transcript)
        assert code == 0 and not err, err
        peak = max(peak, used)
        if capture_log(repo).count("more next turn") == before:
            return calls, peak
        assert calls < 200, "capture makes no progress"


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

    other = make_repo(tmp_path / "other")
    result = subprocess.run(
        [gitsess_exe(), "import", str(transcript), "--format", "claude-code", "--json"],
        cwd=other,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = log_lines(other, only_session(other))

    def comparable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Not compared: `head` (the commit checked out when recorded), and the marks of
        # abandoned branches that the replayed records put on earlier entries afterwards:
        # capture appends and never rewrites (docs/agents.md, "Limits of capture").
        return [
            {
                **{k: v for k, v in e.items() if k not in ("head", "meta")},
                "meta": {k: v for k, v in e.get("meta", {}).items() if k != "inactive"},
            }
            for e in entries
        ]

    assert comparable(captured) == comparable(imported)
