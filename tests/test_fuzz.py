"""Fuzzing: every importer, `record --jsonl`, `capture` and the merge, fed hostile input.

The contract (docs/format.md section 7): a clear error (exit 2, one line on stderr, nothing
written) or a correct result (the session reads back, every entry is a JSON
object with a unique valid id and an RFC 3339 `ts`, `git fsck --strict` is
clean). Never a Python exception escaping, never "internal error" (exit 1).

Transcripts are built two ways: (a) structurally valid records of each agent's
format (real corpus records when the corpus is there, else small built-in
samples) with hostile field values put at random places, and (b) the bytes of
such a transcript broken: truncated, invalid UTF-8, NUL bytes, garbage lines,
deeply nested JSON, lines run together. The parser API gets many examples; the
real CLI fewer. `GITSESS_SOAK=1` runs them all much longer.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gitsess import agents
from gitsess.__main__ import main
from gitsess.errors import BadInput
from gitsess.ids import ENTRY_ID_RE, normalize_ts
from gitsess.merge import canonical, merge_logs, merge_meta
from gitsess.model import normalize_entry
from gitsess.sessions import Sessions
from gitsess.storage.log import encode_json, parse_line

from .conftest import CORPUS, fsck, git, run_cli, soak

# -- seeds: what each format looks like ----------------------------------------------------


def _jsonl(*records: Any) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


_TS = "2026-11-25T10:00:00.000Z"
_SID = "5a3bb1c8-c3ce-466e-b487-24212cbf1da1"

BUILTIN: dict[str, list[tuple[str, bytes]]] = {
    "gitsess": [
        (
            "export.jsonl",
            _jsonl(
                {"gitsess": 1, "session": {"id": "k3f9x2abqz", "title": "T", "agent": None}},
                {"id": "u1", "ts": _TS, "type": "message", "role": "user", "content": "hi"},
                {"id": "a1", "ts": _TS, "type": "message", "role": "assistant", "content": "yo"},
                {
                    "id": "c1",
                    "ts": _TS,
                    "type": "tool_call",
                    "name": "Read",
                    "input": {},
                    "call_id": "k1",
                },
                {
                    "id": "r1",
                    "ts": _TS,
                    "type": "tool_result",
                    "call_id": "k1",
                    "output": "x",
                    "is_error": False,
                },
                {"id": "e1", "ts": _TS, "type": "event", "name": "x", "data": [1, {"a": None}]},
            ),
        )
    ],
    "claude-code": [
        (
            f"{_SID}.jsonl",
            _jsonl(
                {"type": "summary", "summary": "S", "leafUuid": "u2"},
                {
                    "parentUuid": None,
                    "isSidechain": False,
                    "cwd": "/w",
                    "sessionId": _SID,
                    "version": "2.1.4",
                    "type": "user",
                    "uuid": "u1",
                    "timestamp": _TS,
                    "message": {"role": "user", "content": "fix it"},
                },
                {
                    "parentUuid": "u1",
                    "isSidechain": False,
                    "cwd": "/w",
                    "sessionId": _SID,
                    "type": "assistant",
                    "uuid": "u2",
                    "timestamp": _TS,
                    "message": {
                        "id": "msg1",
                        "role": "assistant",
                        "model": "m",
                        "content": [
                            {"type": "thinking", "thinking": "hmm"},
                            {"type": "text", "text": "ok"},
                            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"c": "ls"}},
                        ],
                    },
                },
                {
                    "parentUuid": "u2",
                    "isSidechain": False,
                    "cwd": "/w",
                    "sessionId": _SID,
                    "type": "user",
                    "uuid": "u3",
                    "timestamp": _TS,
                    "message": {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a b"}],
                    },
                },
                {
                    "parentUuid": "u3",
                    "sessionId": _SID,
                    "type": "system",
                    "subtype": "compact_boundary",
                    "uuid": "u4",
                    "timestamp": _TS,
                },
            ),
        )
    ],
    "codex": [
        (
            "rollout-2026-11-25T10-00-00-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
            _jsonl(
                {
                    "timestamp": _TS,
                    "type": "session_meta",
                    "payload": {
                        "id": "019e1625-789d-76c0-80ab-3724b5ddb799",
                        "timestamp": _TS,
                        "cwd": "/w",
                        "originator": "codex-tui",
                        "cli_version": "0.125.0",
                    },
                },
                {
                    "timestamp": _TS,
                    "type": "turn_context",
                    "payload": {"model": "gpt", "cwd": "/w"},
                },
                {
                    "timestamp": _TS,
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "fix it"}],
                    },
                },
                {
                    "timestamp": _TS,
                    "type": "event_msg",
                    "payload": {"type": "user_message", "message": "fix it"},
                },
                {
                    "timestamp": _TS,
                    "type": "response_item",
                    "payload": {
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": "r"}],
                    },
                },
                {
                    "timestamp": _TS,
                    "type": "response_item",
                    "payload": {
                        "type": "function_call",
                        "name": "shell",
                        "arguments": '{"cmd": ["ls"]}',
                        "call_id": "call_1",
                    },
                },
                {
                    "timestamp": _TS,
                    "type": "response_item",
                    "payload": {
                        "type": "function_call_output",
                        "call_id": "call_1",
                        "output": "a b",
                    },
                },
                {
                    "timestamp": _TS,
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "done"}],
                    },
                },
            ),
        )
    ],
    "gemini": [
        (
            "session-2026-11-25T10-00-5b959dae.json",
            json.dumps(
                {
                    "sessionId": "5b959dae",
                    "projectHash": "ff",
                    "startTime": _TS,
                    "lastUpdated": _TS,
                    "messages": [
                        {"id": "m1", "timestamp": _TS, "type": "user", "content": "hi"},
                        {
                            "id": "m2",
                            "timestamp": _TS,
                            "type": "gemini",
                            "content": "yo",
                            "thoughts": [{"subject": "s", "description": "d", "timestamp": _TS}],
                            "toolCalls": [
                                {
                                    "id": "t1",
                                    "name": "ls",
                                    "args": {},
                                    "status": "success",
                                    "result": [{"functionResponse": {"response": {"output": "x"}}}],
                                    "timestamp": _TS,
                                }
                            ],
                            "tokens": {"input": 1},
                            "model": "g",
                        },
                        {"id": "m3", "timestamp": _TS, "type": "info", "content": "note"},
                    ],
                },
                indent=2,
            ).encode(),
        ),
        (
            "session-2026-11-25T10-00-5b959dae.jsonl",
            _jsonl(
                {
                    "sessionId": "5b959dae",
                    "projectHash": "ff",
                    "startTime": _TS,
                    "lastUpdated": _TS,
                    "kind": "main",
                },
                {"id": "m1", "timestamp": _TS, "type": "user", "content": [{"text": "hi"}]},
                {"id": "m2", "timestamp": _TS, "type": "gemini", "content": "yo"},
                {"$set": {"summary": "S", "lastUpdated": _TS}},
                {"id": "m2", "timestamp": _TS, "type": "gemini", "content": "yo again"},
                {"$rewindTo": "m2"},
                {"id": "m4", "timestamp": _TS, "type": "user", "content": "again"},
            ),
        ),
    ],
    "kimi": [
        (
            "wire.jsonl",
            _jsonl(
                {"type": "metadata", "protocol_version": "1.4", "created_at": 1781363635367},
                {"type": "config.update", "modelAlias": "k", "time": 1781368649422},
                {
                    "type": "turn.prompt",
                    "input": [{"type": "text", "text": "fix it"}],
                    "origin": {"kind": "user"},
                    "time": 1781368649424,
                },
                {
                    "type": "context.append_loop_event",
                    "event": {
                        "type": "tool.call",
                        "uuid": "c1",
                        "toolCallId": "t1",
                        "name": "Read",
                        "args": {"path": "/x"},
                    },
                    "time": 1781368649425,
                },
                {
                    "type": "context.append_loop_event",
                    "event": {
                        "type": "tool.result",
                        "parentUuid": "c1",
                        "toolCallId": "t1",
                        "result": {"output": "x", "isError": False},
                    },
                    "time": 1781368649426,
                },
            ),
        )
    ],
    "aider": [
        (
            ".aider.chat.history.md",
            b"\n# aider chat started at 2026-11-25 10:00:00\n\n"
            b"#### fix the bug  \n#### please  \n\nSure, here:\n\n```\n#### not input\n```\n\n"
            b"> Applied edit to x.py  \n> Commit 1a2b3c4 fix  \n\n"
            b"#### thanks  \n\nYou're welcome.\n\n",
        )
    ],
}

# Corpus files per format (the importers' ground truth), when the corpus is there.
CORPUS_GLOBS = {
    "claude-code": ["claude-code/*.jsonl", "claude-code/*/*.jsonl"],
    "codex": ["codex/*.jsonl"],
    "gemini": ["gemini/*.json"],
    "kimi": ["kimi/*.jsonl"],
}
FORMATS = agents.names()
JSONL_FORMATS = [f for f in FORMATS if f != "aider"]


def samples(fmt: str) -> list[tuple[str, bytes]]:
    found = list(BUILTIN[fmt])
    if CORPUS.is_dir():
        for pattern in CORPUS_GLOBS.get(fmt, []):
            found += [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob(pattern))]
    return found


def _records(data: bytes) -> list[Any]:
    text = data.decode("utf-8")
    if text.lstrip().startswith("{") and "\n{" not in text.strip():  # one JSON document
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# Record pools: the records of every sample of a format, small ones only (speed).
def _small(records: list[Any]) -> list[Any]:
    if len(records) == 1 and isinstance(records[0], dict) and "messages" in records[0]:
        chat = records[0]  # a legacy Gemini chat: keep the document, its small messages
        return [{**chat, "messages": _small(chat["messages"])}]
    return [r for r in records if len(json.dumps(r)) < 20_000]


POOLS: dict[str, list[tuple[str, list[Any]]]] = {
    fmt: [(name, _small(_records(data))) for name, data in samples(fmt)] for fmt in JSONL_FORMATS
}

# -- hostile values ------------------------------------------------------------------------

SPECIAL_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\n",
    "a\nb",
    "\r\n",
    "\u2028",
    "\ufeff",
    "\x1b[31m",
    "٢٠٢٦-١١-٢٥T10:00:00Z",
    "../../etc/passwd",
    "$rewindTo",
    "{",
    "null",
    "-1",
    "x" * 65,
    "id with space",
    "é",
    "\U0001f600",
    "NaN",
    "u1",
    "m2",
    "t1",
    "call_1",
    "c1",
]
TIMESTAMPS = [
    _TS,
    "2026-11-25T09:59:59Z",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "0000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-11-25T10:00:60Z",
    "2026-11-25 10:00:00",
    "2026-11-25T10:00:00Z\n",
    "2026-11-25T10:00:00+99:99",
    "2026-11-25",
    "yesterday",
    "",
    "2026-11-25T10:00:00.1234567891Z",
]
NUMBERS = [0, -1, 1781368649424, 10**30, -(10**30), 1e308, -0.0, 2**63, 1.5, 10**400]

hostile_text = st.one_of(
    st.sampled_from(SPECIAL_STRINGS),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
)
hostile_scalar = st.one_of(
    hostile_text,
    st.sampled_from(TIMESTAMPS),
    st.sampled_from(NUMBERS),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
hostile_value = st.recursive(
    hostile_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    """Every place in ``value`` (a JSON document) a value can be put."""
    found = [prefix]
    if depth > 6:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value[:8]):
            found += _paths(item, (*prefix, index), depth + 1)
    return found


def _put(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _put(value[head], rest, new)}
    copy = list(value)
    copy[head] = _put(copy[head], rest, new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, record: Any) -> Any:
    """``record`` with hostile values put in a few places (or keys removed, or added)."""
    for _ in range(draw(st.integers(0, 3))):
        places = _paths(record)
        path = places[draw(st.integers(0, len(places) - 1))]
        action = draw(st.integers(0, 5))
        if action == 0 and path:  # remove the field
            parent = _get(record, path[:-1])
            if isinstance(parent, dict):
                rest = {k: v for k, v in parent.items() if k != path[-1]}
                record = _put(record, path[:-1], rest)
            continue
        if action == 1:  # add a field
            target = _get(record, path)
            if isinstance(target, dict):
                key = draw(st.one_of(hostile_text, st.sampled_from(["id", "type", "uuid"])))
                record = _put(record, path, {**target, key: draw(hostile_value)})
            continue
        record = _put(record, path, draw(hostile_value))
    return record


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def structured(draw: st.DrawFn, fmt: str) -> bytes:
    """A transcript of ``fmt`` made of real records, some mutated, maybe reordered/repeated."""
    _name, pool = draw(st.sampled_from(POOLS[fmt]))
    if len(pool) == 1 and isinstance(pool[0], dict) and isinstance(pool[0].get("messages"), list):
        # A legacy Gemini chat: one document; its messages are the records.
        chat = pool[0]
        messages = chat["messages"][:20]
        picked = draw(st.lists(st.sampled_from(messages), max_size=12)) if messages else []
        chat = {**chat, "messages": [draw(mutated(m)) for m in picked]}
        doc = draw(mutated(chat)) if draw(st.booleans()) else chat
        return _dump(doc, draw(st.booleans())) + b"\n"
    head = pool[:1] if draw(st.booleans()) else []
    body = draw(st.lists(st.sampled_from(pool), max_size=16))
    records = [draw(mutated(r)) if draw(st.booleans()) else r for r in head + body]
    return b"".join(_dump(r, draw(st.booleans())) + b"\n" for r in records)


def _dump(value: Any, ascii_only: bool) -> bytes:
    if ascii_only:
        return json.dumps(value).encode()
    # Lone surrogates as raw (invalid) UTF-8 bytes, as a broken writer would put them.
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


BAD_BYTES = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
    b"\r",
    b"\n",
    b"{",
    b"}",
    b'"',
    b"\\",
    b"\xef\xbb\xbf",
    b"\n\n",
]


@st.composite
def broken(draw: st.DrawFn, data: bytes) -> bytes:
    """``data``'s bytes, damaged a few times."""
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.integers(0, 7))
        at = draw(st.integers(0, len(data)))
        if action == 0:
            data = data[:at]  # truncated (a writer killed mid-line)
        elif action == 1:
            data = data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
        elif action == 2:
            data = data[:at] + draw(st.binary(max_size=64)) + data[at:]
        elif action == 3:
            depth = draw(st.sampled_from([50, 999, 1001, 5000, 100_000]))
            opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
            deep = opener * depth + b"1" + closer * draw(st.sampled_from([0, depth]))
            data = data[:at] + b"\n" + deep + b"\n" + data[at:]
        elif action == 4:  # a line repeated (duplicated ids)
            lines = data.splitlines(keepends=True)
            if lines:
                index = draw(st.integers(0, len(lines) - 1))
                lines.insert(draw(st.integers(0, len(lines))), lines[index])
                data = b"".join(lines)
        elif action == 5:  # two lines run together
            data = (
                data.replace(b"\n", b"", 1) if draw(st.booleans()) else data.replace(b"}\n{", b"}{")
            )
        elif action == 6:  # lines reordered
            lines = data.splitlines(keepends=True)
            data = b"".join(draw(st.permutations(lines))) if len(lines) < 40 else data
        else:
            data = data[:at] + data[at + draw(st.integers(0, 40)) :]
    return data


def transcripts(fmt: str) -> st.SearchStrategy[bytes]:
    if fmt == "aider":
        text = st.lists(
            st.one_of(
                st.sampled_from(
                    [
                        "# aider chat started at 2026-11-25 10:00:00",
                        "#### hi  ",
                        "> note  ",
                        "```",
                        "~~~",
                        "",
                        "reply",
                        "# aider chat started at 9999-99-99 99:99:99",
                        "# aider chat started at 0001-01-01 00:00:00",
                        "#### ",
                        ">",
                    ]
                ),
                hostile_text,
            ),
            max_size=20,
        ).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))
        seed = st.just(BUILTIN["aider"][0][1])
        base = st.one_of(seed, text)
    else:
        base = structured(fmt)
    return st.one_of(base, base.flatmap(broken), st.binary(max_size=200))


# -- checking a result ---------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise AssertionError(f"not JSON: {name}")


def check_entries(entries: list[dict[str, Any]]) -> None:
    """Every entry as stored: a JSON object line, a valid id (unique), an RFC 3339 ts."""
    seen: set[str] = set()
    for entry in entries:
        line = encode_json(entry)
        assert b"\n" not in line
        back = json.loads(line, parse_constant=_no_constants)
        assert back == entry or canonical(back) == canonical(entry)
        entry_id = back["id"]
        assert isinstance(entry_id, str) and ENTRY_ID_RE.fullmatch(entry_id), entry_id
        assert entry_id not in seen, f"duplicate id {entry_id}"
        seen.add(entry_id)
        assert isinstance(back["ts"], str) and back["ts"].isascii(), back["ts"]
        assert normalize_ts(back["ts"]) == back["ts"], back["ts"]
        assert back["ts"].endswith("Z")
        normalize_entry(back)  # valid under the model


def check_error(exc: BadInput) -> None:
    assert exc.exit_code == 2
    assert exc.message.strip()


def parse_through(fmt_name: str | None, path: Path) -> list[dict[str, Any]] | None:
    """What `gitsess import` does before writing: entries, or None for a clear error."""
    try:
        fmt = agents.get(fmt_name) if fmt_name else agents.detect(path)
        conversation = fmt.parse(path)
        entries, _ = Sessions.normalized(conversation.entries, None, trusted=fmt.trusted)
    except BadInput as exc:
        check_error(exc)
        return None
    check_entries(entries)
    assert conversation.title is None or isinstance(conversation.title, str)
    return entries


def _file(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _name_for(fmt: str) -> str:
    return BUILTIN[fmt][-1][0]


FUZZ = settings(
    max_examples=soak(60, 3000),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FUZZ_CLI = settings(FUZZ, max_examples=soak(8, 300))

# -- 1. importers, through the parser API --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_samples_import_cleanly(fmt: str, tmp_path: Path) -> None:
    for name, data in samples(fmt):
        entries = parse_through(fmt, _file(tmp_path, name, data))
        assert entries, name


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.data())
def test_importer_gives_entries_or_a_clear_error(
    fmt: str, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    blob = data.draw(transcripts(fmt), label="transcript")
    folder = tmp_path_factory.mktemp("fuzz")
    path = _file(folder, _name_for(fmt), blob)
    parse_through(fmt, path)
    parse_through(None, path)  # detection and whatever format it picks
    parse_through(data.draw(st.sampled_from(FORMATS), label="as format"), path)  # --format F


HUGE = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def huge_line() -> bytes:
    """One 5 MB JSON line (built once)."""
    return json.dumps({"type": "event", "name": "big", "data": "x" * HUGE}).encode()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "shape", ["huge-line", "deep-list", "deep-object", "nul", "invalid-utf8", "huge-garbage"]
)
def test_importer_extremes(fmt: str, shape: str, tmp_path: Path, huge_line: bytes) -> None:
    seed = BUILTIN[fmt][-1][1]
    extra = {
        "huge-line": huge_line,
        "deep-list": b"[" * 100_000 + b"]" * 100_000,
        "deep-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "nul": b"\x00" * 1000,
        "invalid-utf8": b'{"type":"\xff\xfe"}',
        "huge-garbage": b"\xff" * HUGE,
    }[shape]
    for blob in (extra + b"\n", seed + extra + b"\n", seed + extra, extra + b"\n" + seed):
        parse_through(fmt, _file(tmp_path, _name_for(fmt), blob))
        parse_through(None, _file(tmp_path, _name_for(fmt), blob))


# -- 1b. the real CLI ----------------------------------------------------------------------


def refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def check_cli(result: Any, repo: Path, before: str) -> str | None:
    """Exit 2 with one line and nothing written, or exit 0; the new session id, if any."""
    assert result.code in (0, 2), (result.code, result.err)
    assert "Traceback" not in result.err
    if result.code == 2:
        assert result.err.count("\n") == 1 and result.err.startswith("gitsess: "), result.err
        assert refs(repo) == before
        return None
    assert result.err == ""
    return "ok"


def check_session(gs: Callable[..., Any], session_id: str) -> list[dict[str, Any]]:
    shown = gs("show", session_id, "--json")
    assert shown.code == 0, shown.err
    entries: list[dict[str, Any]] = shown.json()["entries"]
    check_entries(entries)
    assert shown.json()["session"]["entries"] == len(entries)
    if len(shown.out) < 200_000:  # rendering megabytes as text is slow, and tested elsewhere
        for args in (["show", session_id], ["export", session_id, "--format", "md"]):
            assert gs(*args).code == 0, args
    # The portable file reads back as the same entries.
    exported = gs("export", session_id)
    assert exported.code == 0, exported.err
    lines = exported.out.split("\n")[1:-1]  # not splitlines(): U+2028 is no line end here
    assert [json.loads(line) for line in lines] == entries
    return entries


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ_CLI
@given(data=st.data())
def test_import_cli(
    fmt: str, repo: Path, gs: Any, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    blob = data.draw(transcripts(fmt), label="transcript")
    path = _file(tmp_path_factory.mktemp("fuzz"), _name_for(fmt), blob)
    for args in (["--format", fmt], []):
        before = refs(repo)
        result = gs("import", str(path), "--no-checkout", "--json", *args)
        if check_cli(result, repo, before):
            check_session(gs, result.json()["id"])


@pytest.mark.parametrize("shape", ["huge-line", "deep-list", "nul", "invalid-utf8"])
def test_import_cli_extremes(
    shape: str, repo: Path, gs: Any, tmp_path: Path, huge_line: bytes
) -> None:
    extra = {
        "huge-line": huge_line,
        "deep-list": b"[" * 100_000 + b"]" * 100_000,
        "nul": b'{"type":"event","name":"\x00"}\x00',
        "invalid-utf8": b'{"type":"\xed\xa0\x80"}',
    }[shape]
    for fmt in FORMATS:
        path = _file(tmp_path, _name_for(fmt), BUILTIN[fmt][-1][1] + extra + b"\n")
        before = refs(repo)
        result = gs("import", str(path), "--no-checkout", "--json")
        if check_cli(result, repo, before):
            check_session(gs, result.json()["id"])


def _entry_lines() -> st.SearchStrategy[bytes]:
    entry = st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "event", "tool_call", "reasoning", "weird"])},
        optional={
            "id": st.one_of(st.sampled_from(["e1", "e2", "e3"]), hostile_scalar),
            "ts": st.one_of(st.sampled_from(TIMESTAMPS), hostile_scalar),
            "role": st.one_of(st.just("user"), hostile_scalar),
            "content": hostile_value,
            "name": st.one_of(st.just("n"), hostile_scalar),
            "data": hostile_value,
            "input": hostile_value,
            "call_id": st.one_of(st.just("k"), hostile_scalar),
            "meta": hostile_value,
        },
    )
    line = st.one_of(
        entry.map(lambda e: _dump(e, False)),
        entry.map(lambda e: _dump(e, True)),
        st.sampled_from([b"[]", b"1", b'"x"', b"null", b"{}", b"[" * 5000, b"\xff", b"\x00"]),
        st.binary(max_size=30),
    )
    return st.lists(line, min_size=1, max_size=8).map(lambda lines: b"\n".join(lines) + b"\n")


@FUZZ_CLI
@given(data=st.data())
def test_record_jsonl_cli(repo: Path, gs: Any, data: st.DataObject) -> None:
    created = gs("new", "fuzz target", "--no-checkout", "--json")
    assert created.code == 0, created.err
    session_id = created.json()["id"]
    for _ in range(3):
        blob = data.draw(_entry_lines(), label="stdin")
        before = refs(repo)
        count = len(check_session(gs, session_id))
        result = gs("record", session_id, "--jsonl", "-", "--json", stdin=blob)
        if check_cli(result, repo, before):
            assert len(check_session(gs, session_id)) == count + result.json()["appended"]


def test_record_jsonl_extremes(repo: Path, gs: Any, huge_line: bytes, tmp_path: Path) -> None:
    session_id = gs("new", "fuzz target", "--no-checkout", "--json").json()["id"]
    good = b'{"type":"event","name":"ok"}\n'
    for extra in (
        huge_line,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"type":"event","name":"x","data":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"type":"event","name":"x","data":' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"type":"event","name":"x","meta":[1]}',
        b'{"type":"event","name":"x","data":1e400}',
        b'{"type":"event","name":"x","data":NaN}',
        b'{"type":"event","name":"\\ud800\\u0000"}',
        b'{"type":"event","name":"\xed\xa0\x80"}',
        b'{"type":"event","id":"a\\n","name":"x"}',
        b'{"type":"event","ts":"0001-01-01T00:00:00+01:00","name":"x"}',
        b'{"type":"event","ts":"\\u0662\\u0660\\u0662\\u0666-11-25T10:00:00Z","name":"x"}',
        b'{"type":"event","id":"d","name":"x"}\n{"type":"event","id":"d","name":"x"}',
        b"\x00" * 100,
    ):
        blob = good + extra + b"\n"
        for source in ("-", "file"):
            before = refs(repo)
            if source == "-":
                result = gs("record", session_id, "--jsonl", "-", "--json", stdin=blob)
            else:
                result = gs("record", session_id, "--jsonl", str(_file(tmp_path, "in.jsonl", blob)))
            if check_cli(result, repo, before):
                check_session(gs, session_id)
    # The CLI as a user runs it, once: a subprocess, a 5 MB line on stdin.
    before = refs(repo)
    result = run_cli(repo, "record", session_id, "--jsonl", "-", stdin=huge_line + b"\n")
    if check_cli(result, repo, before):
        check_session(gs, session_id)


# -- 2. capture ----------------------------------------------------------------------------

_OK_ERRORS = ("FormatError", "BadInput", "GitsessError", "CaptureSkipped")


def capture(repo: Path, agent: str, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = json.dumps({"transcript_path": str(path), "cwd": str(repo), "session_id": "s"})
    capture_with_stdin(payload.encode(), agent, capsys)


def capture_with_stdin(payload: bytes, agent: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Run `capture` in-process on ``payload``: exit 0, nothing on stdout, at most one line."""
    capsys.readouterr()
    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(payload), encoding="utf-8")
    try:
        assert main(["capture", "--agent", agent]) == 0
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") <= 1, err


def capture_log_errors(repo: Path) -> list[str]:
    """The exception types capture logged (each traceback's last line)."""
    log = repo / ".git" / "gitsess" / "capture.log"
    if not log.is_file():
        return []
    kinds = []
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            rest = lines[index + 1 :]
            last = next((r for r in rest if r and not r.startswith((" ", "Traceback"))), "")
            kinds.append(last.split(":", 1)[0].rsplit(".", 1)[-1])
    return kinds


CAPTURE_AGENTS = ["claude-code", "codex", "gemini", "kimi", "gitsess"]


@pytest.mark.parametrize("fmt", CAPTURE_AGENTS)
@FUZZ_CLI
@given(data=st.data())
def test_capture_never_fails_the_agent(
    fmt: str,
    repo: Path,
    gs: Any,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    data: st.DataObject,
) -> None:
    folder = tmp_path_factory.mktemp("agent")
    path = folder / _name_for(fmt)
    for _ in range(2):  # the transcript as it changes between two turns
        path.write_bytes(data.draw(transcripts(fmt), label="transcript"))
        capture(repo, fmt, path, capsys)
        bad = [k for k in capture_log_errors(repo) if k not in _OK_ERRORS]
        assert not bad, (repo / ".git" / "gitsess" / "capture.log").read_text()
    listed = gs("list", "--all", "--json")
    assert listed.code == 0, listed.err
    for summary in listed.json():
        check_session(gs, summary["id"])


@pytest.mark.parametrize(
    "shape", ["deep-list", "surrogate-in-path", "surrogate-in-path-broken", "nul", "huge-line"]
)
def test_capture_extremes(
    shape: str, repo: Path, gs: Any, tmp_path: Path, capsys: Any, huge_line: bytes
) -> None:
    for fmt in CAPTURE_AGENTS:
        name = _name_for(fmt)
        if shape.startswith("surrogate-in-path"):
            name = "\udcff" + name  # a file name that is not UTF-8
        extra = {
            "deep-list": b"[" * 100_000 + b"]" * 100_000 + b"\n",
            "surrogate-in-path": b"",
            "surrogate-in-path-broken": b"not json\n",
            "nul": b"\x00\n",
            "huge-line": huge_line + b"\n",
        }[shape]
        path = tmp_path / name
        try:
            path.write_bytes(BUILTIN[fmt][-1][1] + extra)
        except (UnicodeEncodeError, OSError):
            pytest.skip("this file system cannot name such a file")
        capture(repo, fmt, path, capsys)
        bad = [k for k in capture_log_errors(repo) if k not in _OK_ERRORS]
        assert not bad, (repo / ".git" / "gitsess" / "capture.log").read_text()
    fsck(repo)


@FUZZ_CLI
@given(
    payload=st.one_of(
        st.dictionaries(
            st.sampled_from(["transcript_path", "cwd", "session_id", "prompt", "thread-id"]),
            st.one_of(hostile_value, st.just("."), st.just(".git")),
        ).map(lambda d: _dump(d, False)),
        st.binary(max_size=100),
        st.just(b"[" * 100_000),
    ),
    agent=st.sampled_from([*CAPTURE_AGENTS, "claude", "nope", "\udcff"]),
)
def test_capture_hostile_hook_input(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    payload: bytes,
    agent: str,
) -> None:
    """Whatever the hook sends on stdin: exit 0, nothing on stdout, at most one line."""
    # A payload without a usable cwd means the process's own: the test repository, never
    # the checkout the tests run from.
    monkeypatch.chdir(repo)
    capture_with_stdin(payload, agent, capsys)


# -- 3. merge ------------------------------------------------------------------------------

_IDS = ["a", "b", "c", "d"]


def _stored(value: Any) -> dict[str, Any]:
    """What merge sees for a value once stored and read back (non-objects are flagged)."""
    return parse_line(encode_json(value))


hostile_entry = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["event", "message"])},
        optional={
            "id": st.one_of(st.sampled_from(_IDS), hostile_scalar),
            "ts": st.one_of(st.sampled_from(TIMESTAMPS), hostile_scalar),
            "data": hostile_value,
            # An object, as the model requires (a non-object `meta` gives way to the conflicts).
            "meta": st.one_of(
                st.none(),
                st.dictionaries(hostile_text, hostile_value, max_size=3),
                st.fixed_dictionaries(
                    {"conflicts": st.one_of(hostile_value, st.lists(hostile_value))}
                ),
            ),
        },
    ),
    hostile_value,
).map(_stored)
hostile_log = st.lists(hostile_entry, max_size=8)


def _keys(entries: list[dict[str, Any]]) -> set[str]:
    from gitsess.merge import entry_key

    return {entry_key(e) for e in entries}


def _versions(entries: list[dict[str, Any]]) -> set[str]:
    """Every version held: the entries themselves and what their conflicts recorded."""
    found = set()
    for entry in entries:
        meta = entry.get("meta")
        stripped = entry
        if meta in (None, {}) and "meta" in entry:  # `meta: null` or `{}` is no meta
            stripped = {k: v for k, v in entry.items() if k != "meta"}
        if isinstance(meta, dict) and "conflicts" in meta:
            if isinstance(meta["conflicts"], list):
                found |= {canonical(v) for v in meta["conflicts"]}
            rest = {k: v for k, v in meta.items() if k != "conflicts"}
            stripped = {k: v for k, v in entry.items() if k != "meta"}
            if rest:
                stripped["meta"] = rest
        found.add(canonical(stripped))
    return found


MERGE = settings(FUZZ, max_examples=soak(100, 5000))


@MERGE
@given(hostile_log, hostile_log, hostile_log)
def test_merge_hostile_logs(
    base: list[dict[str, Any]], ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
) -> None:
    merged = merge_logs(base, ours, theirs)
    # Convergence: whichever side merges, the same log.
    assert canonical(merged) == canonical(merge_logs(base, theirs, ours))
    # Nothing lost: every entry (by id) is there, each once.
    assert _keys(merged) == _keys(base) | _keys(ours) | _keys(theirs)
    assert len(_keys(merged)) == len(merged)
    # ... and every version the two sides hold is the merged one or a recorded conflict.
    held = _versions(merged)
    replaced = {canonical(e) for e in base}  # a side may change a base entry: not a loss
    for entry in ours + theirs:
        if canonical(entry) not in replaced:
            assert _versions([entry]) <= held or canonical(entry) in held
    # Idempotence: merging the result again changes nothing.
    assert canonical(merge_logs(base, merged, merged)) == canonical(merged)
    assert canonical(merge_logs(ours, merged, ours)) == canonical(merged)
    for entry in merged:
        encode_json(entry)  # storable


@MERGE
@given(hostile_log, hostile_log)
def test_merge_hostile_no_base(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    assume(ours or theirs)
    merged = merge_logs([], ours, theirs)
    assert canonical(merged) == canonical(merge_logs([], theirs, ours))
    assert _keys(merged) == _keys(ours) | _keys(theirs)


hostile_meta = st.dictionaries(
    st.sampled_from(["id", "title", "updated", "tags", "status", "x"]) | hostile_text,
    st.one_of(hostile_value, st.lists(hostile_text), st.sampled_from(TIMESTAMPS)),
    max_size=6,
)


@MERGE
@given(hostile_meta, hostile_meta)
def test_merge_meta_hostile(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    merged = merge_meta(ours, theirs)
    assert canonical(merged) == canonical(merge_meta(theirs, ours))
    assert set(merged) >= set(ours) | set(theirs)
    tags = (
        [t for t in (ours.get("tags") or []) if isinstance(t, str)]
        if isinstance(ours.get("tags"), list)
        else []
    )
    assert set(tags) <= set(merged.get("tags") or [])


@pytest.mark.parametrize("depth", [900, 5000, 100_000])
def test_merge_deep_values(depth: int) -> None:
    deep: Any = 1
    for _ in range(min(depth, 5000)):
        deep = [deep]
    entry = {"id": "a", "ts": _TS, "type": "event", "data": deep}
    try:
        line = encode_json(entry)
    except (RecursionError, ValueError):
        return  # cannot be stored, so never reaches a merge
    stored = parse_line(line)
    merged = merge_logs([], [stored], [{"id": "a", "ts": _TS, "type": "event"}])
    assert _keys(merged) == {"a"}


# -- 3b. the merge through the CLI: two clones append hostile entries, then exchange -------

accepted_entry = st.fixed_dictionaries(
    {
        "type": st.just("event"),
        "name": st.sampled_from(["n", "\x00", "\ud800", "é\u2028"]),
        "id": st.sampled_from(["x1", "x2", "x3", "x4"]),  # the same ids on both sides
        "ts": st.sampled_from(TIMESTAMPS[:4]),  # out of order, far past and far future
    },
    optional={"data": hostile_value, "meta": st.dictionaries(hostile_text, hostile_value)},
)


def _jsonl_of(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(encode_json(e) + b"\n" for e in entries)


@settings(FUZZ, max_examples=soak(4, 60))
@given(
    ours=st.lists(accepted_entry, max_size=4, unique_by=lambda e: e["id"]),
    theirs=st.lists(accepted_entry, max_size=4, unique_by=lambda e: e["id"]),
)
def test_fetch_merges_hostile_appends(
    gs: Any,
    tmp_path_factory: pytest.TempPathFactory,
    ours: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
) -> None:
    root = tmp_path_factory.mktemp("share")
    bare = root / "remote.git"
    git(root, "init", "-q", "--bare", str(bare))
    seed = root / "seed"
    git(root, "init", "-q", str(seed))
    (seed / "a.txt").write_text("a\n")
    git(seed, "add", "a.txt")
    git(seed, "commit", "-q", "-m", "initial")
    git(seed, "push", "-q", str(bare), "main")
    alice, bob = root / "alice", root / "bob"
    for path in (alice, bob):
        git(root, "clone", "-q", str(bare), str(path))
    sid = gs("new", "Shared", "--json", cwd=alice).json()["id"]
    push = ("push", sid, "--allow-secrets")  # random text can look like a secret
    assert gs(*push, cwd=alice).code == 0
    assert gs("fetch", cwd=bob).code == 0
    for repo, batch in ((alice, ours), (bob, theirs)):
        if batch:
            done = gs("record", sid, "--jsonl", "-", cwd=repo, stdin=_jsonl_of(batch))
            assert done.code == 0, done.err
    assert gs(*push, cwd=alice).code == 0
    for repo in (bob, bob, alice):  # bob merges and pushes; alice fetches the merge
        fetched = gs("fetch", cwd=repo)
        assert fetched.code == 0, fetched.err
        if repo == bob:
            pushed = gs(*push, cwd=bob)
            assert pushed.code == 0, pushed.err
    logs = [gs("show", sid, "--json", cwd=repo).json()["entries"] for repo in (alice, bob)]
    assert logs[0] == logs[1]
    check_entries(logs[0])
    assert {e["id"] for e in ours + theirs} <= {e["id"] for e in logs[0]}
    for path in (alice, bob):
        fsck(path)
