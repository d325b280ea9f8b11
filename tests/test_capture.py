"""`gitsess capture`: what a transcript gained, recorded once, from a real subprocess hook."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import git, gitsess_exe, log_lines, session_ids


def hook(repo: Path, payload: dict, agent: str = "gitsess") -> subprocess.CompletedProcess[str]:
    """Run capture as an agent's hook does: JSON on stdin, from the agent's working directory."""
    return subprocess.run(
        [gitsess_exe(), "capture", "--agent", agent],
        cwd=repo,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def write_transcript(path: Path, entries: list[dict]) -> None:
    header = {"gitsess": 1, "session": {"title": "From an agent"}}
    path.write_text("".join(json.dumps(x) + "\n" for x in [header, *entries]))


def turn(n: int) -> list[dict]:
    return [
        {
            "id": f"u{n}",
            "ts": f"2026-11-25T10:0{n}:00Z",
            "type": "message",
            "role": "user",
            "content": f"prompt {n}",
        },
        {
            "id": f"a{n}",
            "ts": f"2026-11-25T10:0{n}:30Z",
            "type": "message",
            "role": "assistant",
            "content": f"answer {n}",
        },
    ]


def log_commits(repo: Path, sid: str) -> int:
    return int(git(repo, "rev-list", "--count", f"refs/sessions/{sid}"))


def test_capture_records_only_what_is_new(repo: Path, gs, tmp_path: Path) -> None:
    sid = gs("new", "Captured", "--json").json()["id"]
    transcript = tmp_path / "t.jsonl"
    payload = {"transcript_path": str(transcript), "cwd": str(repo), "hook_event_name": "Stop"}
    write_transcript(transcript, turn(1))
    first = hook(repo, payload)
    assert first.returncode == 0 and first.stdout == "" and first.stderr == ""
    assert [e["id"] for e in log_lines(repo, sid)] == ["u1", "a1"]
    commits = log_commits(repo, sid)
    assert hook(repo, payload).returncode == 0  # nothing new: the fast path writes nothing
    assert log_commits(repo, sid) == commits
    write_transcript(transcript, turn(1) + turn(2))
    assert hook(repo, payload).returncode == 0
    assert [e["id"] for e in log_lines(repo, sid)] == ["u1", "a1", "u2", "a2"]
    # Even if the fast path is fooled (state lost), nothing is recorded twice.
    state = Path(git(repo, "rev-parse", "--git-common-dir"))
    for cached in ((repo / state) / "gitsess" / "capture").glob("*.json"):
        cached.unlink()
    assert hook(repo, payload).returncode == 0
    assert [e["id"] for e in log_lines(repo, sid)] == ["u1", "a1", "u2", "a2"]


def test_capture_starts_a_session_from_the_first_prompt(repo: Path, gs, tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, turn(1))
    (repo / "README.md").write_text("work in progress\n")
    result = hook(repo, {"transcript_path": str(transcript), "cwd": str(repo)})
    assert result.returncode == 0, result.stderr
    (sid,) = session_ids(repo)
    shown = gs("show", sid, "--json").json()
    assert shown["session"]["title"] == "prompt 1" and shown["session"]["current"] is True
    assert (repo / "README.md").read_text() == "work in progress\n"  # local edits came along


def test_capture_new_sessions_can_be_turned_off(repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "gitsess.captureNew", "false")
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, turn(1))
    assert hook(repo, {"transcript_path": str(transcript), "cwd": str(repo)}).returncode == 0
    assert session_ids(repo) == []
    log = (repo / ".git" / "gitsess" / "capture.log").read_text()
    assert "gitsess.captureNew is off" in log


def test_capture_never_breaks_the_agent(repo: Path, gs, tmp_path: Path) -> None:
    gs("new", "Robust")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not json\n")
    cases = [
        ("not json at all", None),
        (json.dumps({"transcript_path": str(garbage), "cwd": str(repo)}), None),
        (json.dumps({"transcript_path": str(tmp_path / "missing.jsonl"), "cwd": str(repo)}), None),
        (json.dumps({"cwd": str(tmp_path)}), None),  # not a repository
        (json.dumps([1, 2]), None),
    ]
    for stdin, _ in cases:
        proc = subprocess.run(
            [gitsess_exe(), "capture", "--agent", "gitsess"],
            cwd=repo,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0 and proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) <= 1 and "Traceback" not in proc.stderr
    log = (repo / ".git" / "gitsess" / "capture.log").read_text()
    assert "Traceback" in log  # the details are kept for whoever looks
    unknown = subprocess.run(
        [gitsess_exe(), "capture", "--agent", "nope"],
        cwd=repo,
        input=json.dumps({"transcript_path": str(garbage)}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 0 and "unknown format" in unknown.stderr


def test_codex_notify_passes_its_json_as_an_argument(repo: Path, gs, tmp_path: Path) -> None:
    sid = gs("new", "Notified", "--json").json()["id"]
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, turn(1))
    payload = json.dumps(
        {"type": "agent-turn-complete", "transcript_path": str(transcript), "cwd": str(repo)}
    )
    proc = subprocess.run(
        [gitsess_exe(), "capture", "--agent", "gitsess", payload],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(log_lines(repo, sid)) == 2


def test_capture_a_real_claude_code_transcript_growing_with_subagents(
    repo: Path, gs, tmp_path: Path
) -> None:
    import shutil

    import pytest

    from gitsess.agents import get

    from .conftest import CORPUS

    sample = CORPUS / "claude-code" / "incremental-subagents"
    if not sample.exists():
        pytest.skip("no corpus beside this checkout")
    sid = gs("new", "Growing", "--json").json()["id"]
    project = tmp_path / "projects" / "-work-app"
    project.mkdir(parents=True)
    transcript = project / "5f3c1a2e.jsonl"
    payload = {
        "session_id": "5f3c1a2e",
        "transcript_path": str(transcript),
        "cwd": str(repo),
        "hook_event_name": "Stop",
    }
    expected: set[str] = set()
    for step in ("turn-1", "turn-2"):
        shutil.copyfile(sample / f"{step}.jsonl", transcript)
        shutil.rmtree(project / "5f3c1a2e", ignore_errors=True)
        shutil.copytree(sample / step, project / "5f3c1a2e")
        result = hook(repo, payload, agent="claude-code")
        assert result.returncode == 0 and result.stderr == "", result.stderr
        parsed = get("claude-code").parse(transcript).entries
        expected |= {e["id"] for e in parsed}
        stored = [e["id"] for e in log_lines(repo, sid)]
        assert len(stored) == len(set(stored))  # never an entry twice
        assert set(stored) == expected
        subagent = [e for e in parsed if (e.get("meta") or {}).get("subagent")]
        assert subagent and {e["id"] for e in subagent} <= set(stored)
    commits = log_commits(repo, sid)
    assert hook(repo, payload, agent="claude-code").returncode == 0
    assert log_commits(repo, sid) == commits
    # A subagent file growing on its own is noticed too.
    (sub_file,) = (project / "5f3c1a2e").rglob("agent-*.jsonl")
    last = json.loads(sub_file.read_text().splitlines()[-1])
    grown = {
        **last,
        "uuid": "0b7e-extra-line",
        "parentUuid": last.get("uuid"),
        "timestamp": "2099-01-01T00:00:00.000Z",
    }
    with sub_file.open("a") as handle:
        handle.write(json.dumps(grown) + "\n")
    assert hook(repo, payload, agent="claude-code").returncode == 0
    assert log_commits(repo, sid) == commits + 1


def garbage_transcripts(folder: Path) -> dict[str, Path]:
    """What a hook may wrongly name: each must give one clean line, never a traceback."""
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    codex = sorted((corpus / "codex").rglob("*.jsonl"))
    made = {
        "binary": bytes(range(256)) * 4,
        "truncated": b'{"gitsess": 1, "session": {"title": "cut"}}\n{"id": "u1", "type": "mes',
        "empty": b"",
        "claude-code": b'{"type":"user","uuid":"u","message":{"role":"user","content":"hi"}}\n',
    }
    found = {}
    for name, data in made.items():
        found[name] = folder / f"{name}.jsonl"
        found[name].write_bytes(data)
    found["folder"] = folder / "a-folder.jsonl"
    found["folder"].mkdir()
    if codex:  # a real transcript of another agent
        found["codex"] = codex[0]
    return found


def one_clean_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and proc.stdout == b"", (proc.returncode, proc.stdout, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gitsess capture: "), err
    assert "Traceback" not in err
    return lines[0]


def test_garbage_gives_one_clean_line_from_the_hook_and_by_hand(
    repo: Path, gs, tmp_path: Path
) -> None:
    for name, path in garbage_transcripts(tmp_path).items():
        payload = json.dumps({"transcript_path": str(path), "cwd": str(repo)})
        for agent in ("claude-code", "gitsess", "gemini"):
            if name == agent:
                continue
            by_hook = subprocess.run(  # JSON on stdin, as an agent's hook gives it
                [gitsess_exe(), "capture", "--agent", agent],
                cwd=repo,
                input=payload.encode(),
                capture_output=True,
                check=False,
            )
            line = one_clean_line(by_hook)
            assert str(path) in line, (name, agent, line)
            by_hand = subprocess.run(  # the payload as an argument, through the full CLI
                [gitsess_exe(), "-C", str(repo), "capture", "--agent", agent, payload],
                capture_output=True,
                check=False,
            )
            assert one_clean_line(by_hand) == line
    assert session_ids(repo) == []
    # The hook's own input: binary, cut short, not an object.
    for stdin, said in (
        (bytes(range(256)), "not UTF-8"),
        (b'{"transcript_path": "/x', "not JSON (Unterminated string"),
        (b"[1, 2]", "not a JSON object"),
    ):
        proc = subprocess.run(
            [gitsess_exe(), "capture"], cwd=repo, input=stdin, capture_output=True, check=False
        )
        assert said in one_clean_line(proc)


def test_capture_by_hand_at_a_terminal_says_what_it_wants(repo: Path) -> None:
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [gitsess_exe(), "capture"],
            cwd=repo,
            stdin=follower,
            capture_output=True,
            check=False,
            timeout=60,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert "no hook input" in one_clean_line(proc)
