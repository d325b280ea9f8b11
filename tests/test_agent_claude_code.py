"""Claude Code transcripts: the corpus, synthetic edge cases, errors, and writing them back."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import FormatError
from gitsess.agents.base import first_prompt_title
from gitsess.agents.claude_code import (
    FORMAT,
    new_session_uuid,
    to_transcript,
    transcript_dir,
    transcript_path,
    write_transcript,
)
from gitsess.model import normalize_entry

from .conftest import CORPUS, session_ids

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
ROOT = CORPUS / "claude-code"
SESSION_FILES = sorted(
    p
    for p in ROOT.rglob("*.jsonl")
    if not p.name.startswith("agent-") and "subagents" not in p.parts
)
SESSION = "5a3bb1c8-0000-4000-8000-0123456789ab"
SPOKEN = ("message", "reasoning", "tool_call", "tool_result", "summary")


@pytest.fixture(params=SESSION_FILES or [None], ids=lambda p: p.name if p else "none")
def corpus(request: pytest.FixtureRequest) -> Path:
    if request.param is None:
        pytest.skip("no Claude Code corpus")
    path: Path = request.param
    return path


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus")
    return path


def records_of(path: Path) -> list[dict[str, Any]]:
    """Every record of a file, with lines holding several objects split."""
    decoder = json.JSONDecoder()
    found = []
    for line in path.read_text().splitlines():
        text, position = line.strip(), 0
        while position < len(text):
            value, position = decoder.raw_decode(text, position)
            found.append(value)
            while position < len(text) and text[position].isspace():
                position += 1
    return found


def subagent_files(path: Path) -> list[Path]:
    newer = sorted((path.parent / path.stem / "subagents").rglob("agent-*.jsonl"))
    session = records_of(path)
    sid = next((r["sessionId"] for r in session if "sessionId" in r), None)
    older = [
        p
        for p in sorted(path.parent.glob("agent-*.jsonl"))
        if any(r.get("sessionId") == sid for r in records_of(p))
    ]
    return newer + older


def all_records(path: Path) -> list[dict[str, Any]]:
    return records_of(path) + [r for p in subagent_files(path) for r in records_of(p)]


def blocks(records: list[dict[str, Any]], role: str, kind: str) -> list[dict[str, Any]]:
    return [
        b
        for r in records
        if r.get("type") == role and isinstance(r["message"].get("content"), list)
        for b in r["message"]["content"]
        if isinstance(b, dict) and b.get("type") == kind
    ]


def of_type(entries: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["type"] == kind]


# -- the corpus -------------------------------------------------------------------------------


def test_corpus_entries_are_valid_unique_and_sourced(corpus: Path) -> None:
    conversation = FORMAT.parse(corpus)
    entries = conversation.entries
    assert conversation.agent == "claude-code"
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert ID_RE.match(entry["id"]), entry["id"]
        assert normalize_entry(entry) == entry
        assert entry["source"]["format"] == "claude-code"
        assert isinstance(entry["meta"], dict)
    # nothing derived twice from one native record
    derived = Counter(
        (
            e["source"].get("id"),
            e["type"],
            e.get("call_id"),
            json.dumps(e.get("content", e.get("data"))),
        )
        for e in entries
    )
    assert max(derived.values()) == 1
    # every record is there: each uuid, and one event per record without one
    records = all_records(corpus)
    uuids = {r["uuid"] for r in records if r.get("uuid")}
    assert uuids == {e["source"]["id"] for e in entries if "id" in e["source"]}
    assert sum(1 for r in records if not r.get("uuid")) == sum(
        1 for e in entries if "id" not in e["source"]
    )
    assert conversation.native_id == next(r["sessionId"] for r in records if "sessionId" in r)
    assert conversation.cwd == next(r["cwd"] for r in records if "cwd" in r)
    # the corpus has no rewinds: parallel tool calls and subagents are not taken for one
    assert not [e["id"] for e in entries if e["meta"].get("inactive")]


def test_corpus_every_prompt_and_text_once(corpus: Path) -> None:
    all_entries = FORMAT.parse(corpus).entries
    for path in [corpus, *subagent_files(corpus)]:  # in order within each file
        records = records_of(path)
        agent = next((r["agentId"] for r in records if r.get("isSidechain")), None)
        entries = [e for e in all_entries if e["meta"].get("subagent") == agent]
        prompts = [
            r["message"]["content"]
            for r in records
            if r["type"] == "user"
            and not r.get("isMeta")
            and not r.get("isCompactSummary")
            and isinstance(r["message"]["content"], str)
        ]
        said = [e["content"] for e in entries if e["type"] == "message" and e["role"] == "user"]
        assert prompts and said == prompts
        injected = [r["message"]["content"] for r in records if r.get("isMeta") and "message" in r]
        assert [e["content"] for e in entries if e["meta"].get("injected")] == injected
    entries, records = all_entries, all_records(corpus)
    for entry in entries:
        if entry["type"] == "message" and entry["role"] == "system":
            assert entry["meta"]["injected"] is True
    texts = [b["text"] for b in blocks(records, "assistant", "text")]
    replies = [e["content"] for e in entries if e["type"] == "message" and e["role"] == "assistant"]
    assert sorted(replies) == sorted(texts)
    thoughts = [b["thinking"] for b in blocks(records, "assistant", "thinking")]
    assert sorted(e["content"] for e in of_type(entries, "reasoning")) == sorted(thoughts)
    for entry in of_type(entries, "reasoning"):
        assert entry["meta"]["block"]["signature"]
    models = {r["message"]["model"] for r in records if r["type"] == "assistant"}
    assert {e["model"] for e in entries if "model" in e} == models


def test_corpus_tool_calls_paired_with_results(corpus: Path) -> None:
    records = all_records(corpus)
    entries = FORMAT.parse(corpus).entries
    uses = blocks(records, "assistant", "tool_use")
    results = blocks(records, "user", "tool_result")
    calls = of_type(entries, "tool_call")
    outputs = of_type(entries, "tool_result")
    assert Counter(json.dumps([c["call_id"], c["name"], c["input"]]) for c in calls) == Counter(
        json.dumps([b["id"], b["name"], b["input"]]) for b in uses
    )
    assert sorted(o["call_id"] for o in outputs) == sorted(b["tool_use_id"] for b in results)
    by_id = {b["tool_use_id"]: b for b in results}
    for output in outputs:
        native = by_id[output["call_id"]]
        assert output["output"] == native["content"]
        assert output["is_error"] is bool(native.get("is_error"))
    positions = {e["id"]: i for i, e in enumerate(entries)}
    call_at = {c["call_id"]: positions[c["id"]] for c in calls}
    for output in outputs:
        assert output["call_id"] in call_at
        assert call_at[output["call_id"]] < positions[output["id"]]
    with_result = [r for r in records if r["type"] == "user" and "toolUseResult" in r]
    assert len([o for o in outputs if "toolUseResult" in o["meta"]]) == len(with_result)


def test_corpus_compaction_summaries(corpus: Path) -> None:
    records = all_records(corpus)
    entries = FORMAT.parse(corpus).entries
    boundaries = [r for r in records if r.get("subtype") == "compact_boundary"]
    summaries = [r for r in records if r.get("isCompactSummary")]
    found = of_type(entries, "summary")
    assert [s["content"] for s in found] == [r["message"]["content"] for r in summaries]
    assert len([e for e in entries if e.get("name") == "compaction"]) == len(boundaries)
    ids = [e["id"] for e in entries]
    for summary, boundary in zip(found, boundaries, strict=True):
        at = ids.index(summary["id"])
        assert entries[at - 1]["name"] == "compaction"
        assert summary["last"] == boundary["logicalParentUuid"]
        assert ids.index(summary["first"]) < ids.index(summary["last"]) < at
        assert entries[ids.index(summary["first"])]["type"] != "event"


def test_corpus_title_is_the_agents_summary(corpus: Path) -> None:
    records = records_of(corpus)
    titles = [r["summary"] for r in records if r["type"] == "summary"]
    conversation = FORMAT.parse(corpus)
    assert conversation.title == (titles[-1] if titles else None)
    assert len([e for e in conversation.entries if e.get("name") == "summary"]) == len(titles)


def test_corpus_parse_is_stable_as_the_file_grows(corpus: Path, tmp_path: Path) -> None:
    whole = FORMAT.parse(corpus).entries
    assert FORMAT.parse(corpus).entries == whole
    lines = corpus.read_bytes().splitlines(keepends=True)
    by_id = {e["id"]: e for e in whole}
    for cut in (len(lines) // 3, 2 * len(lines) // 3):
        part = tmp_path / f"{cut}.jsonl"
        part.write_bytes(b"".join(lines[:cut]))
        for entry in FORMAT.parse(part).entries:
            assert entry["id"] in by_id
            assert entry["ts"] == by_id[entry["id"]]["ts"]
            assert entry.get("content") == by_id[entry["id"]].get("content")


def test_incremental_turns_keep_their_ids() -> None:
    """The same session seen by a capture hook after turn 1 and after turn 2."""
    first = FORMAT.parse(need(ROOT / "incremental-subagents" / "turn-1.jsonl")).entries
    second = FORMAT.parse(need(ROOT / "incremental-subagents" / "turn-2.jsonl")).entries
    later = {e["id"]: e for e in second}
    for entry in first:
        assert later[entry["id"]] == entry
    assert len(second) > len(first)


def test_subagents_follow_the_task_call_that_started_them() -> None:
    path = need(ROOT / "incremental-subagents" / "turn-2.jsonl")
    entries = FORMAT.parse(path).entries
    agent = records_of(subagent_files(path)[0])
    agent_id = agent[0]["agentId"]
    mine = [i for i, e in enumerate(entries) if e["meta"].get("subagent") == agent_id]
    assert len(mine) == len(agent)
    assert mine == list(range(mine[0], mine[0] + len(mine)))  # one block
    task = entries[mine[0] - 1]
    assert task["type"] == "tool_call" and task["name"] in ("Task", "Agent")
    assert entries[mine[0]]["parent"] == task["id"]
    assert entries[mine[0]]["content"] == task["input"]["prompt"]
    result = next(e for e in entries if e.get("call_id") == task["call_id"] and e is not task)
    assert entries.index(result) > mine[-1]
    assert result["meta"]["toolUseResult"]["agentId"] == agent_id
    for index in mine:
        assert entries[index]["id"].startswith(f"{agent_id}.")


def test_old_layout_subagents_of_this_session_only(tmp_path: Path) -> None:
    folder = need(ROOT / "sidechain-old-layout")
    session = next(p for p in folder.glob("*.jsonl") if not p.name.startswith("agent-"))
    copy = tmp_path / "project"
    shutil.copytree(folder, copy)
    other = json.loads((copy / "agent-50243ee8.jsonl").read_text().splitlines()[0])
    other.update(sessionId="another-session", agentId="feedbeef", uuid=str(uuid.uuid4()))
    (copy / "agent-feedbeef.jsonl").write_text(json.dumps(other) + "\n")
    conversation = FORMAT.parse(copy / session.name)
    agents = {e["meta"].get("subagent") for e in conversation.entries} - {None}
    assert agents == {"50243ee8", "36541525"}
    assert conversation.meta["subagents"] == ["36541525", "50243ee8"]
    # placed by time, but never before the session's first prompt
    assert first_prompt_title(conversation.entries) == "create hello.py, md and js"
    assert conversation.entries[2]["meta"].get("subagent")
    files = FORMAT.watched_files(copy / session.name)
    assert {p.name for p in files} == {session.name, "agent-50243ee8.jsonl", "agent-36541525.jsonl"}


def test_a_long_corpus_session_imports_whole(tmp_path: Path) -> None:
    """A 3.5 MB session (the corpus one repeated with fresh uuids) imports every copy's
    entries. Its cost against `json.loads` is a `make bench` figure (import), not timed here."""
    source = need(ROOT / "compaction.jsonl")
    lines = source.read_text().splitlines()
    copies = max(1, 3_500_000 // len(source.read_bytes()))
    out = []
    for copy in range(copies):
        for line in lines:  # fresh uuids: a long session, not one record many times
            out.append(re.sub(r'"([0-9a-f]{8})-', lambda m, c=copy: f'"{c:08x}-', line))
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(out) + "\n")

    entries = FORMAT.parse(big).entries
    assert len(entries) == copies * len(FORMAT.parse(source).entries)
    assert len({entry["id"] for entry in entries}) == len(entries)


def all_formats_present() -> bool:
    """Detection loads every format module; while one is missing, name the format instead."""
    from gitsess.agents import _MODULES

    return all(
        importlib.util.find_spec(f"gitsess.agents.{module}") is not None
        for module in _MODULES.values()
    )


def test_corpus_import_end_to_end(corpus: Path, gs: Any) -> None:
    detected = ["--format", "claude-code"] if not all_formats_present() else []
    result = gs("import", str(corpus), *detected, "--json")
    assert result.code == 0, result.err
    created = result.json()
    conversation = FORMAT.parse(corpus)
    assert created["agent"] == "claude-code"
    assert created["source"]["format"] == "claude-code"
    assert created["source"]["id"] == conversation.native_id
    assert created["title"] == (conversation.title or first_prompt_title(conversation.entries))
    shown = gs("show", created["id"], "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["entries"] == conversation.entries


def test_sniff_claims_claude_code_only(corpus: Path) -> None:
    for path in [corpus, *subagent_files(corpus)]:
        assert FORMAT.sniff(path, path.read_bytes()[: 64 * 1024]), path
    others = [p for p in CORPUS.rglob("*") if p.is_file() and "claude-code" not in p.parts]
    for path in others:
        assert not FORMAT.sniff(path, path.read_bytes()[: 64 * 1024]), path
    assert not FORMAT.sniff(Path("x.jsonl"), b'{"gitsess": 1, "session": {}}\n')
    assert not FORMAT.sniff(Path("x.jsonl"), b"\x00\xff garbage")
    assert not FORMAT.sniff(Path("x.jsonl"), b"")


# -- synthetic transcripts ------------------------------------------------------------------


class Transcript:
    """Builds Claude Code records the way Claude Code 2.1 writes them."""

    def __init__(self, session: str = SESSION, agent: str | None = None) -> None:
        self.records: list[dict[str, Any]] = []
        self.session = session
        self.agent = agent
        self.clock = 0

    def _common(self, parent: str | None, uid: str | None) -> dict[str, Any]:
        self.clock += 1
        record: dict[str, Any] = {
            "parentUuid": parent,
            "isSidechain": self.agent is not None,
            "userType": "external",
            "cwd": "/work/project",
            "sessionId": self.session,
            "version": "2.1.7",
            "gitBranch": "main",
        }
        if self.agent:
            record["agentId"] = self.agent
        record["uuid"] = uid or str(uuid.uuid4())
        record["timestamp"] = f"2026-01-14T10:{self.clock // 60:02d}:{self.clock % 60:02d}.000Z"
        return record

    def user(
        self, content: Any, parent: str | None = None, uid: str | None = None, **kw: Any
    ) -> str:
        record = self._common(parent, uid)
        record.update(type="user", message={"role": "user", "content": content}, **kw)
        self.records.append(record)
        return str(record["uuid"])

    def assistant(
        self, block: dict[str, Any], parent: str | None, mid: str, uid: str | None = None
    ) -> str:
        record = self._common(parent, uid)
        record.update(
            type="assistant",
            requestId="req_1",
            message={
                "model": "claude-opus-4-5-20251101",
                "id": mid,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": None,
                "usage": {"input_tokens": 3, "output_tokens": 5},
            },
        )
        self.records.append(record)
        return str(record["uuid"])

    def result(self, call_id: str, parent: str, output: Any = "ok", **kw: Any) -> str:
        block = {"tool_use_id": call_id, "type": "tool_result", "content": output}
        return self.user([block], parent, sourceToolAssistantUUID=parent, **kw)

    def system(self, parent: str | None, **fields: Any) -> str:
        record = self._common(parent, None)
        record.update(type="system", **fields)
        self.records.append(record)
        return str(record["uuid"])

    def raw(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in self.records))
        return path


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool(call_id: str, name: str = "Bash", **given: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": given or {"command": "ls"}}


def by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entries}


def test_one_api_message_over_several_lines(tmp_path: Path) -> None:
    t = Transcript()
    prompt = t.user("list files")
    thought = t.assistant(
        {"type": "thinking", "thinking": "hmm", "signature": "sig"}, prompt, "msg_1"
    )
    said = t.assistant(text("Listing."), thought, "msg_1")
    call_1 = t.assistant(tool("toolu_1"), said, "msg_1")
    call_2 = t.assistant(tool("toolu_2", "Read", file_path="/a"), call_1, "msg_1")
    done_1 = t.result("toolu_1", call_1, "a\nb", toolUseResult={"stdout": "a\nb"})
    t.result("toolu_2", call_2, [text("file a")], toolUseResult={"file": "a"})
    t.assistant(text("Two files."), done_1, "msg_2")
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    assert [e["type"] for e in entries] == [
        "message",
        "reasoning",
        "message",
        "tool_call",
        "tool_call",
        "tool_result",
        "tool_result",
        "message",
    ]
    assert [e["id"] for e in entries] == [r["uuid"] for r in t.records]
    assert entries[1]["content"] == "hmm" and entries[1]["meta"]["block"] == {"signature": "sig"}
    for entry in entries[1:5]:
        assert entry["meta"]["message"]["id"] == "msg_1"
        assert entry["model"] == "claude-opus-4-5-20251101"
        assert entry["meta"]["message"]["usage"] == {"input_tokens": 3, "output_tokens": 5}
        assert entry["meta"]["requestId"] == "req_1"
    assert entries[3]["call_id"] == "toolu_1" and entries[4]["input"] == {"file_path": "/a"}
    assert entries[5]["output"] == "a\nb" and entries[5]["meta"]["toolUseResult"]
    assert entries[6]["output"] == [text("file a")] and entries[6]["is_error"] is False
    assert entries[2]["parent"] == entries[1]["id"]
    assert not [e for e in entries if e["meta"].get("inactive")]  # parallel results: no rewind


def test_several_blocks_on_one_line(tmp_path: Path) -> None:
    t = Transcript()
    prompt = t.user("go")
    line = t._common(prompt, None)
    line.update(
        type="assistant",
        message={
            "id": "msg_1",
            "role": "assistant",
            "model": "m",
            "content": [
                {"type": "thinking", "thinking": "plan", "signature": "s"},
                text("Running."),
                tool("toolu_1"),
                {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {}},
            ],
        },
    )
    t.raw(line)
    results = t._common(line["uuid"], None)
    results.update(
        type="user",
        message={
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "x", "is_error": True},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "y"},
                text("and also this"),
            ],
        },
        toolUseResult="Error: x",
    )
    t.raw(results)
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    uid, rid = line["uuid"], results["uuid"]
    assert [e["id"] for e in entries[1:]] == [
        uid,
        f"{uid}:1",
        f"{uid}:2",
        f"{uid}:3",
        rid,
        f"{rid}:1",
        f"{rid}:2",
    ]
    assert [e["type"] for e in entries[1:]] == [
        "reasoning",
        "message",
        "tool_call",
        "tool_call",
        "tool_result",
        "tool_result",
        "message",
    ]
    assert entries[5]["is_error"] is True and entries[5]["meta"]["toolUseResult"] == "Error: x"
    assert "toolUseResult" not in entries[6]["meta"]
    assert entries[7]["role"] == "user" and entries[7]["content"] == [text("and also this")]
    assert all(e["source"]["id"] == uid for e in entries[1:5])


def test_injected_lines_are_system_messages(tmp_path: Path) -> None:
    t = Transcript()
    caveat = t.user("Caveat: The messages below were generated by the user", isMeta=True)
    command = t.user("<command-name>/clear</command-name>", caveat)
    reminder = t.user([text("<system-reminder>be brief</system-reminder>")], command, isMeta=True)
    t.user("the real question", reminder)
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    assert [(e["role"], bool(e["meta"].get("injected"))) for e in entries] == [
        ("system", True),
        ("user", False),
        ("system", True),
        ("user", False),
    ]
    assert entries[0]["meta"]["isMeta"] is True
    assert entries[2]["content"] == [text("<system-reminder>be brief</system-reminder>")]


def test_bookkeeping_records_are_events_and_the_title(tmp_path: Path) -> None:
    t = Transcript()
    t.raw({"type": "summary", "summary": "Someone else's leaf", "leafUuid": "elsewhere"})
    prompt = t.user("hi")
    t.raw({"type": "summary", "summary": "Greeting the user", "leafUuid": prompt})
    t.raw(
        {
            "type": "file-history-snapshot",
            "messageId": prompt,
            "snapshot": {"messageId": prompt, "trackedFileBackups": {}},
            "isSnapshotUpdate": False,
        }
    )
    t.raw(
        {
            "type": "file-history-snapshot",
            "messageId": prompt,
            "snapshot": {"messageId": prompt, "trackedFileBackups": {}},
            "isSnapshotUpdate": False,
        }
    )
    t.raw({"type": "queue-operation", "operation": "enqueue", "timestamp": "2026-01-14T11:00:00Z"})
    t.system(prompt, subtype="turn_duration", durationMs=5, isMeta=False)
    t.raw({"type": "some-future-record", "value": 1})
    path = t.write(tmp_path / "s.jsonl")
    conversation = FORMAT.parse(path)
    events = of_type(conversation.entries, "event")
    assert [e["name"] for e in events] == [
        "summary",
        "summary",
        "file-history-snapshot",
        "file-history-snapshot",
        "queue-operation",
        "turn_duration",
        "some-future-record",
    ]
    assert conversation.title == "Greeting the user"
    assert events[0]["ts"] == conversation.entries[1]["ts"]  # before any timestamp: the first
    assert events[4]["ts"] == "2026-01-14T11:00:00Z"
    assert events[5]["data"] == {"subtype": "turn_duration", "durationMs": 5, "isMeta": False}
    assert events[5]["meta"]["uuid"] and events[5]["meta"]["record"] == "system"
    assert events[2]["id"] != events[3]["id"] and events[3]["meta"]["duplicate"] is True
    assert events[2]["id"].startswith("file-history-snapshot.")
    # a /rename wins over the summaries, an AI title over them too
    t.raw({"type": "ai-title", "aiTitle": "AI title", "sessionId": SESSION})
    assert FORMAT.parse(t.write(path)).title == "AI title"
    t.raw({"type": "custom-title", "customTitle": "My  title", "sessionId": SESSION})
    t.raw({"type": "ai-title", "aiTitle": "Later AI title", "sessionId": SESSION})
    assert FORMAT.parse(t.write(path)).title == "My title"


def test_rewind_keeps_the_abandoned_branch_flagged(tmp_path: Path) -> None:
    t = Transcript()
    first = t.user("write a poem")
    poem = t.assistant(text("Roses are red"), first, "msg_1")
    second = t.user("make it longer", poem)
    long_poem = t.assistant(text("Roses are red, violets..."), second, "msg_2")
    t.system(long_poem, subtype="stop_hook_summary")
    # the user rewinds to before "make it longer" and asks something else
    third = t.user("make it shorter", poem)
    call = t.assistant(tool("toolu_1"), third, "msg_3")
    call_2 = t.assistant(tool("toolu_2"), call, "msg_3")
    done = t.result("toolu_2", call_2)
    t.result("toolu_1", call)
    t.assistant(text("Roses."), done, "msg_4")
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    inactive = [e["content"] for e in entries if e["meta"].get("inactive") and "content" in e]
    assert inactive == ["make it longer", "Roses are red, violets..."]
    assert len([e for e in entries if e["meta"].get("inactive")]) == 3  # and its hook event
    assert first_prompt_title(entries) == "write a poem"
    assert [e["id"] for e in entries] == [r["uuid"] for r in t.records]  # file order
    # an explicit leaf (Claude Code's /rewind writes one) chooses the branch
    t.raw({"type": "last-prompt", "leafUuid": long_poem, "explicit": True, "rewound": True})
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    active = [
        e["content"] for e in entries if e["type"] == "message" and not e["meta"].get("inactive")
    ]
    assert active == [
        "write a poem",
        "Roses are red",
        "make it longer",
        "Roses are red, violets...",
    ]


def test_progress_records_in_the_chain_are_no_rewind(tmp_path: Path) -> None:
    """Claude Code 2.1 wrote progress records into the chain, and reads past them."""
    t = Transcript()
    prompt = t.user("run it")
    call = t.assistant(tool("toolu_1"), prompt, "msg_1")
    progress = str(uuid.uuid4())
    t.raw(
        {
            "parentUuid": call,
            "type": "progress",
            "data": {"type": "bash_progress"},
            "toolUseID": "toolu_1",
            "uuid": progress,
            "timestamp": "2026-01-14T10:00:09.000Z",
        }
    )
    done = t.result("toolu_1", progress)
    t.assistant(text("Ran."), done, "msg_2")
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    assert not [e for e in entries if e["meta"].get("inactive")]
    assert by_id(entries)[progress]["name"] == "progress"


def test_server_tools_round_trip(tmp_path: Path) -> None:
    t = Transcript()
    prompt = t.user("search the web")
    use = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"q": 1}}
    found = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [{"u": 1}]}
    first = t.assistant(use, prompt, "msg_1")
    second = t.assistant(found, first, "msg_1")
    t.assistant(text("Found it."), second, "msg_1")
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    assert [(e["type"], e.get("call_id")) for e in entries[1:3]] == [
        ("tool_call", "srvtoolu_1"),
        ("tool_result", "srvtoolu_1"),
    ]
    assert entries[2]["output"] == [{"u": 1}] and entries[2]["meta"]["block"] == found
    records = to_transcript(entries, SESSION, "/w")
    assert [r["message"]["content"] for r in records[1:4]] == [[use], [found], [text("Found it.")]]
    assert {r["message"]["id"] for r in records[1:4]} == {"msg_1"}


def test_compaction_keeps_what_came_before(tmp_path: Path) -> None:
    t = Transcript()
    prompt = t.user("fix the bug")
    call = t.assistant(tool("toolu_1"), prompt, "msg_1")
    last = t.result("toolu_1", call)
    boundary = t.system(
        None,
        subtype="compact_boundary",
        content="Conversation compacted",
        logicalParentUuid=last,
        compactMetadata={"trigger": "auto", "preTokens": 1000},
    )
    summary = t.user(
        "This session is being continued... Summary: fixing the bug",
        boundary,
        isCompactSummary=True,
        isVisibleInTranscriptOnly=True,
    )
    t.assistant(text("Continuing."), summary, "msg_2")
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    assert not [e for e in entries if e["meta"].get("inactive")]
    found = of_type(entries, "summary")
    assert len(found) == 1
    assert found[0]["content"] == "This session is being continued... Summary: fixing the bug"
    assert (found[0]["first"], found[0]["last"]) == (prompt, last)
    event = by_id(entries)[boundary]
    assert event["name"] == "compaction" and event["data"]["compactMetadata"]["preTokens"] == 1000
    assert event["parent"] == last


def test_two_records_on_one_line_and_a_partial_last_line(tmp_path: Path) -> None:
    t = Transcript()
    prompt = t.user("hi")
    reply = t.assistant(text("hello"), prompt, "msg_1")
    t.user("bye", reply)
    lines = [json.dumps(r) for r in t.records]
    path = tmp_path / "s.jsonl"
    path.write_text(lines[0] + lines[1] + "\n" + lines[2] + "\n" + lines[2][: len(lines[2]) // 2])
    conversation = FORMAT.parse(path)
    assert [e["content"] for e in conversation.entries] == ["hi", "hello", "bye"]
    assert "line 3" in conversation.meta["partial_last_line"]
    path.write_text(lines[0] + " " + lines[1] + "\n")  # run together, with a space
    assert len(FORMAT.parse(path).entries) == 2
    path.write_text(lines[0] + "\n" + lines[1])  # a complete last line without "\n"
    assert "partial_last_line" not in FORMAT.parse(path).meta


def test_subagent_links_and_nested_folders(tmp_path: Path) -> None:
    main = Transcript()
    prompt = main.user("review and test")
    review = main.assistant(
        tool("toolu_review", "Task", prompt="Review the code", subagent_type="x"), prompt, "m1"
    )
    test = main.assistant(
        tool("toolu_test", "Agent", prompt="Run the tests", subagent_type="y"), review, "m1"
    )
    explore = main.assistant(tool("toolu_explore", "Task", prompt="Explore"), test, "m1")
    main.raw(
        {
            "parentUuid": explore,
            "isSidechain": False,
            "type": "progress",
            "data": {"type": "agent_progress", "agentId": "aexplore", "prompt": ""},
            "parentToolUseID": "toolu_explore",
            "toolUseID": "agent_msg_1",
            "uuid": str(uuid.uuid4()),
            "timestamp": "2026-01-14T10:00:10.000Z",
            "sessionId": SESSION,
        }
    )
    main.result("toolu_review", review, "looks fine")
    main.result("toolu_test", test, "pass", toolUseResult={"agentId": "atest"})
    done = main.result("toolu_explore", explore, "explored")
    main.assistant(text("All good."), done, "m2")
    path = main.write(tmp_path / "proj" / f"{SESSION}.jsonl")
    folder = tmp_path / "proj" / SESSION / "subagents"
    for agent, words, where in (
        ("areview", "Review the code", folder / "group"),  # linked by its .meta.json
        ("atest", "Run the tests", folder),  # by toolUseResult.agentId
        ("aexplore", "Explore", folder),  # by a progress record
        ("aprompt", "Unrelated warmup", folder),  # by time
    ):
        sub = Transcript(agent=agent)
        sub.clock = 3
        first = sub.user(words)
        sub.assistant(text(f"{agent} done"), first, f"m-{agent}")
        sub.write(where / f"agent-{agent}.jsonl")
    (folder / "group" / "agent-areview.meta.json").write_text(
        json.dumps({"agentType": "x", "toolUseId": "toolu_review"})
    )
    entries = FORMAT.parse(path).entries
    order = [(e["meta"].get("subagent"), e.get("call_id") or e.get("content")) for e in entries]
    assert order == [
        (None, "review and test"),
        (None, "toolu_review"),
        ("areview", "Review the code"),
        ("areview", "areview done"),
        (None, "toolu_test"),
        ("atest", "Run the tests"),
        ("atest", "atest done"),
        (None, "toolu_explore"),
        ("aexplore", "Explore"),
        ("aexplore", "aexplore done"),
        # unlinked: before the first record of the session written after it started
        ("aprompt", "Unrelated warmup"),
        ("aprompt", "aprompt done"),
        (None, None),  # the progress event
        (None, "toolu_review"),
        (None, "toolu_test"),
        (None, "toolu_explore"),
        (None, "All good."),
    ]
    assert entries[2]["meta"]["agent_meta"] == {"agentType": "x", "toolUseId": "toolu_review"}
    assert entries[2]["parent"] == entries[1]["id"]
    assert len({e["id"] for e in entries}) == len(entries)
    watched = {p.name for p in FORMAT.watched_files(path)}
    assert watched == {
        path.name,
        "agent-areview.jsonl",
        "agent-areview.meta.json",
        "agent-atest.jsonl",
        "agent-aexplore.jsonl",
        "agent-aprompt.jsonl",
    }
    # a subagent file being created (empty, or its first line half written) is no error
    (folder / "agent-anew.jsonl").write_text('{"parentUuid":null,"isSide')
    assert FORMAT.parse(path).entries == entries


def test_subagent_found_by_its_prompt_and_sidechains_in_the_session_file(tmp_path: Path) -> None:
    main = Transcript()
    prompt = main.user("research")
    call = main.assistant(tool("toolu_1", "Task", prompt="Find the docs"), prompt, "m1")
    sub = Transcript(agent="a1")
    first = sub.user("Find the docs")
    sub.assistant(text("Found them."), first, "m-sub")
    main.records += sub.records  # very old versions: sidechains in the session file
    main.result("toolu_1", call, "Found them.")
    entries = FORMAT.parse(main.write(tmp_path / "s.jsonl")).entries
    assert [e["meta"].get("subagent") for e in entries] == [None, None, "a1", "a1", None]
    assert entries[2]["id"] == f"a1.{first}"


def test_a_subagent_file_imported_alone(tmp_path: Path) -> None:
    sub = Transcript(agent="a1")
    first = sub.user("Find the docs")
    sub.assistant(text("Found them."), first, "m-sub")
    conversation = FORMAT.parse(sub.write(tmp_path / "agent-a1.jsonl"))
    assert [e["id"] for e in conversation.entries] == [r["uuid"] for r in sub.records]
    assert not [e for e in conversation.entries if e["meta"].get("subagent")]


def test_long_ids_are_hashed_and_stay_valid(tmp_path: Path) -> None:
    t = Transcript()
    long_id = "x" * 80
    prompt = t.user("hi", uid=long_id)
    t.assistant(
        {"type": "redacted_thinking", "data": "abc"}, prompt, "m1", uid="weird id/with spaces"
    )
    t.raw({"type": "x" * 100, "n": 1})
    entries = FORMAT.parse(t.write(tmp_path / "s.jsonl")).entries
    for entry in entries:
        assert ID_RE.match(entry["id"]), entry["id"]
        normalize_entry(entry)
    assert entries[0]["source"]["id"] == long_id
    assert entries[1]["type"] == "reasoning"
    assert entries[1]["meta"]["block"] == {"type": "redacted_thinking", "data": "abc"}
    assert entries[1]["parent"] == entries[0]["id"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b"not json at all\n", "line 1 is not JSON"),
        (b'{"parentUuid": null, "type": "user", "mess', "line 1 is incomplete"),
        (
            b'{"type":"user","message":{"role":"user","content":"a"}}\nnot json\n{"type":"user"',
            "line 2 is not JSON",
        ),
        (b'{"type":"user","message":{"role":"user","content":"a"}}{"x"\n', "line 1 is not JSON"),
        (b"[1, 2]\n", "line 1 is not a JSON object"),
        (b'{"a": 1}\n', "line 1 has no 'type'"),
        (b'{"type": "user", "content": "hi"}\n', "line 1: user record without a message"),
        (b'{"type": "session_meta", "payload": {}}\n', "no Claude Code records"),
        (b"\xff\xfe\x00garbage\n", "line 1 is not JSON"),
    ],
)
def test_bad_files_fail_with_one_line_and_create_nothing(
    repo: Path, gs: Any, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(FormatError) as caught:
        FORMAT.parse(path)
    assert str(path) in str(caught.value) and message in str(caught.value)
    result = gs("import", str(path), "--format", "claude-code", "--json")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and message in result.err
    assert session_ids(repo) == []


# -- where Claude Code keeps transcripts --------------------------------------------------------


def test_transcript_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    project = tmp_path / "my.proj_1"
    project.mkdir()
    key = str(project.resolve()).replace("/", "-").replace(".", "-").replace("_", "-")
    assert transcript_dir(project) == Path.home() / ".claude" / "projects" / key
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert transcript_dir(project) == tmp_path / "cfg" / "projects" / key
    assert transcript_dir(project, tmp_path / "other") == tmp_path / "other" / "projects" / key
    assert transcript_path(project, SESSION) == tmp_path / "cfg" / "projects" / key / (
        SESSION + ".jsonl"
    )
    link = tmp_path / "link"
    link.symlink_to(project)
    assert transcript_dir(link) == transcript_dir(project)
    # checked against Claude Code 2.1's own function (UTF-16 units, 200 characters, hash)
    assert transcript_dir(Path("/tmp/ünï 😀/x")).name == "-tmp--n-----x"
    long = "/home/ada/" + "very-long-folder-name-" * 10 + "/naïve 😀 project"
    name = transcript_dir(Path(long)).name
    assert len(name) == 207 and name.endswith("-very-long-fold-gk652k")
    assert uuid.UUID(new_session_uuid()).version == 4


# -- writing transcripts back --------------------------------------------------------------------


def spoken(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a resumed conversation must hold, in order."""
    out: list[tuple[Any, ...]] = []
    for e in entries:
        if e["meta"].get("inactive") or e["meta"].get("subagent"):
            continue
        if e["type"] == "message":
            out.append(("message", e["role"], e["content"]))
        elif e["type"] == "tool_call":
            out.append(("tool_call", e["name"], e["input"], e["call_id"]))
        elif e["type"] == "tool_result":
            out.append(("tool_result", e["call_id"], e["output"], e["is_error"]))
        elif e["type"] in ("reasoning", "summary"):
            out.append((e["type"], e["content"]))
    return out


def test_round_trip_of_the_corpus(corpus: Path, tmp_path: Path) -> None:
    conversation = FORMAT.parse(corpus)
    session = new_session_uuid()
    records = to_transcript(conversation.entries, session, "/work/project")
    assert records == to_transcript(conversation.entries, session, "/work/project")
    path = write_transcript(records, transcript_path(tmp_path, session, tmp_path / "cfg"))
    again = FORMAT.parse(path)
    assert spoken(again.entries) == spoken(conversation.entries)
    assert again.native_id == session and again.cwd == "/work/project"
    # the native details come back too
    native = {e["meta"].get("uuid"): e for e in conversation.entries}
    for entry in again.entries:
        if entry["type"] == "tool_result":
            original = next(
                e
                for e in native.values()
                if e.get("call_id") == entry["call_id"] and e["type"] == "tool_result"
            )
            assert entry["meta"].get("toolUseResult") == original["meta"].get("toolUseResult")
        if entry["type"] in ("message", "reasoning", "tool_call") and entry.get("model"):
            assert entry["meta"]["message"]["id"]
    assert not [e for e in again.entries if e["meta"].get("inactive")]
    with pytest.raises(FileExistsError):
        write_transcript(records, path)


def test_records_have_the_shape_claude_code_reads(corpus: Path) -> None:
    records = to_transcript(FORMAT.parse(corpus).entries, SESSION, "/w")
    previous = None
    for record in records:
        keys = list(record)
        assert keys[0] == "parentUuid"  # Claude Code's reader of big files looks for these
        assert keys[keys.index("uuid") + 1] == "timestamp"
        assert record["sessionId"] == SESSION and record["cwd"] == "/w"
        assert record["isSidechain"] is False
        if record.get("subtype") == "compact_boundary":
            assert record["parentUuid"] is None and record["logicalParentUuid"] == previous
        else:
            assert record["parentUuid"] == previous
        previous = record["uuid"]
        if record["type"] == "assistant":
            assert len(record["message"]["content"]) == 1
            assert record["message"]["id"] and record["message"]["role"] == "assistant"
    assert len({r["uuid"] for r in records}) == len(records)


def foreign_entries() -> list[dict[str, Any]]:
    """Entries as another agent's importer makes them."""

    def entry(n: int, kind: str, **fields: Any) -> dict[str, Any]:
        made = {"id": f"codex-1:{n}", "ts": f"2026-05-11T08:27:{n:02d}Z", "type": kind}
        made.update(fields)
        made["source"] = {"format": "codex", "id": str(n)}
        made["meta"] = fields.pop("meta", {})
        return made

    return [
        entry(1, "message", role="system", content="You are Codex.", meta={"injected": True}),
        entry(2, "message", role="user", content=[{"type": "text", "text": "fix it"}]),
        entry(3, "reasoning", content="thinking about it", meta={"encrypted_content": "x"}),
        entry(4, "message", role="assistant", content="Looking."),
        entry(5, "tool_call", name="shell", input={"command": ["ls"]}, call_id="call.1/a"),
        entry(6, "tool_call", name="apply_patch", input="*** Begin Patch", call_id="call_2"),
        entry(7, "tool_result", call_id="call.1/a", output={"exit": 0, "out": "a"}),
        entry(8, "tool_result", call_id="call_2", output="Done!", is_error=True),
        entry(9, "event", name="turn_context", data={"model": "gpt-5"}),
        entry(10, "summary", content="Summary so far", first="codex-1:1", last="codex-1:8"),
        entry(11, "message", role="assistant", content=""),
        entry(12, "message", role="assistant", content="Fixed."),
        entry(13, "commit", sha="a" * 40, subject="fix"),
    ]


def test_to_transcript_of_another_agents_entries(tmp_path: Path) -> None:
    records = to_transcript(foreign_entries(), SESSION, "/w")
    assert [(r["type"], r.get("subtype")) for r in records] == [
        ("user", None),
        ("user", None),
        ("assistant", None),
        ("assistant", None),
        ("assistant", None),
        ("user", None),
        ("user", None),
        ("system", "compact_boundary"),
        ("user", None),
        ("assistant", None),
    ]
    assert records[0]["isMeta"] is True
    # one API message for the consecutive assistant lines, made up
    ids = {r["message"]["id"] for r in records[2:5]}
    assert len(ids) == 1 and ids.pop().startswith("msg_gitsess_")
    assert records[9]["message"]["id"] != records[2]["message"]["id"]
    use = records[3]["message"]["content"][0]
    assert use == {
        "type": "tool_use",
        "id": "call_1_a",
        "name": "shell",
        "input": {"command": ["ls"]},
    }
    assert records[4]["message"]["content"][0]["input"] == {"input": "*** Begin Patch"}
    result = records[5]["message"]["content"][0]
    assert result["tool_use_id"] == "call_1_a" and result["content"] == '{"exit": 0, "out": "a"}'
    assert records[5]["sourceToolAssistantUUID"] == records[3]["uuid"]
    assert records[6]["message"]["content"][0]["is_error"] is True
    assert records[8]["isCompactSummary"] is True
    path = write_transcript(records, tmp_path / f"{SESSION}.jsonl")
    back = FORMAT.parse(path).entries
    assert [(e["type"], e.get("role")) for e in back if e["type"] != "event"] == [
        ("message", "system"),
        ("message", "user"),
        ("message", "assistant"),
        ("tool_call", None),
        ("tool_call", None),
        ("tool_result", None),
        ("tool_result", None),
        ("summary", None),
        ("message", "assistant"),
    ]
    summary = of_type(back, "summary")[0]
    assert summary["content"] == "Summary so far"
    assert summary["first"] == back[0]["id"]


CLAUDE_BIN = os.environ.get("GITSESS_TEST_CLAUDE")


@pytest.mark.skipif(not CLAUDE_BIN, reason="set GITSESS_TEST_CLAUDE to a claude binary to run")
def test_claude_code_itself_resumes_what_to_transcript_writes(tmp_path: Path) -> None:
    """`claude -p --resume` sends the written conversation to a loopback API and answers."""
    seen: list[dict[str, Any]] = []

    class Api(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            seen.append(body)
            message = {
                "id": "msg_loopback",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "claude"),
                "content": [],
                "stop_reason": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
            events = [
                {"type": "message_start", "message": message},
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "LOOPBACK"},
                },
                {"type": "content_block_stop", "index": 0},
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": 1},
                },
                {"type": "message_stop"},
            ]
            data = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
            payload = data.encode() if body.get("stream") else json.dumps(message).encode()
            self.send_response(200)
            kind = "text/event-stream" if body.get("stream") else "application/json"
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    project = tmp_path / "project"
    project.mkdir()
    config = tmp_path / "config"
    session = new_session_uuid()
    write_transcript(
        to_transcript(foreign_entries()[:9], session, str(project)),
        transcript_path(project, session, config),
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(config),
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{server.server_port}",
        "ANTHROPIC_API_KEY": "sk-ant-api03-loopback",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    try:
        proc = subprocess.run(
            [str(CLAUDE_BIN), "-p", "and now?", "--resume", session, "--output-format", "json"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "LOOPBACK"
    messages = next(b for b in seen if "messages" in b)["messages"]
    flat = json.dumps(messages)
    for expected in ("fix it", "Looking.", "call_1_a", "call_2", "Done!", "and now?"):
        assert expected in flat
