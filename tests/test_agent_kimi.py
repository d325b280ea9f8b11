"""Kimi wire.jsonl: the corpus sample, synthetic Kimi Code and kimi-cli logs, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import FormatError, detect
from gitsess.agents.kimi import FORMAT
from gitsess.model import normalize_entry

from .conftest import CORPUS, session_ids

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
OTHER_CORPUS = ("claude-code", "codex", "gemini")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("corpus not present")
    files = sorted((CORPUS / "kimi").glob("*.jsonl"))
    if not files:
        pytest.skip("no Kimi corpus files")
    return files


def check_entries(entries: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    texts = []
    for entry in entries:
        assert ID_RE.match(entry["id"])
        assert normalize_entry(entry) == entry
        assert entry["source"]["format"] == "kimi"
        if entry["type"] in ("message", "reasoning") and entry["content"]:
            texts.append((entry["type"], entry.get("role"), json.dumps(entry["content"])))
    assert len(texts) == len(set(texts))
    calls = {e["call_id"]: i for i, e in enumerate(entries) if e["type"] == "tool_call"}
    assert len(calls) == len([e for e in entries if e["type"] == "tool_call"])
    for i, entry in enumerate(entries):
        if entry["type"] == "tool_result":
            assert calls[entry["call_id"]] < i


def records_of(path: Path) -> list[tuple[int, dict[str, Any]]]:
    lines = path.read_text().splitlines()
    return [(n, json.loads(line)) for n, line in enumerate(lines, start=1) if line.strip()]


# -- the corpus ----------------------------------------------------------------


def test_corpus_fidelity() -> None:
    for path in corpus_files():
        records = records_of(path)
        conversation = FORMAT.parse(path)
        entries = conversation.entries
        check_entries(entries)
        ids = {e["id"] for e in entries}
        # Every record but the header made at least one entry: nothing dropped.
        for number, record in records:
            if record.get("type") != "metadata":
                assert f"kimi:{number}" in ids, number
        by_line = {e["id"]: e for e in entries}
        prompts = [(n, r) for n, r in records if r["type"] == "turn.prompt"]
        assert prompts
        for number, record in prompts:
            entry = by_line[f"kimi:{number}"]
            text = "".join(p["text"] for p in record["input"] if p["type"] == "text")
            assert (entry["type"], entry["role"], entry["content"]) == ("message", "user", text)
        loop = [r["event"] for _, r in records if r["type"] == "context.append_loop_event"]
        calls = [e for e in loop if e["type"] == "tool.call"]
        results = [e for e in loop if e["type"] == "tool.result"]
        assert calls
        call_entries = {e["call_id"]: e for e in entries if e["type"] == "tool_call"}
        result_entries = {e["call_id"]: e for e in entries if e["type"] == "tool_result"}
        assert set(call_entries) == {c["toolCallId"] for c in calls}
        assert set(result_entries) == {r["toolCallId"] for r in results}
        for event in calls:
            entry = call_entries[event["toolCallId"]]
            assert (entry["name"], entry["input"]) == (event["name"], event["args"])
            assert entry["model"] == "kimi-code/kimi-for-coding"
        for event in results:
            entry = result_entries[event["toolCallId"]]
            assert entry["output"] == event["result"]["output"]
            assert entry["is_error"] is event["result"]["isError"]
        # The prompt appended to the context again is not a second user message.
        users = [e for e in entries if e["type"] == "message" and e["role"] == "user"]
        assert len(users) == len(prompts)
        steps = [e for e in entries if e["type"] == "event" and e["name"].startswith("step_")]
        assert len(steps) == len([e for e in loop if e["type"].startswith("step.")])
        assert conversation.meta["protocol_version"] == records[0][1]["protocol_version"]
        assert FORMAT.parse(path).entries == entries


def test_sniff_claims_kimi_and_nothing_else() -> None:
    for path in corpus_files():
        assert FORMAT.sniff(path, path.read_bytes()[:65536])
    for folder in OTHER_CORPUS:
        for other in (CORPUS / folder).rglob("*"):
            if other.is_file():
                head = other.read_bytes()[:65536]
                assert not FORMAT.sniff(other, head), other
                # Not even when the file is named like Kimi's.
                assert not FORMAT.sniff(other.with_name("wire.jsonl"), head), other
    assert not FORMAT.sniff(Path("wire.jsonl"), b'{"gitsess": 1, "session": {}}\n')


def test_detected_among_all_formats(tmp_path: Path) -> None:
    paths = [*corpus_files(), kimi_code_session(tmp_path), legacy_session(tmp_path)]
    for path in paths:
        try:
            assert detect(path).name == "kimi"
        except ModuleNotFoundError as exc:  # another format's module is not written yet
            pytest.skip(str(exc))


def test_import_end_to_end(repo: Path, gs) -> None:
    path = corpus_files()[0]
    result = gs("import", str(path), "--format", "kimi", "--no-checkout", "--json")
    assert result.code == 0, result.err
    shown = gs("show", result.json()["id"], "--json").json()
    assert shown["entries"] == [normalize_entry(e) for e in FORMAT.parse(path).entries]
    assert shown["session"]["title"] == "Please read src/index.ts and then update it."


# -- synthetic Kimi Code (protocol 1.4) -------------------------------------------

SID = "3b0c6f1e-2d4a-4f5b-8c9d-0e1f2a3b4c5d"
T0 = 1781368649000


def loop(event: dict[str, Any], t: int) -> dict[str, Any]:
    return {"type": "context.append_loop_event", "event": event, "time": T0 + t}


def part(step: str, kind: str, text: str, t: int) -> dict[str, Any]:
    return loop(
        {
            "type": "content.part",
            "stepUuid": step,
            "turnId": "0",
            "part": {"type": kind, kind: text},
        },
        t,
    )


def kimi_code_records() -> list[dict[str, Any]]:
    bash = "functions.Bash:0"  # Kimi numbers calls per message: the id comes back later
    return [
        {"type": "metadata", "protocol_version": "1.4", "created_at": T0, "app_version": "0.14.2"},
        {
            "type": "config.update",
            "profileName": "agent",
            "modelAlias": "kimi-code/k2",
            "thinkingLevel": "high",
            "time": T0 + 1,
        },
        {"type": "tools.set_active_tools", "toolNames": ["Bash", "Read"], "time": T0 + 2},
        {
            "type": "turn.prompt",
            "input": [{"type": "text", "text": "Run the tests"}],
            "origin": {"kind": "user"},
            "time": T0 + 3,
        },
        loop({"type": "step.begin", "uuid": "s1", "turnId": "0", "step": 1}, 4),
        part("s1", "think", "The user wants ", 5),
        part("s1", "think", "the tests run.", 6),
        part("s1", "text", "Running ", 7),
        part("s1", "text", "them now.", 8),
        loop(
            {
                "type": "tool.call",
                "uuid": "c1",
                "stepUuid": "s1",
                "turnId": "0",
                "step": 1,
                "toolCallId": bash,
                "name": "Bash",
                "args": {"command": "pytest -q"},
                "description": "Run tests",
            },
            9,
        ),
        loop(
            {
                "type": "tool.result",
                "stepUuid": "s1",
                "parentUuid": "c1",
                "toolCallId": bash,
                "result": {"output": "1 failed", "isError": True},
            },
            10,
        ),
        loop(
            {
                "type": "step.end",
                "uuid": "s1",
                "turnId": "0",
                "step": 1,
                "usage": {"inputOther": 900, "output": 40},
            },
            11,
        ),
        {
            "type": "turn.steer",
            "input": [{"type": "text", "text": "only the unit tests"}],
            "origin": {"kind": "user"},
            "time": T0 + 12,
        },
        {
            "type": "context.append_message",
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "<system-reminder>Todo list is empty</system-reminder>",
                    }
                ],
                "toolCalls": [],
                "origin": {"kind": "injection"},
            },
            "time": T0 + 13,
        },
        loop({"type": "step.begin", "uuid": "s2", "turnId": "0", "step": 2}, 14),
        loop(
            {
                "type": "tool.call",
                "uuid": "c2",
                "stepUuid": "s2",
                "turnId": "0",
                "step": 2,
                "toolCallId": bash,
                "name": "Bash",
                "args": {"command": "pytest -q tests/unit"},
            },
            15,
        ),
        {"type": "turn.cancel", "time": T0 + 16},
        {"type": "config.update", "modelAlias": "kimi-code/k2-turbo", "time": T0 + 17},
        {
            "type": "turn.prompt",
            "input": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "imageUrl": {"url": "blobref:image/png;abc123"}},
            ],
            "origin": {"kind": "user"},
            "time": T0 + 18,
        },
        loop({"type": "step.begin", "uuid": "s3", "turnId": "1", "step": 1}, 19),
        loop(
            {
                "type": "tool.result",
                "stepUuid": "s2",
                "parentUuid": "c2",
                "toolCallId": bash,
                "result": {"output": "ok", "isError": False},
            },
            20,
        ),
        part("s3", "text", "A screenshot of the app.", 21),
        {
            "type": "context.append_message",
            "message": {
                "role": "user",
                "content": [{"type": "text", "text": "look"}],
                "toolCalls": [],
                "origin": {"kind": "user"},
            },
            "time": T0 + 22,
        },
        {
            "type": "usage.record",
            "model": "kimi-code/k2-turbo",
            "usage": {"inputOther": 10, "output": 5},
            "usageScope": "turn",
            "time": T0 + 23,
        },
        {"type": "brand.new", "x": 1, "time": T0 + 24},
    ]


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def kimi_code_session(root: Path, records: list[dict[str, Any]] | None = None) -> Path:
    session = root / "kimi-code" / "sessions" / "wd_proj_1a2b3c" / SID
    session.mkdir(parents=True, exist_ok=True)
    state = {"sessionId": SID, "workDir": "/home/ada/proj", "createdAt": T0}
    (session / "state.json").write_text(json.dumps(state))
    return write(session / "agents" / "main" / "wire.jsonl", records or kimi_code_records())


def test_kimi_code_session(tmp_path: Path) -> None:
    path = kimi_code_session(tmp_path)
    assert FORMAT.sniff(path, path.read_bytes())
    conversation = FORMAT.parse(path)
    entries = conversation.entries
    check_entries(entries)
    assert (conversation.native_id, conversation.cwd) == (SID, "/home/ada/proj")
    assert conversation.meta["layout"] == "kimi-code"
    shape = [(e["type"], e.get("role") or e.get("name")) for e in entries]
    assert shape == [
        ("event", "config_update"),
        ("event", "tools_set_active_tools"),
        ("message", "user"),
        ("event", "step_begin"),
        ("reasoning", None),
        ("message", "assistant"),
        ("tool_call", "Bash"),
        ("tool_result", None),
        ("event", "step_end"),
        ("message", "user"),
        ("message", "user"),
        ("event", "step_begin"),
        ("tool_call", "Bash"),
        ("event", "turn_cancel"),
        ("event", "config_update"),
        ("message", "user"),
        ("event", "step_begin"),
        ("tool_result", None),
        ("message", "assistant"),
        ("event", "context_message"),
        ("event", "usage_record"),
        ("event", "brand_new"),
    ]
    reasoning, answer = entries[4], entries[5]
    assert (reasoning["id"], reasoning["content"]) == ("kimi:6", "The user wants the tests run.")
    assert (answer["id"], answer["content"], answer["model"]) == (
        "kimi:8",
        "Running them now.",
        "kimi-code/k2",
    )
    assert reasoning["ts"] == "2026-06-13T16:37:29.005Z"
    first_call, first_result, second_call, second_result = (
        e for e in entries if e["type"] in ("tool_call", "tool_result")
    )
    assert first_call["call_id"] == first_result["call_id"] == "functions.Bash:0"
    assert first_result["is_error"] is True and first_result["output"] == "1 failed"
    assert second_call["call_id"] == second_result["call_id"] == "functions.Bash:0#2"
    assert second_call["meta"]["native_call_id"] == "functions.Bash:0"
    assert second_result["is_error"] is False
    steer, injected = entries[9], entries[10]
    assert steer["meta"]["steer"] is True and steer["content"] == "only the unit tests"
    assert injected["meta"]["context"] is True and "system-reminder" in injected["content"]
    image_prompt = entries[15]
    assert image_prompt["content"][1]["type"] == "image"
    assert image_prompt["content"][1]["url"] == "blobref:image/png;abc123"
    assert entries[18]["model"] == "kimi-code/k2-turbo"
    assert entries[19]["data"]["duplicate_of"] == image_prompt["id"]
    assert entries[8]["data"]["usage"] == {"inputOther": 900, "output": 40}


def test_kimi_code_every_prefix_keeps_ids(tmp_path: Path) -> None:
    records = kimi_code_records()
    final = {e["id"]: e["type"] for e in FORMAT.parse(kimi_code_session(tmp_path)).entries}
    for n in range(2, len(records)):
        path = write(tmp_path / "grow" / "wire.jsonl", records[:n])
        for entry in FORMAT.parse(path).entries:
            assert final.get(entry["id"]) == entry["type"], (n, entry["id"])


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "wire.jsonl", kimi_code_records()[:6])
    whole = FORMAT.parse(path).entries
    with path.open("a") as handle:
        handle.write(json.dumps(part("s1", "think", "cut", 7))[:40])
    assert FORMAT.parse(path).entries == whole
    with path.open("a") as handle:
        handle.write("\n")
    with pytest.raises(FormatError, match="line 7"):
        FORMAT.parse(path)


# -- synthetic kimi-cli (envelope records) --------------------------------------------


def wire(kind: str, payload: dict[str, Any], t: float) -> dict[str, Any]:
    return {"timestamp": 1767225600.0 + t, "message": {"type": kind, "payload": payload}}


def legacy_records() -> list[dict[str, Any]]:
    call = {
        "type": "function",
        "id": "tool_r1",
        "function": {"name": "ReadFile", "arguments": '{"path": '},
    }
    return [
        {"type": "metadata", "protocol_version": "1.1"},
        wire("TurnBegin", {"user_input": "Summarise README.md"}, 0),
        wire("StepBegin", {"n": 1}, 0.1),
        wire("ContentPart", {"type": "think", "think": "Read it first.", "encrypted": None}, 0.2),
        wire("ToolCall", call, 0.3),
        wire("ToolCallPart", {"arguments_part": '"README.md"}'}, 0.31),
        wire(
            "StatusUpdate",
            {
                "context_usage": 0.1,
                "token_usage": {"input_other": 500, "output": 20},
                "message_id": "m1",
            },
            0.4,
        ),
        wire(
            "ToolResult",
            {
                "tool_call_id": "tool_r1",
                "return_value": {
                    "is_error": False,
                    "output": "# Demo",
                    "message": "",
                    "display": [],
                },
            },
            0.5,
        ),
        wire("StepBegin", {"n": 2}, 0.6),
        wire("ContentPart", {"type": "text", "text": "It is a "}, 0.7),
        wire("ContentPart", {"type": "text", "text": "demo."}, 0.8),
        wire("CompactionBegin", {}, 0.85),
        wire("CompactionEnd", {}, 0.86),
        wire("TurnEnd", {}, 0.9),
        wire("TurnBegin", {"user_input": [{"type": "text", "text": "Thanks"}]}, 5),
        wire("StepInterrupted", {}, 5.5),
    ]


def legacy_session(root: Path) -> Path:
    return write(
        root / "kimi" / "sessions" / "5f4dcc3b" / "9a8b7c6d" / "wire.jsonl", legacy_records()
    )


def test_kimi_cli_session(tmp_path: Path) -> None:
    path = legacy_session(tmp_path)
    assert FORMAT.sniff(path, path.read_bytes())
    conversation = FORMAT.parse(path)
    entries = conversation.entries
    check_entries(entries)
    assert conversation.native_id == "9a8b7c6d"
    assert conversation.meta["layout"] == "kimi-cli"
    shape = [(e["type"], e.get("role") or e.get("name")) for e in entries]
    assert shape == [
        ("message", "user"),
        ("event", "step_begin"),
        ("reasoning", None),
        ("tool_call", "ReadFile"),
        ("event", "status_update"),
        ("tool_result", None),
        ("event", "step_begin"),
        ("message", "assistant"),
        ("event", "compaction_begin"),
        ("event", "compaction_end"),
        ("event", "turn_end"),
        ("message", "user"),
        ("event", "step_interrupted"),
    ]
    assert entries[0]["content"] == "Summarise README.md"
    assert entries[0]["ts"] == "2026-01-01T00:00:00.000Z"
    assert entries[3]["input"] == {"path": "README.md"}
    assert entries[3]["source"]["id"] == "tool_r1"
    assert entries[5]["call_id"] == "tool_r1" and entries[5]["output"] == "# Demo"
    assert entries[5]["meta"] == {"message": "", "display": []}
    assert entries[7]["content"] == "It is a demo."
    assert entries[11]["content"] == "Thanks"


def test_kimi_cli_streamed_arguments_that_never_finish(tmp_path: Path) -> None:
    path = write(tmp_path / "wire.jsonl", legacy_records()[:5])
    entries = FORMAT.parse(path).entries
    assert entries[-1]["type"] == "tool_call"
    assert entries[-1]["input"] == '{"path": '
    assert entries[-1]["meta"]["arguments_not_json"] is True


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "line 1"),
        (
            b'{"type": "metadata", "protocol_version": "1.4"}\n{"type": "turn.prompt", "inp',
            "line 2",
        ),
        (b'{"type": "turn.prompt", "input": [{"type": "te', "line 1"),
        (b'{"type": "metadata", "protocol_version": "1.4"}\n"text"\n', "line 2"),
        (
            b'{"type": "metadata", "protocol_version": "1.4"}\nnope\n'
            b'{"type": "turn.cancel", "time": 1}\n',
            "line 2",
        ),
        (b'{"hello": "world"}\n{"type": "x"}\n', "not a Kimi"),
    ],
)
def test_garbage_is_an_error_and_creates_nothing(
    repo: Path, gs, tmp_path: Path, content: bytes, where: str
) -> None:
    path = tmp_path / "wire.jsonl"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=where):
        FORMAT.parse(path)
    result = gs("import", str(path), "--format", "kimi")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and str(path) in result.err
    assert session_ids(repo) == []


def test_synthetic_import_end_to_end(repo: Path, gs, tmp_path: Path) -> None:
    path = kimi_code_session(tmp_path)
    result = gs("import", str(path), "--format", "kimi", "--json")
    assert result.code == 0, result.err
    shown = gs("show", result.json()["id"], "--json").json()
    assert shown["entries"] == [normalize_entry(e) for e in FORMAT.parse(path).entries]
    assert shown["session"]["source"]["id"] == SID
    assert shown["session"]["source"]["cwd"] == "/home/ada/proj"
