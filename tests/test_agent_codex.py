"""Codex CLI rollouts: the corpus, synthetic edge cases, errors, and writing rollouts back."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import queue
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import FormatError
from gitsess.agents.codex import (
    FORMAT,
    new_session_uuid,
    rollout_path,
    sessions_dir,
    to_rollout,
    write_rollout,
)
from gitsess.model import normalize_entry

from .conftest import CORPUS, session_ids

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CORPUS_FILES = sorted((CORPUS / "codex").glob("rollout-*.jsonl"))
SESSION = "019e1625-789d-76c0-80ab-0123456789ab"
INJECTED_PREFIXES = ("<environment_context>", "# AGENTS.md instructions", "<user_instructions>")


@pytest.fixture(params=CORPUS_FILES or [None], ids=lambda p: p.name if p else "none")
def corpus(request: pytest.FixtureRequest) -> Path:
    if request.param is None:
        pytest.skip("no Codex corpus")
    path: Path = request.param
    return path


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def items(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        r["payload"]
        for r in records
        if r["type"] == "response_item" and r["payload"]["type"] == kind
    ]


def events(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        r["payload"] for r in records if r["type"] == "event_msg" and r["payload"]["type"] == kind
    ]


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(
        part["text"]
        for part in content
        if part.get("type") in ("text", "input_text", "output_text")
    )


def is_injected(payload: dict[str, Any]) -> bool:
    if payload["role"] not in ("user", "assistant"):
        return True
    texts = [p.get("text", "").lstrip() for p in payload["content"]]
    return payload["role"] == "user" and any(t.startswith(INJECTED_PREFIXES) for t in texts)


def of_type(entries: list[dict[str, Any]], kind: str, **fields: Any) -> list[dict[str, Any]]:
    return [
        e for e in entries if e["type"] == kind and all(e.get(k) == v for k, v in fields.items())
    ]


def conversation_key(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a round trip must keep: messages, reasoning, tool calls and results, summaries."""
    keys: list[tuple[Any, ...]] = []
    for e in entries:
        kind = e["type"]
        if kind == "message":
            keys.append((kind, e["role"], json.dumps(e["content"])))
        elif kind == "reasoning":
            keys.append((kind, e["content"], e.get("meta", {}).get("encrypted_content")))
        elif kind == "tool_call":
            keys.append((kind, e["name"], json.dumps(e["input"]), e["call_id"]))
        elif kind == "tool_result":
            keys.append((kind, e["call_id"], json.dumps(e["output"]), e["is_error"]))
        elif kind == "summary":
            keys.append((kind, json.dumps(e["content"])))
    return keys


def line(kind: str, payload: dict[str, Any], ts: str = "2026-05-11T08:00:00.000Z") -> str:
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload})


def item(**payload: Any) -> tuple[str, dict[str, Any]]:
    return ("response_item", payload)


def event(**payload: Any) -> tuple[str, dict[str, Any]]:
    return ("event_msg", payload)


def user(text: str) -> tuple[str, dict[str, Any]]:
    return item(type="message", role="user", content=[{"type": "input_text", "text": text}])


def assistant(text: str, phase: str = "final_answer") -> tuple[str, dict[str, Any]]:
    return item(
        type="message",
        role="assistant",
        content=[{"type": "output_text", "text": text}],
        phase=phase,
    )


def meta_line(session: str = SESSION) -> tuple[str, dict[str, Any]]:
    return (
        "session_meta",
        {
            "id": session,
            "timestamp": "2026-05-11T08:00:00.000Z",
            "cwd": "/work/app",
            "originator": "codex-tui",
            "cli_version": "0.125.0",
            "source": "cli",
            "model_provider": "openai",
            "base_instructions": {"text": "You are Codex."},
        },
    )


def rollout(tmp_path: Path, *records: tuple[str, dict[str, Any]], name: str = "") -> Path:
    path = tmp_path / (name or f"rollout-2026-05-11T11-00-00-{SESSION}.jsonl")
    path.write_text("".join(line(kind, payload) + "\n" for kind, payload in records))
    return path


# -- the corpus --------------------------------------------------------------------------


def test_corpus_entries_are_valid_unique_and_sourced(corpus: Path) -> None:
    entries = FORMAT.parse(corpus).entries
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert ID_RE.match(entry["id"]), entry["id"]
        assert normalize_entry(entry) == entry
        assert entry["ts"].endswith("Z")
        assert entry["source"]["format"] == "codex"


def test_corpus_every_message_once_from_either_stream(corpus: Path) -> None:
    records = records_of(corpus)
    entries = FORMAT.parse(corpus).entries
    # Every prompt the user typed, in order, as the only user messages.
    prompts = [e["message"] for e in events(records, "user_message")]
    assert prompts
    assert [text_of(e["content"]) for e in of_type(entries, "message", role="user")] == prompts
    # Every text in the model's stream, each exactly as often as in the file.
    expected = Counter(
        ("system" if is_injected(p) else p["role"], text_of(p["content"]))
        for p in items(records, "message")
    )
    got = Counter(
        (e["role"], text_of(e["content"]))
        for e in of_type(entries, "message")
        if e.get("meta", {}).get("kind") != "base_instructions"
    )
    assert got == expected
    # Every assistant text of the UI stream is one of them.
    answers = Counter(text_of(e["content"]) for e in of_type(entries, "message", role="assistant"))
    assert answers == Counter(e["message"] for e in events(records, "agent_message"))


def test_corpus_injected_context_is_not_a_prompt(corpus: Path) -> None:
    records = records_of(corpus)
    entries = FORMAT.parse(corpus).entries
    system = of_type(entries, "message", role="system")
    assert len(system) == 1 + sum(is_injected(p) for p in items(records, "message"))
    assert all(e["meta"]["injected"] is True for e in system)
    roles = {e["meta"]["native_role"] for e in system}
    assert roles >= {"developer", "system"}  # developer messages, base instructions
    for entry in of_type(entries, "message", role="user"):
        assert not text_of(entry["content"]).lstrip().startswith(INJECTED_PREFIXES)
    base = [e for e in system if e["meta"].get("kind") == "base_instructions"]
    meta = next(r["payload"] for r in records if r["type"] == "session_meta")
    assert [e["content"] for e in base] == [meta["base_instructions"]["text"]]


def test_corpus_tool_calls_paired_with_results(corpus: Path) -> None:
    records = records_of(corpus)
    entries = FORMAT.parse(corpus).entries
    native = [
        r["payload"]
        for r in records
        if r["type"] == "response_item"
        and r["payload"]["type"] in ("function_call", "custom_tool_call")
    ]
    assert native
    calls = [
        e for e in of_type(entries, "tool_call") if e["meta"]["item_type"] != "web_search_call"
    ]
    assert [(c["call_id"], c["name"]) for c in calls] == [(p["call_id"], p["name"]) for p in native]
    for call, payload in zip(calls, native, strict=True):
        if payload["type"] == "function_call":
            assert call["input"] == json.loads(payload["arguments"])
        else:
            assert call["input"] == payload["input"]
    outputs = [
        r["payload"]
        for r in records
        if r["type"] == "response_item"
        and r["payload"]["type"] in ("function_call_output", "custom_tool_call_output")
    ]
    results = of_type(entries, "tool_result")
    assert [(r["call_id"], r["output"]) for r in results] == [
        (p["call_id"], p["output"]) for p in outputs
    ]
    position = {e["id"]: i for i, e in enumerate(entries)}
    call_at = {c["call_id"]: position[c["id"]] for c in calls}
    for result in results:
        assert call_at[result["call_id"]] < position[result["id"]]
    # Web searches: a call each, whose id is the one of its `web_search_end` event.
    searches = of_type(entries, "tool_call", name="web_search")
    assert len(searches) == len(items(records, "web_search_call"))
    assert [s["call_id"] for s in searches] == [
        e["call_id"] for e in events(records, "web_search_end")
    ]
    # A failed command is an error, a running or successful one is not.
    for result in results:
        output = result["output"]
        if "Process exited with code 0" in output or "Process running with" in output:
            assert result["is_error"] is False
        elif re.search(r"Process exited with code [1-9]", output):
            assert result["is_error"] is True


def test_corpus_reasoning_compaction_events_and_context(corpus: Path) -> None:
    records = records_of(corpus)
    conversation = FORMAT.parse(corpus)
    entries = conversation.entries
    reasoning = items(records, "reasoning")
    assert [e["meta"]["encrypted_content"] for e in of_type(entries, "reasoning")] == [
        p["encrypted_content"] for p in reasoning
    ]
    compactions = [r["payload"] for r in records if r["type"] == "compacted"]
    summaries = of_type(entries, "summary")
    assert [s["content"] for s in summaries] == [c["message"] for c in compactions]
    kept = {"token_count", "task_started", "task_complete", "exec_command_end", "patch_apply_end"}
    for kind in kept & {r["payload"]["type"] for r in records if r["type"] == "event_msg"}:
        assert len(of_type(entries, "event", name=kind)) == len(events(records, kind))
    contexts = [r["payload"] for r in records if r["type"] == "turn_context"]
    assert [e["data"] for e in of_type(entries, "event", name="turn_context")] == contexts
    models = {c["model"] for c in contexts}
    for entry in entries:
        if entry["type"] in ("tool_call", "reasoning") or entry.get("role") == "assistant":
            assert entry["model"] in models
    meta = next(r["payload"] for r in records if r["type"] == "session_meta")
    assert conversation.native_id == meta["id"]
    assert conversation.cwd == meta["cwd"]
    assert conversation.meta["cli_version"] == meta["cli_version"]
    assert conversation.meta["git"] == meta["git"]
    assert conversation.agent == "codex"


def test_corpus_parse_is_stable_as_the_file_grows(corpus: Path, tmp_path: Path) -> None:
    full = FORMAT.parse(corpus).entries
    assert FORMAT.parse(corpus).entries == full
    by_id = {e["id"]: e for e in full}
    lines = corpus.read_bytes().splitlines(keepends=True)
    grown = tmp_path / corpus.name
    for cut in sorted({1, 2, 5, 6, 7, 15, 16, 17, len(lines) - 1, *range(3, len(lines), 9)}):
        grown.write_bytes(b"".join(lines[:cut]))
        for entry in FORMAT.parse(grown).entries:
            assert entry["id"] in by_id, (cut, entry["id"])
            assert by_id[entry["id"]]["type"] == entry["type"]
    # A writer caught mid-line: the complete lines are read, the partial one waits.
    half = lines[20][: len(lines[20]) // 2]
    grown.write_bytes(b"".join(lines[:20]) + half)
    conversation = FORMAT.parse(grown)
    grown.write_bytes(b"".join(lines[:20]))
    assert conversation.entries == FORMAT.parse(grown).entries
    assert conversation.meta["partial_last_line"] == 21


def test_a_long_corpus_rollout_imports_whole(corpus: Path, tmp_path: Path) -> None:
    """A 3.5 MB rollout (the corpus one repeated) parses line by line into an entry for
    every record of every copy. Its cost against `json.loads` is a `make bench` figure,
    not timed here."""
    data = corpus.read_bytes()
    copies = max(1, 3_500_000 // len(data))
    big = tmp_path / corpus.name
    big.write_bytes(data * copies)

    entries = FORMAT.parse(big).entries
    assert len(entries) == copies * len(FORMAT.parse(corpus).entries)
    assert len({entry["id"] for entry in entries}) == len(entries)


def all_formats_present() -> bool:
    """Detection loads every format module; while one is missing, name the format instead."""
    from gitsess.agents import _MODULES

    return all(
        importlib.util.find_spec(f"gitsess.agents.{module}") is not None
        for module in _MODULES.values()
    )


def test_corpus_import_end_to_end(corpus: Path, gs: Any) -> None:
    detected = ["--format", "codex"] if not all_formats_present() else []
    result = gs("import", str(corpus), *detected, "--json")
    assert result.code == 0, result.err
    created = result.json()
    assert created["agent"] == "codex"
    assert created["source"]["format"] == "codex"
    assert created["source"]["id"] == FORMAT.parse(corpus).native_id
    prompts = events(records_of(corpus), "user_message")
    assert created["title"] == " ".join(prompts[0]["message"].split())
    shown = gs("show", created["id"], "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["entries"] == FORMAT.parse(corpus).entries


def test_sniff_claims_rollouts_only(corpus: Path) -> None:
    assert FORMAT.sniff(corpus, corpus.read_bytes()[: 64 * 1024])
    others = [p for p in CORPUS.rglob("*") if p.is_file() and "codex" not in p.parts]
    assert others
    for path in others:
        assert not FORMAT.sniff(path, path.read_bytes()[: 64 * 1024]), path
    assert not FORMAT.sniff(Path("x.jsonl"), b'{"gitsess": 1, "session": {}}\n')
    assert not FORMAT.sniff(Path("x.jsonl"), b"\x00\xff garbage")


# -- synthetic files -----------------------------------------------------------------------


def test_mirrors_fold_in_either_order_and_stand_alone(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta_line(),
        event(type="task_started", turn_id="t1"),
        event(type="user_message", message="first", images=[], local_images=[]),  # 3
        user("first"),  # 4
        assistant("answer one", "commentary"),  # 5
        event(type="agent_message", message="answer one", phase="commentary"),  # 6
        event(type="agent_message", message="only in the UI stream"),  # 7
        assistant("only in the model stream"),  # 8
        event(type="task_complete", turn_id="t1"),
        user("again"),  # 10
        event(type="user_message", message="again"),
        event(type="task_started", turn_id="t2"),
        user("again"),  # 13: a second, separate prompt with the same text
        event(type="user_message", message="again"),
    )
    messages = of_type(FORMAT.parse(path).entries, "message")
    got = [(m["id"].split(":", 1)[1], m["role"], m["content"]) for m in messages]
    assert got == [
        ("1:2", "system", "You are Codex."),
        ("3", "user", "first"),
        ("5", "assistant", "answer one"),
        ("7", "assistant", "only in the UI stream"),
        ("8", "assistant", "only in the model stream"),
        ("10", "user", "again"),
        ("13", "user", "again"),
    ]
    first = messages[1]
    assert first["meta"]["event"] == {"images": [], "local_images": []}
    assert first["meta"]["mirror_line"] == 4
    assert messages[2]["meta"]["phase"] == "commentary"
    assert messages[2]["meta"]["mirror_line"] == 6


def test_injected_user_context_is_system(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        item(type="message", role="developer", content=[{"type": "input_text", "text": "Rules"}]),
        user("<environment_context>\n  <cwd>/w</cwd>\n</environment_context>"),
        user("<user_instructions>\nBe nice\n</user_instructions>"),
        user("# AGENTS.md instructions for /w\n\n<INSTRUCTIONS>\nx\n</INSTRUCTIONS>"),
        user("<environment_context> is a tag I want to discuss"),
    )
    messages = of_type(FORMAT.parse(path).entries, "message")
    assert [(m["role"], m.get("meta", {}).get("native_role")) for m in messages] == [
        ("system", "developer"),
        ("system", "user"),
        ("system", "user"),
        ("system", "user"),
        ("user", None),
    ]


def test_user_message_with_an_image(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        item(
            type="message",
            role="user",
            content=[
                {"type": "input_text", "text": "<image name=[Image #1]>"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                {"type": "input_text", "text": "</image>"},
                {"type": "input_text", "text": "what is this?"},
            ],
        ),
        event(type="user_message", message="what is this?", local_images=["/tmp/a.png"]),
    )
    (message,) = of_type(FORMAT.parse(path).entries, "message")
    assert message["role"] == "user"
    assert message["content"][1] == {"type": "image", "url": "data:image/png;base64,AAAA"}
    assert message["content"][3] == {"type": "text", "text": "what is this?"}
    assert message["meta"]["event"] == {"local_images": ["/tmp/a.png"]}


def test_reasoning_summaries_and_their_mirrors(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        event(type="agent_reasoning", text="**Plan** part one"),  # 1
        event(type="agent_reasoning", text="part two"),  # 2
        item(
            type="reasoning",
            summary=[
                {"type": "summary_text", "text": "**Plan** part one"},
                {"type": "summary_text", "text": "part two"},
            ],
            content=None,
            encrypted_content="gAAAA1",
        ),
        item(
            type="reasoning",
            summary=[{"type": "summary_text", "text": "afterwards"}],
            content=[{"type": "reasoning_text", "text": "raw thoughts"}],
            encrypted_content="gAAAA2",
        ),  # 4
        event(type="agent_reasoning", text="afterwards"),
        event(type="agent_reasoning", text="a thought with no item"),  # 6
        item(type="reasoning", summary=[], content=None, encrypted_content="gAAAA3"),  # 7
    )
    reasoning = of_type(FORMAT.parse(path).entries, "reasoning")
    got = [
        (r["id"].split(":", 1)[1], r["content"], r["meta"].get("encrypted_content"))
        for r in reasoning
    ]
    assert got == [
        ("1", "**Plan** part one", "gAAAA1"),
        ("2", "part two", None),
        ("4", "afterwards\n\nraw thoughts", "gAAAA2"),
        ("6", "a thought with no item", None),
        ("7", "", "gAAAA3"),
    ]
    assert reasoning[1]["meta"]["summary_of"] == reasoning[0]["id"]
    assert len(reasoning[0]["meta"]["summary"]) == 2
    assert reasoning[2]["meta"]["reasoning_content"][0]["text"] == "raw thoughts"


def test_compaction_becomes_a_summary_of_its_span(tmp_path: Path) -> None:
    history = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]}
    ]
    path = rollout(
        tmp_path,
        meta_line(),
        user("a"),
        assistant("b"),
        ("compacted", {"message": "They talked about a and b.", "replacement_history": history}),
        event(type="context_compacted"),
        user("c"),
        ("compacted", {"message": "And then c."}),
        item(type="compaction", encrypted_content="gAAAA-remote"),
    )
    entries = FORMAT.parse(path).entries
    ids = [e["id"] for e in entries]
    first, second, remote = of_type(entries, "summary")
    assert first["content"] == "They talked about a and b."
    assert (first["first"], first["last"]) == (ids[0], ids[ids.index(first["id"]) - 1])
    assert first["meta"]["replacement_history"] == history
    assert (second["first"], second["last"]) == (ids[ids.index(first["id"]) + 1], ids[-3])
    assert of_type(entries, "event", name="context_compacted")
    assert remote["content"] == "" and "first" not in remote and "last" not in remote
    assert remote["meta"]["item"]["encrypted_content"] == "gAAAA-remote"


def test_turn_context_model_title_and_unknown_records(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta_line(),
        ("turn_context", {"cwd": "/work/app", "model": "gpt-5.5", "approval_policy": "never"}),
        assistant("one"),
        ("turn_context", {"cwd": "/work/app", "model": "gpt-5.4", "approval_policy": "never"}),
        assistant("two"),
        event(type="thread_name_updated", thread_id=SESSION, thread_name="Dark mode"),
        item(type="image_generation_call", id="ig_1", status="completed", result="AAAA"),
        ("world_state", {"agents_md": "x"}),
    )
    conversation = FORMAT.parse(path)
    entries = conversation.entries
    assert conversation.title == "Dark mode"
    assert [m["model"] for m in of_type(entries, "message", role="assistant")] == [
        "gpt-5.5",
        "gpt-5.4",
    ]
    (change,) = of_type(entries, "event", name="model_change")
    assert change["data"] == {"from": "gpt-5.5", "to": "gpt-5.4"}
    (image,) = of_type(entries, "event", name="image_generation_call")
    assert image["meta"]["record"] == "response_item" and image["data"]["result"] == "AAAA"
    (world,) = of_type(entries, "event", name="world_state")
    assert world["data"] == {"agents_md": "x"}


def test_tool_call_inputs_and_errors(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        item(type="function_call", name="shell", arguments="{not json", call_id="c1"),
        item(type="function_call_output", call_id="c1", output="Exit code: 1\nOutput:\nboom"),
        item(type="function_call", name="shell", arguments='{ "cmd" : "ls" }', call_id="c2"),
        event(type="exec_command_end", call_id="c2", exit_code=2),
        item(type="function_call_output", call_id="c2", output="no exit line here"),
        item(type="custom_tool_call", name="apply_patch", input="*** Begin Patch", call_id="c3"),
        item(
            type="custom_tool_call_output",
            call_id="c3",
            output='{"output":"ok","metadata":{"exit_code":0,"duration_seconds":0.1}}',
        ),
        item(type="function_call", name="mcp", arguments="{}", call_id="c4", namespace="srv"),
        item(type="function_call_output", call_id="c4", output="fine"),
        event(type="mcp_tool_call_end", call_id="c4", result={"Err": "down"}),
        event(type="patch_apply_end", call_id="c5", success=False),
        item(type="custom_tool_call_output", call_id="c5", output="patch rejected"),
        item(
            type="local_shell_call",
            call_id="c6",
            status="completed",
            action={"type": "exec", "command": ["ls"]},
        ),
        event(type="web_search_end", call_id="ws_1", query="q"),
        item(type="web_search_call", status="completed", action={"type": "search", "query": "q"}),
        item(type="web_search_call", status="completed", action={"type": "search", "query": "r"}),
    )
    entries = FORMAT.parse(path).entries
    calls = {c["call_id"]: c for c in of_type(entries, "tool_call")}
    assert calls["c1"]["input"] == "{not json" and calls["c1"]["meta"]["arguments_invalid"]
    assert calls["c2"]["input"] == {"cmd": "ls"}
    assert calls["c2"]["meta"]["arguments"] == '{ "cmd" : "ls" }'
    assert calls["c3"]["input"] == "*** Begin Patch"
    assert calls["c3"]["meta"]["item_type"] == "custom_tool_call"
    assert calls["c4"]["meta"]["namespace"] == "srv"
    assert calls["c6"]["name"] == "local_shell"
    assert calls["c6"]["input"] == {"type": "exec", "command": ["ls"]}
    assert calls["ws_1"]["name"] == "web_search"
    made_up = [c for c in calls.values() if c["meta"].get("call_id_made_up")]
    assert [c["input"]["query"] for c in made_up] == ["r"]
    errors = {r["call_id"]: r["is_error"] for r in of_type(entries, "tool_result")}
    assert errors == {"c1": True, "c2": True, "c3": False, "c4": True, "c5": True}


def test_ids_without_session_meta_come_from_the_file_name(tmp_path: Path) -> None:
    path = rollout(tmp_path, user("hi"), event(type="user_message", message="hi"))
    conversation = FORMAT.parse(path)
    assert [e["id"] for e in conversation.entries] == ["codex-0123456789ab:1"]
    assert conversation.native_id is None
    other = rollout(tmp_path, user("hi"), name="session.jsonl")
    assert [e["id"] for e in FORMAT.parse(other).entries] == ["codex:1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b"hello world\n", "line 1 is not JSON"),
        (b'{"timestamp":"2026-05-11T08:00:00Z","type":"event_msg","pay', "line 1 is truncated"),
        (b'{"type":"user","message":{"role":"user"}}\n', "line 1 is not a Codex rollout record"),
        (b'{"type":"response_item","payload":[1]}\n', "line 1: response_item payload"),
        (b'{"type":"widget","payload":{}}\n', "no Codex rollout records"),
        (b"[1, 2]\n", "line 1 is not a Codex rollout record"),
        (
            (line(*user("hi")) + "\nnot json\n" + line(*user("ho")) + "\n").encode(),
            "line 2 is not JSON",
        ),
        (
            (
                line("response_item", {"type": "message", "role": "user", "content": 5}) + "\n"
            ).encode(),
            "line 1: malformed response_item record",
        ),
        (
            (line("response_item", {"type": "function_call", "name": "x"}) + "\n").encode(),
            "line 1: malformed response_item record",
        ),
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
    result = gs("import", str(path), "--format", "codex", "--json")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and message in result.err
    assert session_ids(repo) == []


# -- writing rollouts back -------------------------------------------------------------


def test_sessions_dir_and_rollout_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_HOME", raising=False)
    assert sessions_dir() == Path.home() / ".codex" / "sessions"
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "ch"))
    assert sessions_dir() == tmp_path / "ch" / "sessions"
    assert sessions_dir(tmp_path / "other") == tmp_path / "other" / "sessions"
    session = new_session_uuid()
    path = rollout_path(datetime(2026, 5, 11, 11, 26, 55), session, tmp_path / "other")
    assert path == (
        tmp_path / "other/sessions/2026/05/11" / f"rollout-2026-05-11T11-26-55-{session}.jsonl"
    )
    assert rollout_path(datetime(2026, 1, 2, 3, 4, 5), session).parent == (
        tmp_path / "ch/sessions/2026/01/02"
    )


def test_new_session_uuid_is_a_uuid7() -> None:
    made = [uuid.UUID(new_session_uuid()) for _ in range(50)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in made)
    assert len(set(made)) == 50
    when = datetime(2026, 5, 11, 8, 0, 0).astimezone()
    assert new_session_uuid(when)[:8] == f"{int(when.timestamp() * 1000):012x}"[:8]


def written(tmp_path: Path, entries: list[dict[str, Any]], cwd: str = "/resume/here") -> Path:
    session = new_session_uuid()
    records = to_rollout(entries, session, cwd)
    path = rollout_path(datetime(2026, 5, 12, 9, 0, 0), session, tmp_path / "codex-home")
    return write_rollout(records, path)


def test_round_trip_of_the_corpus(corpus: Path, tmp_path: Path) -> None:
    original = FORMAT.parse(corpus)
    path = written(tmp_path, original.entries)
    again = FORMAT.parse(path)
    assert conversation_key(again.entries) == conversation_key(original.entries)
    assert [e["name"] for e in of_type(again.entries, "event")] == [
        e["name"] for e in of_type(original.entries, "event") if e["name"] != "model_change"
    ]
    records = records_of(path)
    assert records[0]["type"] == "session_meta"
    session = records[0]["payload"]
    assert session["id"] == again.native_id and path.name.endswith(f"{session['id']}.jsonl")
    assert session["cwd"] == again.cwd == "/resume/here"
    assert session["base_instructions"] == records_of(corpus)[0]["payload"]["base_instructions"]
    contexts = [r["payload"] for r in records if r["type"] == "turn_context"]
    assert contexts and all(c["cwd"] == "/resume/here" for c in contexts)
    assert len(records) == len(records_of(corpus))


def foreign_entries() -> list[dict[str, Any]]:
    source = {"format": "claude-code", "id": "x"}

    def entry(n: int, kind: str, **fields: Any) -> dict[str, Any]:
        return {"id": f"e{n}", "ts": f"2026-01-01T10:00:{n:02d}Z", "type": kind, **fields}

    return [
        entry(0, "event", name="created", data={}),
        entry(1, "message", role="user", content="Fix the bug", source=source),
        entry(2, "reasoning", content="Look at the file first.", source=source),
        entry(3, "message", role="assistant", content="Let me look.", model="m", source=source),
        entry(4, "tool_call", name="Bash", input={"command": "ls"}, call_id="t1", source=source),
        entry(5, "tool_result", call_id="t1", output="app.py", is_error=False, source=source),
        entry(6, "tool_call", name="Note", input="plain text", call_id="t2", source=source),
        entry(7, "tool_result", call_id="t2", output={"ok": True}, is_error=False, source=source),
        entry(8, "summary", content="Fixing a bug.", first="e1", last="e7", source=source),
        entry(9, "message", role="system", content="Be brief.", source=source),
        entry(10, "commit", sha="a" * 40, subject="Fix"),
        entry(11, "event", name="token_count", data={"n": 1}, source=source),
        entry(
            12,
            "message",
            role="user",
            content=[
                {"type": "text", "text": "and this"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "AA"},
                },
            ],
            source=source,
        ),
        entry(13, "message", role="assistant", content="Done.", source=source),
    ]


def test_to_rollout_of_another_agents_entries(tmp_path: Path) -> None:
    entries = foreign_entries()
    records = to_rollout(entries, SESSION, "/w")
    shape = [(r["type"], r["payload"].get("type"), r["payload"].get("role")) for r in records]
    assert shape == [
        ("session_meta", None, None),
        ("response_item", "message", "user"),
        ("event_msg", "user_message", None),
        ("event_msg", "agent_reasoning", None),  # no reasoning item: the API would refuse it
        ("event_msg", "agent_message", None),
        ("response_item", "message", "assistant"),
        ("response_item", "function_call", None),
        ("response_item", "function_call_output", None),
        ("response_item", "function_call", None),
        ("response_item", "function_call_output", None),
        ("compacted", None, None),
        ("response_item", "message", "developer"),
        ("response_item", "message", "user"),
        ("event_msg", "user_message", None),
        ("event_msg", "agent_message", None),
        ("response_item", "message", "assistant"),
    ]
    session = records[0]["payload"]
    assert (session["id"], session["cwd"], session["source"]) == (SESSION, "/w", "cli")
    assert "base_instructions" not in session
    calls = [r["payload"] for r in records if r["payload"].get("type") == "function_call"]
    assert [c["arguments"] for c in calls] == ['{"command": "ls"}', '"plain text"']
    outputs = [
        r["payload"]["output"]
        for r in records
        if r["payload"].get("type") == "function_call_output"
    ]
    assert outputs == ["app.py", '{"ok": true}']
    image = records[12]["payload"]["content"][1]
    assert image == {"type": "input_image", "image_url": "data:image/png;base64,AA"}
    assert records[13]["payload"]["images"] == ["data:image/png;base64,AA"]
    assert records[10]["payload"] == {"message": "Fixing a bug."}
    # Read back: the same conversation, but for what a rollout says another way: an image
    # given by its data (now a data URL) and an output that is not text (now JSON text).
    again = FORMAT.parse(write_rollout(records, tmp_path / f"rollout-x-{SESSION}.jsonl")).entries
    said = copy.deepcopy(entries)
    said[12]["content"][1] = {"type": "image", "url": "data:image/png;base64,AA"}
    said[7]["output"] = '{"ok": true}'
    assert conversation_key(again) == conversation_key(said)


def test_to_rollout_keeps_codex_reasoning_and_its_mirrors(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta_line(),
        event(type="task_started", turn_id="t1"),
        user("go"),
        event(type="user_message", message="go"),
        event(type="agent_reasoning", text="one"),
        event(type="agent_reasoning", text="two"),
        item(
            type="reasoning",
            summary=[
                {"type": "summary_text", "text": "one"},
                {"type": "summary_text", "text": "two"},
            ],
            content=None,
            encrypted_content="gAAAA1",
        ),
        item(type="reasoning", summary=[], content=None, encrypted_content="gAAAA2"),
        event(type="agent_reasoning", text="loose"),
        assistant("done"),
        event(type="agent_message", message="done", phase="final_answer"),
        ("compacted", {"message": "sum", "replacement_history": []}),
        event(type="task_complete", turn_id="t1"),
    )
    entries = FORMAT.parse(path).entries
    again = FORMAT.parse(written(tmp_path, entries)).entries
    assert conversation_key(again) == conversation_key(entries)
    reasoning = [
        (r["content"], r["meta"].get("summary_of") is not None) for r in of_type(again, "reasoning")
    ]
    assert reasoning == [("one", False), ("two", True), ("", False), ("loose", False)]
    (summary,) = of_type(again, "summary")
    assert summary["meta"]["replacement_history"] == []


def test_to_rollout_is_listed_by_codex(tmp_path: Path) -> None:
    """What Codex's resume picker needs: session_meta first, a user_message early on."""
    records = to_rollout(foreign_entries(), SESSION, "/w")
    assert records[0]["type"] == "session_meta"
    assert any(r["payload"].get("type") == "user_message" for r in records[:210])
    for record in records:
        assert list(record) == ["timestamp", "type", "payload"]
        assert normalize_ts_ok(record["timestamp"])
        json.dumps(record)


def normalize_ts_ok(value: str) -> bool:
    from gitsess.ids import normalize_ts

    return normalize_ts(value) is not None


CODEX_BIN = os.environ.get("GITSESS_TEST_CODEX")


@pytest.mark.skipif(not CODEX_BIN, reason="set GITSESS_TEST_CODEX to a codex binary to run")
def test_codex_itself_reads_what_to_rollout_writes(tmp_path: Path) -> None:
    """Codex's app server loads the written rollout (offline: no model call is made)."""
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model_provider = "loopback"\n'
        "[model_providers.loopback]\n"
        'name = "loopback"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n'
        "[features]\nplugins = false\napps = false\ngeneral_analytics = false\n"
    )
    session = new_session_uuid()
    path = rollout_path(datetime.now(), session, home)
    write_rollout(to_rollout(foreign_entries(), session, str(tmp_path)), path)
    env = dict(os.environ, CODEX_HOME=str(home), RUST_LOG="error")
    proc = subprocess.Popen(
        [str(CODEX_BIN), "app-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    answers: queue.Queue[dict[str, Any]] = queue.Queue()

    def read_answers() -> None:  # a thread: select() cannot see what readline() buffered
        assert proc.stdout is not None
        for text in proc.stdout:
            answers.put(json.loads(text))

    threading.Thread(target=read_answers, daemon=True).start()

    def send(message: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    def call(number: int, method: str, params: dict[str, Any]) -> Any:
        send({"id": number, "method": method, "params": params})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                message = answers.get(timeout=1)
            except queue.Empty:
                continue
            if message.get("id") == number:
                return message
        raise AssertionError(f"no answer to {method}")

    try:
        call(1, "initialize", {"clientInfo": {"name": "gitsess-test", "version": "0"}})
        send({"method": "initialized"})
        read = call(2, "thread/read", {"threadId": session, "includeTurns": True})["result"]
        resumed = call(3, "thread/resume", {"threadId": session})
    finally:
        proc.terminate()
        proc.wait(10)
    turns = read["thread"]["turns"]
    said = [i for t in turns for i in t["items"] if i["type"] in ("userMessage", "agentMessage")]
    assert [i["type"] for i in said] == [
        "userMessage",
        "agentMessage",
        "userMessage",
        "agentMessage",
    ]
    assert said[-1]["text"] == "Done."
    assert "result" in resumed, resumed
