"""Gemini CLI chats: the legacy JSON corpus file and synthetic JSONL logs (rewinds, $set)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import FormatError, detect
from gitsess.agents.gemini import FORMAT
from gitsess.model import normalize_entry

from .conftest import CORPUS, session_ids

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
OTHER_CORPUS = ("claude-code", "codex", "kimi")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("corpus not present")
    files = sorted((CORPUS / "gemini").glob("session-*.json"))
    if not files:
        pytest.skip("no Gemini corpus files")
    return files


def check_entries(entries: list[dict[str, Any]]) -> None:
    """Ids unique and valid, every entry valid as it is, no text twice."""
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    texts = []
    for entry in entries:
        assert ID_RE.match(entry["id"])
        assert normalize_entry(entry) == entry
        assert entry["source"]["format"] == "gemini"
        if entry["type"] in ("message", "reasoning") and entry["content"]:
            texts.append((entry["type"], json.dumps(entry["content"])))
    assert len(texts) == len(set(texts))


def check_pairs(entries: list[dict[str, Any]]) -> None:
    calls = [e for e in entries if e["type"] == "tool_call"]
    results = [e for e in entries if e["type"] == "tool_result"]
    assert len({c["call_id"] for c in calls}) == len(calls)
    position = {e["id"]: i for i, e in enumerate(entries)}
    by_call = {c["call_id"]: c for c in calls}
    for result in results:
        assert position[result["id"]] > position[by_call[result["call_id"]]["id"]]


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    return "".join(p if isinstance(p, str) else p.get("text", "") for p in content)


# -- the corpus ----------------------------------------------------------------


def test_corpus_fidelity() -> None:
    for path in corpus_files():
        raw = json.loads(path.read_text())
        conversation = FORMAT.parse(path)
        entries = conversation.entries
        check_entries(entries)
        check_pairs(entries)
        assert conversation.native_id == raw["sessionId"]
        assert conversation.meta["projectHash"] == raw["projectHash"]
        by_id = {e["id"]: e for e in entries}
        users = [m for m in raw["messages"] if m["type"] == "user"]
        assert users
        for message in users:
            entry = by_id[message["id"]]
            assert (entry["role"], entry["content"]) == ("user", text_of(message["content"]))
        replies = [m for m in raw["messages"] if m["type"] == "gemini"]
        for message in replies:
            if text_of(message["content"]):
                entry = by_id[message["id"]]
                assert entry["role"] == "assistant"
                assert entry["content"] == text_of(message["content"])
                assert entry["model"] == message["model"]
                assert entry["meta"]["tokens"] == message["tokens"]
        thoughts = [t for m in replies for t in m.get("thoughts") or []]
        reasoning = [e for e in entries if e["type"] == "reasoning"]
        assert [r["content"] for r in reasoning] == [t["description"] for t in thoughts]
        assert [r["meta"]["subject"] for r in reasoning] == [t["subject"] for t in thoughts]
        calls = [c for m in replies for c in m.get("toolCalls") or []]
        assert calls
        call_entries = {e["call_id"]: e for e in entries if e["type"] == "tool_call"}
        result_entries = {e["call_id"]: e for e in entries if e["type"] == "tool_result"}
        assert set(call_entries) == {c["id"] for c in calls}
        assert set(result_entries) == {c["id"] for c in calls}
        for call in calls:
            assert call_entries[call["id"]]["name"] == call["name"]
            assert call_entries[call["id"]]["input"] == call["args"]
            result = result_entries[call["id"]]
            assert result["is_error"] is (call["status"] != "success")
            response = call["result"][0]["functionResponse"]["response"]
            assert result["output"] == response.get("output", response)
        # Everything in the file is somewhere in the entries.
        assert len(entries) == len(users) + sum(
            bool(text_of(m["content"]))
            + len(m.get("thoughts") or [])
            + 2 * len(m.get("toolCalls") or [])
            for m in replies
        )
        assert FORMAT.parse(path).entries == entries


def test_corpus_legacy_file_rewritten_longer_keeps_ids(tmp_path: Path) -> None:
    for path in corpus_files():
        raw = json.loads(path.read_text())
        full = [e["id"] for e in FORMAT.parse(path).entries]
        for keep in range(1, len(raw["messages"])):
            shorter = tmp_path / path.name
            shorter.write_text(json.dumps({**raw, "messages": raw["messages"][:keep]}, indent=2))
            ids = [e["id"] for e in FORMAT.parse(shorter).entries]
            assert ids == full[: len(ids)]


def test_sniff_claims_gemini_and_nothing_else() -> None:
    for path in corpus_files():
        assert FORMAT.sniff(path, path.read_bytes()[:65536])
    for folder in OTHER_CORPUS:
        for other in (CORPUS / folder).rglob("*"):
            if other.is_file():
                assert not FORMAT.sniff(other, other.read_bytes()[:65536]), other
    assert not FORMAT.sniff(Path("x.jsonl"), b'{"gitsess": 1, "session": {"sessionId": "x"}}\n')


def test_detected_among_all_formats(tmp_path: Path) -> None:
    paths = [*corpus_files(), write_jsonl(tmp_path / "session-x.jsonl", chat_records())]
    for path in paths:
        try:
            assert detect(path).name == "gemini"
        except ModuleNotFoundError as exc:  # another format's module is not written yet
            pytest.skip(str(exc))


def test_import_end_to_end(repo: Path, gs) -> None:
    path = corpus_files()[0]
    result = gs("import", str(path), "--format", "gemini", "--no-checkout", "--json")
    assert result.code == 0, result.err
    session = result.json()
    shown = gs("show", session["id"], "--json").json()
    assert shown["entries"] == [normalize_entry(e) for e in FORMAT.parse(path).entries]
    assert shown["session"]["title"] == "hi"
    assert shown["session"]["source"]["id"] == json.loads(path.read_text())["sessionId"]


# -- the JSONL chat ----------------------------------------------------------------

SID = "7c1d2e3f-0a1b-4c2d-9e8f-112233445566"


def user(mid: str, ts: str, text: str) -> dict[str, Any]:
    return {"id": mid, "timestamp": ts, "type": "user", "content": [{"text": text}]}


def reply(mid: str, ts: str, text: str, **more: Any) -> dict[str, Any]:
    return {"id": mid, "timestamp": ts, "type": "gemini", "content": text, **more}


def call(
    cid: str, name: str, args: dict[str, Any], output: str | None, status: str
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": cid,
        "name": name,
        "args": args,
        "status": status,
        "timestamp": "2026-03-02T10:00:05.000Z",
        "displayName": name,
        "description": "",
        "renderOutputAsMarkdown": False,
    }
    if output is not None:
        response = {"id": cid, "name": name, "response": {"output": output}}
        record["result"] = [{"functionResponse": response}]
        record["resultDisplay"] = output[:20]
    return record


THOUGHT = {
    "subject": "Reading",
    "description": "Look at the file.",
    "timestamp": "2026-03-02T10:00:03.000Z",
}
TOKENS = {"input": 100, "output": 10, "cached": 0, "thoughts": 5, "tool": 0, "total": 115}
LS = ("list_directory-1772445605000-a1b2c3", "list_directory", {"dir_path": "/w"})


def chat_records() -> list[dict[str, Any]]:
    """A realistic session: tool calls re-appended as they finish, a summary, a rewind."""
    pending = call(*LS, None, "executing")
    done = call(*LS, "a.txt\nb.txt", "success")
    meta = {
        "sessionId": SID,
        "projectHash": "ab" * 32,
        "startTime": "2026-03-02T10:00:00.000Z",
        "lastUpdated": "2026-03-02T10:00:00.000Z",
        "kind": "main",
    }
    return [
        meta,
        user("u1", "2026-03-02T10:00:01.000Z", "What is in /w?"),
        {"$set": {"lastUpdated": "2026-03-02T10:00:01.000Z"}},
        reply(
            "g1",
            "2026-03-02T10:00:04.000Z",
            "",
            toolCalls=[pending],
            thoughts=[THOUGHT],
            model="gemini-2.5-pro",
        ),
        reply(
            "g1",
            "2026-03-02T10:00:04.000Z",
            "",
            toolCalls=[done],
            thoughts=[THOUGHT],
            model="gemini-2.5-pro",
        ),
        reply(
            "g1",
            "2026-03-02T10:00:04.000Z",
            "",
            toolCalls=[done],
            thoughts=[THOUGHT],
            model="gemini-2.5-pro",
            tokens=TOKENS,
        ),
        reply(
            "g2",
            "2026-03-02T10:00:06.000Z",
            "Two files: a.txt and b.txt.",
            thoughts=[],
            model="gemini-2.5-pro",
            tokens=TOKENS,
        ),
        {"$set": {"summary": "List the files in /w"}},
        user("u2", "2026-03-02T10:01:00.000Z", "Delete them"),
        reply(
            "g3", "2026-03-02T10:01:02.000Z", "Deleting both.", thoughts=[], model="gemini-2.5-pro"
        ),
        {"$rewindTo": "u2"},
        user("u3", "2026-03-02T10:02:00.000Z", "Actually, just count them"),
        reply(
            "g4", "2026-03-02T10:02:02.000Z", "There are 2.", thoughts=[], model="gemini-2.5-flash"
        ),
        {
            "id": "i1",
            "timestamp": "2026-03-02T10:02:03.000Z",
            "type": "info",
            "content": "Switched model.",
        },
        {
            "id": "e1",
            "timestamp": "2026-03-02T10:02:04.000Z",
            "type": "error",
            "content": "[API Error: quota]",
        },
        {"$set": {"lastUpdated": "2026-03-02T10:02:04.000Z", "directories": ["/w", "/x"]}},
    ]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_jsonl_chat(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "session-2026-03-02T10-00-7c1d2e3f.jsonl", chat_records())
    assert FORMAT.sniff(path, path.read_bytes())
    conversation = FORMAT.parse(path)
    entries = conversation.entries
    check_entries(entries)
    check_pairs(entries)
    assert conversation.native_id == SID
    assert conversation.title == "List the files in /w"
    assert conversation.meta["directories"] == ["/w", "/x"]
    assert conversation.meta["layout"] == "jsonl"
    summary = [(e["id"], e["type"], e.get("role") or e.get("name")) for e in entries]
    assert summary == [
        ("u1", "message", "user"),
        ("g1:1", "reasoning", None),
        (LS[0], "tool_call", LS[1]),
        (LS[0] + ":1", "tool_result", None),
        ("g2", "message", "assistant"),
        ("u2", "message", "user"),
        ("g3", "message", "assistant"),
        ("u3", "message", "user"),
        ("g4", "message", "assistant"),
        ("i1", "event", "info"),
        ("e1", "event", "error"),
    ]
    by_id = {e["id"]: e for e in entries}
    assert by_id["u1"]["content"] == "What is in /w?"
    assert by_id[LS[0] + ":1"]["output"] == "a.txt\nb.txt"
    assert by_id[LS[0] + ":1"]["is_error"] is False
    assert by_id[LS[0] + ":1"]["meta"] == {"status": "success", "resultDisplay": "a.txt\nb.txt"}
    assert by_id[LS[0]]["meta"]["displayName"] == LS[1]
    assert by_id["g1:1"]["meta"]["tokens"] == TOKENS  # no text: tokens go to the first entry
    assert by_id["g4"]["model"] == "gemini-2.5-flash"
    assert by_id["e1"]["data"] == {"content": "[API Error: quota]"}
    # The rewound exchange is kept, flagged; the rest is active.
    assert [e["id"] for e in entries if e.get("meta", {}).get("inactive")] == ["u2", "g3"]


def test_jsonl_every_prefix_keeps_ids(tmp_path: Path) -> None:
    records = chat_records()
    path = tmp_path / "session.jsonl"
    final = FORMAT.parse(write_jsonl(path, records)).entries
    final_ids = {e["id"]: e["type"] for e in final}
    for n in range(1, len(records)):
        entries = FORMAT.parse(write_jsonl(path, records[:n])).entries
        for entry in entries:
            assert final_ids.get(entry["id"]) == entry["type"], (n, entry["id"])


def test_jsonl_pending_call_has_no_result_yet(tmp_path: Path) -> None:
    records = chat_records()[:4]
    entries = FORMAT.parse(write_jsonl(tmp_path / "s.jsonl", records)).entries
    calls = [e for e in entries if e["type"] == "tool_call"]
    assert calls and calls[0]["meta"]["status"] == "executing"
    assert not [e for e in entries if e["type"] == "tool_result"]


def test_jsonl_rewind_to_unknown_id_abandons_everything(tmp_path: Path) -> None:
    records = [
        *chat_records()[:7],
        {"$rewindTo": "nope"},
        user("u9", "2026-03-02T11:00:00Z", "again"),
    ]
    entries = FORMAT.parse(write_jsonl(tmp_path / "s.jsonl", records)).entries
    active = [e["id"] for e in entries if not e.get("meta", {}).get("inactive")]
    assert active == ["u9"]


def test_jsonl_message_id_reused_after_rewind(tmp_path: Path) -> None:
    records = [
        chat_records()[0],
        user("u1", "2026-03-02T10:00:01Z", "first"),
        {"$rewindTo": "u1"},
        user("u1", "2026-03-02T10:00:09Z", "second"),
    ]
    entries = FORMAT.parse(write_jsonl(tmp_path / "s.jsonl", records)).entries
    assert [(e["id"], e["content"], e.get("meta")) for e in entries] == [
        ("u1", "first", {"inactive": True}),
        ("u1:r1", "second", None),
    ]


def test_jsonl_history_snapshot_adds_only_new_messages(tmp_path: Path) -> None:
    records = chat_records()[:7]
    snapshot = [
        {
            "id": "c1",
            "timestamp": "2026-03-02T10:05:00Z",
            "type": "user",
            "content": [{"text": "<state_snapshot>files</state_snapshot>"}],
        },
        user("u1", "2026-03-02T10:00:01Z", "masked"),
        {
            "id": "c2",
            "timestamp": "2026-03-02T10:05:00Z",
            "type": "user",
            "content": [{"functionResponse": {"id": LS[0], "name": LS[1], "response": {}}}],
        },
    ]
    records.append({"$set": {"messages": snapshot, "lastUpdated": "2026-03-02T10:05:00Z"}})
    entries = FORMAT.parse(write_jsonl(tmp_path / "s.jsonl", records)).entries
    check_entries(entries)
    by_id = {e["id"]: e for e in entries}
    assert by_id["u1"]["content"] == "What is in /w?"
    assert by_id["c1"]["meta"] == {"synthetic": True}
    assert "c2" not in by_id  # only a result already imported from the tool call


def test_jsonl_parts_and_odd_records(tmp_path: Path) -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    records = [
        chat_records()[0],
        {
            "id": "u1",
            "timestamp": "2026-03-02T10:00:01Z",
            "type": "user",
            "content": [{"text": "see"}, image],
            "displayContent": [{"text": "see @shot.png"}],
        },
        {"id": "w1", "type": "warning", "content": "slow"},
        {"something": "new"},
        reply(
            "g1",
            "2026-03-02T10:00:02Z",
            "",
            toolCalls=[
                {
                    **call("c-9", "shell", {"command": "false"}, None, "error"),
                    "result": [
                        {
                            "functionResponse": {
                                "id": "c-9",
                                "name": "shell",
                                "response": {"error": "exit 1"},
                            }
                        }
                    ],
                }
            ],
        ),
        reply("x" * 80, "2026-03-02T10:00:03Z", "long id"),
    ]
    entries = FORMAT.parse(write_jsonl(tmp_path / "s.jsonl", records)).entries
    check_entries(entries)
    first = entries[0]
    assert first["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image", "media_type": "image/png", "data": "iVBORw0KGgo="},
    ]
    assert first["meta"] == {"displayContent": [{"text": "see @shot.png"}]}
    assert entries[1]["ts"] == first["ts"]  # no timestamp: the previous record's
    assert (entries[1]["name"], entries[2]["name"]) == ("warning", "record")
    assert entries[2]["data"] == {"record": {"something": "new"}}
    failed = [e for e in entries if e["type"] == "tool_result"]
    assert failed[0]["output"] == "exit 1" and failed[0]["is_error"] is True
    assert entries[-1]["source"]["id"] == "x" * 80 and len(entries[-1]["id"]) <= 64


def test_jsonl_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", chat_records()[:3])
    whole = FORMAT.parse(path).entries
    with path.open("a") as handle:
        handle.write(json.dumps(user("u2", "2026-03-02T10:01:00Z", "cut"))[:30])
    assert FORMAT.parse(path).entries == whole
    with path.open("a") as handle:
        handle.write("\n")  # the broken line is now complete: an error
    with pytest.raises(FormatError, match="line 4"):
        FORMAT.parse(path)


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"\x00\x01garbage", "line 1"),
        (b'{"sessionId": "x", "projectHash": "y", "messages": [{"id": "a", "type": "us', "line 1"),
        (b'{"sessionId": "x", "projectHash": "y", "startTime"', "line 1"),
        (
            b'{"sessionId": "x", "projectHash": "y"}\n{"id": "u1", "type": "user"}\nnot json\n',
            "line 3",
        ),
        (b'{"sessionId": "x", "projectHash": "y"}\n[1, 2]\n', "line 2"),
        (b'{"sessionId": "x", "projectHash": "y"}\n{"id": "u1", "ty', "line 2"),
        (b'{"id": "u1", "type": "user", "content": "hi"}\n', "no Gemini"),
        (b'{"sessionId": "x", "messages": {"a": 1}}', "messages"),
    ],
)
def test_garbage_is_an_error_and_creates_nothing(
    repo: Path, gs, tmp_path: Path, content: bytes, where: str
) -> None:
    path = tmp_path / "session-x.json"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=where):
        FORMAT.parse(path)
    result = gs("import", str(path), "--format", "gemini")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and str(path) in result.err
    assert session_ids(repo) == []


def test_jsonl_import_end_to_end(repo: Path, gs, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "session-2026-03-02T10-00-7c1d2e3f.jsonl", chat_records())
    result = gs("import", str(path), "--format", "gemini", "--json")
    assert result.code == 0, result.err
    shown = gs("show", result.json()["id"], "--json").json()
    assert shown["entries"] == [normalize_entry(e) for e in FORMAT.parse(path).entries]
    assert shown["session"]["title"] == "List the files in /w"
