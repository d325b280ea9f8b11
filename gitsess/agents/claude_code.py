"""Claude Code transcripts: ``~/.claude/projects/<munged cwd>/<session uuid>.jsonl``.

One JSON record a line. Conversation records (``user``, ``assistant``, ``system``,
``progress``, ``attachment``) carry ``uuid``, ``parentUuid``, ``timestamp``,
``sessionId``, ``cwd``, ``version``, ``gitBranch``; bookkeeping records
(``summary``, ``file-history-snapshot``, ``custom-title``, ``queue-operation``,
``last-prompt``, ...) mostly carry none of these. How they become entries (docs/format.md), and
the choices made:

Ids
    An entry's id is the record's ``uuid``; a record that gives several entries gives
    ``<uuid>``, ``<uuid>:1``, ``<uuid>:2``... (one per content block). Records without a
    uuid get ``<type>.<first 16 hex of the SHA-1 of the record's text>``, so their ids
    do not depend on their position. A record seen again (same uuid, or same text) gets
    ``.2``, ``.3``... and ``meta.duplicate: true``. Ids that would not fit the format's
    pattern in 56 characters are hashed (``h<40 hex>``). Subagent entries are prefixed
    with ``<agentId>.``. ``source`` is ``{"format": "claude-code", "id": <uuid>}`` (no
    ``id`` for records that have none). ``parent`` is the entry made last from the
    record named by ``parentUuid`` (or ``logicalParentUuid`` after a compaction), or,
    for a subagent's first entry, the tool call that started it.

Messages and blocks
    Claude Code writes one API message over several lines that share ``message.id``,
    each line with its own uuid and (since 2.x) one content block. Each block becomes
    one entry: ``text`` a ``message`` (content: the text), ``thinking`` and
    ``redacted_thinking`` a ``reasoning`` entry, ``tool_use`` (and the server/MCP tool
    uses) a ``tool_call`` (``call_id``: the block's ``id``), ``tool_result`` blocks in
    user lines (and ``*_tool_result`` blocks) a ``tool_result`` (``call_id``:
    ``tool_use_id``, ``output``: the ``content`` as given, ``is_error``); other blocks of a
    user line are kept together as one ``message`` whose content is the list of parts.
    ``meta`` keeps the record's other fields (uuid, parentUuid, cwd, version, gitBranch,
    requestId, ``toolUseResult`` on the first tool result of its line...), the API
    message's fields other than content/role/model in ``meta.message`` (``id``,
    ``usage``, ``stop_reason``...) and a block's fields other than its main ones in
    ``meta.block`` (a thinking block's ``signature``); for blocks whose type the entry
    cannot say, ``meta.block`` is the whole block. ``model`` is ``message.model``.

Injected user lines
    User lines with ``isMeta: true`` (system reminders, command caveats: text the
    harness sends as the user) become ``message`` entries with role ``system`` and
    ``meta.injected: true`` (``meta.isMeta`` stays too), so that they never pass for
    the user's prompt. Slash commands and their output (``<command-name>``,
    ``<local-command-stdout>``) are not ``isMeta`` and stay user messages.

Compaction and events
    A ``system`` record with ``subtype: compact_boundary`` becomes an ``event`` named
    ``compaction``; the user line after it with ``isCompactSummary: true`` becomes a
    ``summary`` whose content is the summary text and whose span runs from the first
    non-event entry of its stream (earlier summaries are part of what it summarises) to
    the last entry of the boundary's ``logicalParentUuid`` record (else the last non-event
    entry before the boundary). Every other record becomes an ``event``: ``system``
    records named by their ``subtype``, the others by their ``type`` (``summary``,
    ``file-history-snapshot``, ``progress``, ``queue-operation``, ...). An event's
    ``data`` is the record without its common fields (uuids, session, cwd, version,
    branch...), which go to ``meta``; ``meta.record`` is the native type.

Title
    ``Conversation.title`` is the last ``custom-title`` (``/rename``), else the last
    ``ai-title``, else the last ``summary`` record whose ``leafUuid`` is in this file,
    else the last ``summary`` record: Claude Code's own order of precedence. The records
    stay in the log as events.

Rewinds
    ``uuid``/``parentUuid`` form a tree. The active branch is found as Claude Code finds
    it on ``--resume``: from the last conversation record (or the leaf named by a later
    explicit ``last-prompt`` record), back through ``parentUuid`` (across a compaction
    through ``logicalParentUuid``; ``progress`` records are transparent), plus what
    Claude Code adds back: every line of an API message on that path (same
    ``message.id``) and the tool results that hang off them (parallel tool calls make
    such siblings: they are not rewinds). Every other user/assistant record is off the
    branch: its entries stay in the log, in file order, with ``meta.inactive: true`` so a
    reader can hide them; other records follow the status of their parent. Entries are
    in file order, which for the active branch is conversation order.

Subagents
    A subagent's transcript lives in ``agent-<agentId>.jsonl`` beside the session file
    (up to Claude Code 2.0; only those whose ``sessionId`` is this session's are read) or
    in ``<session file without .jsonl>/subagents/`` (2.1 on, also in subfolders). They
    are read with the session, and their entries get ``meta.subagent: <agentId>`` and
    prefixed ids. Each subagent's entries are placed right after the ``Task``/``Agent``
    tool call that started it, found through the ``toolUseId`` of its
    ``agent-<id>.meta.json`` or ``agent_metadata`` record, a tool result whose
    ``toolUseResult.agentId`` is the subagent, a ``progress`` record naming it, or a
    Task/Agent call whose ``input.prompt`` is the subagent's first prompt; failing that,
    by the time of its first record (but never before the session's first prompt).
    Sidechain records inside the session file itself (very old versions) are treated as
    a subagent of their own.

Damaged files
    A line holding several JSON objects run together is split
    (``json.JSONDecoder.raw_decode`` in a loop). A line that is not JSON, a record that
    is not an object or has no ``type``, or a user/assistant record without a
    ``message`` object raises ``FormatError`` naming the file and the line. The one
    exception is an unterminated last line that does not parse: the transcript is being
    written (or its writer was killed). Its complete objects are kept, the rest is
    skipped and noted in ``Conversation.meta["partial_last_line"]``; a file with nothing
    else is a ``FormatError``. A file without any Claude Code record is a
    ``FormatError``. A subagent's file is read by the same rules, except that an empty
    one, or one with only a half-written line (a subagent just starting), adds nothing.

Timestamps
    ``ts`` is the record's ``timestamp`` in UTC (a file-history snapshot's own
    ``snapshot.timestamp``); a record without one takes the previous record's, the first
    ones the first timestamp of the file, and a file without any its modification time.

Resume inside Claude Code: ``to_transcript`` turns entries (docs/format.md) back into records,
``transcript_dir`` / ``transcript_path`` say where Claude Code looks for them,
``write_transcript`` writes them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

from ..jsonl import NOT_READ, QUICK_AFTER, QUICK_BYTES, quick
from .base import (
    AgentFormat,
    Conversation,
    Entry,
    FormatError,
    entry_meta,
    file_mtime_ts,
    read_whole_lines,
    write_new_jsonl,
)

NAME = "claude-code"

# Record types Claude Code writes; a file with none of them is not a Claude Code transcript.
KNOWN_TYPES = frozenset(
    {
        "user",
        "assistant",
        "system",
        "progress",
        "attachment",
        "summary",
        "file-history-snapshot",
        "queue-operation",
        "custom-title",
        "ai-title",
        "last-prompt",
        "tag",
        "agent-name",
        "agent-color",
        "agent-setting",
        "mode",
        "permission-mode",
        "pr-link",
        "worktree-state",
        "relocated",
        "attribution-snapshot",
        "content-replacement",
        "agent_metadata",
    }
)
# Records that take part in the uuid tree as Claude Code reads it.
CHAIN_TYPES = frozenset({"user", "assistant", "system", "attachment"})
# A record's fields that say where and when it was written, not what it says: an event's
# `meta`, not its `data`.
COMMON_KEYS = frozenset(
    {
        "parentUuid",
        "logicalParentUuid",
        "isSidechain",
        "userType",
        "cwd",
        "sessionId",
        "version",
        "gitBranch",
        "slug",
        "agentId",
        "uuid",
        "entrypoint",
        "promptId",
        "teamName",
        "agentName",
        "sessionKind",
        "requestId",
    }
)
TASK_TOOLS = frozenset({"Task", "Agent"})

_ID_OK_RE = re.compile(r"^[A-Za-z0-9._:-]{1,56}\Z")
_SLUG_RE = re.compile(r"[^A-Za-z0-9_-]+")
_SNIFF_RE = re.compile(
    rb'^\s*\{\s*(?:"parentUuid"\s*:|"type"\s*:\s*"(?:summary|file-history-snapshot|'
    rb"queue-operation|custom-title|ai-title|last-prompt|agent-name|agent-color|"
    rb'agent-setting|tag|mode|permission-mode|relocated|pr-link|worktree-state)")'
)
_LEAF_RE = re.compile(rb'"(?:leafUuid|parentUuid)"\s*:')
_SESSION_RE = re.compile(rb'"sessionId"\s*:\s*"([^"]+)"')


class ClaudeCode(AgentFormat):
    name = NAME
    description = "Claude Code transcript (~/.claude/projects/<project>/<session>.jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        if _SNIFF_RE.match(first):
            return True
        # Other writers (copies, tools) may order the keys otherwise.
        return first.lstrip().startswith(b"{") and bool(
            _LEAF_RE.search(first) and _SESSION_RE.search(first)
        )

    windowed = True

    def parse(self, path: Path) -> Conversation:
        return _parse(path)

    def parse_window(
        self, path: Path, start: int, limit: int, carry: dict[str, Any], known: set[str]
    ) -> tuple[Conversation | None, int, dict[str, Any]]:
        # The carry is the last entry of each of the part's last records, by uuid.
        return parse_window(path, start, limit, carry, known)

    def watched_files(self, path: Path) -> list[Path]:
        """The session file and its subagents' files (and their metadata)."""
        files = [path]
        session_id = _first_session_id(path)
        for agent_file in _subagent_files(path, session_id):
            files.append(agent_file)
            meta_file = agent_file.with_name(agent_file.name[: -len(".jsonl")] + ".meta.json")
            if meta_file.is_file():
                files.append(meta_file)
        return files


# -- reading ---------------------------------------------------------------------------


class _Record:
    __slots__ = ("digest", "number", "obj")

    def __init__(self, number: int, obj: dict[str, Any], digest: str | None) -> None:
        self.number = number  # line number, from 1
        self.obj = obj
        self.digest = digest  # SHA-1 of the record's text, for records without a uuid


def _read(
    path: Path, required: bool = True, data: bytes | None = None
) -> tuple[list[_Record], str | None]:
    """The records of ``path`` (or of ``data``, a part of it), and a note when an
    unterminated last line was skipped.

    An empty file, or one with only an incomplete line, is a FormatError when
    ``required``, else (a subagent's file just created) no records.
    """
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    lines = data.split(b"\n")
    unterminated = not data.endswith(b"\n")
    records: list[_Record] = []
    note = None
    last = len(lines) - 1
    quick_after = 0 if len(data) >= QUICK_BYTES else QUICK_AFTER
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        number = index + 1
        try:
            # Past the first lines of a long transcript, msgspec reads what json would.
            value = quick(line) if number > quick_after else NOT_READ
            if value is NOT_READ:
                value = json.loads(line)
        except (ValueError, RecursionError):
            partial = index == last and unterminated
            values, complete = _split(line)
            if not complete:
                if not partial:
                    raise FormatError(f"{path}: line {number} is not JSON") from None
                note = f"line {number}: incomplete last line skipped (still being written?)"
            for text, item in values:
                records.append(_record(path, number, item, text))
            continue
        records.append(_record(path, number, value, line))
    if not records and required:
        if note:
            raise FormatError(f"{path}: line {last + 1} is incomplete and nothing else is there")
        raise FormatError(f"{path}: empty file")
    return records, note


def _split(line: bytes) -> tuple[list[tuple[bytes, Any]], bool]:
    """The JSON values run together on ``line``, and whether the whole line was used."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return [], False
    decoder = json.JSONDecoder()
    values: list[tuple[bytes, Any]] = []
    position = 0
    while position < len(text):
        try:
            value, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return values, False
        values.append((text[position:end].encode("utf-8"), value))
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    return values, True


def _record(path: Path, number: int, value: Any, text: bytes) -> _Record:
    if not isinstance(value, dict):
        raise FormatError(f"{path}: line {number} is not a JSON object")
    kind = value.get("type")
    if not isinstance(kind, str) or not kind:
        raise FormatError(f"{path}: line {number} has no 'type': not a Claude Code record")
    if kind in ("user", "assistant") and not isinstance(value.get("message"), dict):
        raise FormatError(f"{path}: line {number}: {kind} record without a message")
    uid = value.get("uuid")
    digest = None if isinstance(uid, str) and uid else hashlib.sha1(text).hexdigest()[:16]
    return _Record(number, value, digest)


def _first_session_id(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(256 * 1024)
    except OSError:
        return None
    found = _SESSION_RE.search(head)
    return found.group(1).decode("utf-8", "replace") if found else None


def _subagent_files(path: Path, session_id: str | None) -> list[Path]:
    """Subagent transcripts of the session at ``path``: new layout, then old layout."""
    if path.name.startswith("agent-") or not path.name.endswith(".jsonl"):
        return []
    found: list[Path] = []
    folder = path.with_name(path.name[: -len(".jsonl")]) / "subagents"
    if folder.is_dir():
        found += sorted(p for p in folder.rglob("agent-*.jsonl") if p.is_file())
    if session_id:
        needle = f'"sessionId":"{session_id}"'.encode()
        for candidate in sorted(path.parent.glob("agent-*.jsonl")):
            try:
                with candidate.open("rb") as handle:
                    head = handle.read(8192)  # the session id comes early in the first line
            except OSError:
                continue
            if needle in head.replace(b'": "', b'":"'):
                found.append(candidate)
    return found


# -- one stream: the session file, or one subagent ----------------------------------------


class _Stream:
    __slots__ = (
        "agent",
        "by_uuid",
        "entries",
        "meta_file",
        "path",
        "prefix",
        "records",
        "start_ts",
    )

    def __init__(
        self, path: Path, records: list[_Record], prefix: str = "", agent: str | None = None
    ) -> None:
        self.path = path
        self.records = records
        self.prefix = prefix  # id prefix: "" for the session, "<agentId>." for a subagent
        self.agent = agent  # the subagent's id
        self.entries: list[Entry] = []
        self.by_uuid: dict[str, list[Entry]] = {}
        self.start_ts = ""
        self.meta_file: dict[str, Any] | None = None


def _fit(base: str) -> str:
    if _ID_OK_RE.match(base):
        return base
    return "h" + hashlib.sha1(base.encode("utf-8", "surrogatepass")).hexdigest()


def _ts_key(ts: str) -> tuple[str, float]:
    """A sort key for normalized UTC timestamps of any precision."""
    fraction = ts[19:-1]
    try:
        return ts[:19], float("0" + fraction) if fraction.startswith(".") else 0.0
    except ValueError:
        return ts[:19], 0.0


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text"))
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _parts(content: list[Any]) -> list[dict[str, Any]]:
    return [
        part
        if isinstance(part, dict)
        else {"type": "text", "text": part}
        if isinstance(part, str)
        else {"type": "json", "value": part}
        for part in content
    ]


def _own_ts(obj: dict[str, Any], normalize: Any) -> str | None:
    """A record's own time: its ``timestamp``, or its file-history snapshot's."""
    value = obj.get("timestamp")
    if not isinstance(value, str):
        snapshot = obj.get("snapshot")
        value = snapshot.get("timestamp") if isinstance(snapshot, dict) else None
    found: str | None = normalize(value) if isinstance(value, str) else None
    return found


class _Builder:
    """entries (docs/format.md) from one stream's records, in file order."""

    def __init__(self, stream: _Stream, fallback_ts: str, known: set[str] | None = None) -> None:
        self.stream = stream
        self.fallback_ts = fallback_ts
        self.seen: dict[str, int] = {}
        self.known = known or set()  # ids made from earlier parts of the file
        self.ts = ""
        self.boundaries: dict[str, str] = {}  # compact boundary uuid -> its logical parent

    def run(self) -> None:
        from ..ids import normalize_ts

        stream = self.stream
        first_ts = None
        for rec in stream.records:
            first_ts = _own_ts(rec.obj, normalize_ts)
            if first_ts:
                break
        self.ts = first_ts or self.fallback_ts
        stream.start_ts = self.ts
        for rec in stream.records:
            self.ts = _own_ts(rec.obj, normalize_ts) or self.ts
            self.record(rec)

    # ids and entries

    def base_id(self, rec: _Record) -> tuple[str, str | None]:
        uid = rec.obj.get("uuid")
        if isinstance(uid, str) and uid:
            return _fit(self.stream.prefix + uid), uid
        slug = _SLUG_RE.sub("-", str(rec.obj.get("type")))[:24]
        return _fit(f"{self.stream.prefix}{slug}.{rec.digest}"), None

    def record(self, rec: _Record) -> None:
        obj = rec.obj
        base, uid = self.base_id(rec)
        if base in self.known and base not in self.seen:  # seen in an earlier part
            copies = 1
            while _fit(f"{base}.{copies + 1}") in self.known:
                copies += 1
            self.seen[base] = copies
        count = self.seen.get(base, 0) + 1
        self.seen[base] = count
        duplicate = count > 1
        if duplicate:
            base = _fit(f"{base}.{count}")
        made: list[Entry] = []

        def emit(kind: str, meta: dict[str, Any], **fields: Any) -> Entry:
            entry: Entry = {
                "id": base if not made else f"{base}:{len(made)}",
                "ts": self.ts,
                "type": kind,
            }
            entry.update(fields)
            source: dict[str, Any] = {"format": NAME}
            if uid:
                source["id"] = uid
            entry["source"] = source
            if duplicate:
                meta["duplicate"] = True
            if self.stream.agent is not None:
                meta["subagent"] = self.stream.agent
            entry["meta"] = meta
            made.append(entry)
            return entry

        kind = obj["type"]
        if kind == "user":
            self.user(obj, emit)
        elif kind == "assistant":
            self.assistant(obj, emit)
        else:
            self.event(obj, emit)
        self.stream.entries.extend(made)
        if uid and not duplicate:
            self.stream.by_uuid[uid] = made

    def line_meta(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = {
            k: v
            for k, v in obj.items()
            if k not in ("message", "type", "timestamp", "toolUseResult")
        }
        message = obj["message"]
        extra = {k: v for k, v in message.items() if k not in ("content", "role", "model")}
        if extra:
            meta["message"] = extra
        return meta

    def user(self, obj: dict[str, Any], emit: Any) -> None:
        content = obj["message"].get("content")
        meta = self.line_meta(obj)
        if obj.get("isCompactSummary"):
            text = content if isinstance(content, str) else _text_of(content)
            summary = emit("summary", meta, content=text or content or "")
            self.pending_summary(summary, obj)
            return
        injected = bool(obj.get("isMeta"))
        role = "system" if injected else "user"

        def message(body: str | list[dict[str, Any]]) -> None:
            entry_meta = dict(meta)
            if injected:
                entry_meta["injected"] = True
            emit("message", entry_meta, role=role, content=body)

        if not isinstance(content, list):
            content = "" if content is None else content
            message(content if isinstance(content, str) else _parts([content]))  # a part object
            return
        result_meta_given = False
        group: list[Any] = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                if group:
                    message(_parts(group))
                    group = []
                entry_meta = dict(meta)
                if not result_meta_given and "toolUseResult" in obj:
                    entry_meta["toolUseResult"] = obj["toolUseResult"]
                    result_meta_given = True
                self.tool_result(block, entry_meta, emit)
            else:
                group.append(block)
        if group or not content:
            message(_parts(group))

    def tool_result(self, block: dict[str, Any], meta: dict[str, Any], emit: Any) -> None:
        extra = {
            k: v
            for k, v in block.items()
            if k not in ("type", "tool_use_id", "content", "is_error")
        }
        if block.get("type") != "tool_result":
            extra = dict(block)
        if extra:
            meta["block"] = extra
        emit(
            "tool_result",
            meta,
            call_id=str(block.get("tool_use_id") or ""),
            output=block.get("content"),
            is_error=bool(block.get("is_error")),
        )

    def assistant(self, obj: dict[str, Any], emit: Any) -> None:
        message = obj["message"]
        meta = self.line_meta(obj)
        model = message.get("model")
        common: dict[str, Any] = {"model": model} if isinstance(model, str) and model else {}
        content = message.get("content")
        if not isinstance(content, list):
            content = "" if content is None else content
            text = content if isinstance(content, str) else _parts([content])  # a part object
            emit("message", meta, role="assistant", content=text, **common)
            return
        if not content:
            emit("message", meta, role="assistant", content=[], **common)
        for block in content:
            entry_meta = dict(meta)
            if not isinstance(block, dict):
                emit("message", entry_meta, role="assistant", content=_parts([block]), **common)
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                self.extras(entry_meta, block, ("type", "text"))
                emit("message", entry_meta, role="assistant", content=block["text"], **common)
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                self.extras(entry_meta, block, ("type", "thinking"))
                emit("reasoning", entry_meta, content=block["thinking"], **common)
            elif kind == "redacted_thinking":
                entry_meta["block"] = block
                emit("reasoning", entry_meta, content="", **common)
            elif kind == "tool_use" and isinstance(block.get("name"), str):
                self.extras(entry_meta, block, ("type", "id", "name", "input"))
                emit(
                    "tool_call",
                    entry_meta,
                    name=block["name"],
                    input=block.get("input"),
                    call_id=str(block.get("id") or ""),
                    **common,
                )
            elif isinstance(kind, str) and kind.endswith("tool_use") and "name" in block:
                entry_meta["block"] = block
                emit(
                    "tool_call",
                    entry_meta,
                    name=str(block.get("name")),
                    input=block.get("input"),
                    call_id=str(block.get("id") or ""),
                    **common,
                )
            elif isinstance(kind, str) and kind.endswith("tool_result") and "tool_use_id" in block:
                self.tool_result(block, entry_meta, emit)
            else:
                emit("message", entry_meta, role="assistant", content=[block], **common)

    @staticmethod
    def extras(meta: dict[str, Any], block: dict[str, Any], known: tuple[str, ...]) -> None:
        extra = {k: v for k, v in block.items() if k not in known}
        if extra:
            meta["block"] = extra

    def event(self, obj: dict[str, Any], emit: Any) -> None:
        kind = obj["type"]
        name = kind
        if kind == "system":
            subtype = obj.get("subtype")
            name = "compaction" if subtype == "compact_boundary" else str(subtype or "system")
            uid, logical = obj.get("uuid"), obj.get("logicalParentUuid")
            if subtype == "compact_boundary" and isinstance(uid, str):
                self.boundaries[uid] = logical if isinstance(logical, str) else ""
        data = {
            k: v for k, v in obj.items() if k not in COMMON_KEYS and k not in ("type", "timestamp")
        }
        meta = {k: v for k, v in obj.items() if k in COMMON_KEYS}
        meta["record"] = kind
        emit("event", meta, name=name, data=data)

    def pending_summary(self, summary: Entry, obj: dict[str, Any]) -> None:
        """The span a compaction summary covers (set now: everything it covers came before)."""
        spoken = [e for e in self.stream.entries if e["type"] != "event"]
        if not spoken:
            return
        first = spoken[0]["id"]
        last = spoken[-1]["id"]
        parent = obj.get("parentUuid")
        logical = self.boundaries.get(parent) if isinstance(parent, str) else None
        if logical:
            made = self.stream.by_uuid.get(logical)
            if made:
                last = made[-1]["id"]
        summary["first"] = first
        summary["last"] = last


# -- the tree: active branch, rewinds -------------------------------------------------------


def _mark_branches(stream: _Stream, main: bool) -> None:
    """Flag the entries off the active branch with ``meta.inactive``."""
    nodes: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for rec in stream.records:
        uid = rec.obj.get("uuid")
        if isinstance(uid, str) and uid and uid not in nodes:
            nodes[uid] = rec.obj
            order.append(uid)
    if not nodes:
        return

    def parent_of(obj: dict[str, Any]) -> str | None:
        seen: set[str] = set()
        parent = obj.get("parentUuid")
        while isinstance(parent, str) and parent in nodes and parent not in seen:
            node = nodes[parent]
            if node.get("type") != "progress":
                return parent
            seen.add(parent)
            parent = node.get("parentUuid")
        return parent if isinstance(parent, str) and parent in nodes else None

    def chained(obj: dict[str, Any]) -> bool:
        return obj.get("type") in CHAIN_TYPES and (not main or not obj.get("isSidechain"))

    leaf = None
    last_index = -1
    for index, rec in enumerate(stream.records):
        obj = rec.obj
        uid = obj.get("uuid")
        if isinstance(uid, str) and uid in nodes and chained(obj):
            leaf, last_index = uid, index
    explicit = None
    for rec in stream.records[last_index + 1 :]:
        obj = rec.obj
        if obj.get("type") == "last-prompt" and obj.get("explicit") and obj.get("leafUuid"):
            explicit = obj["leafUuid"]
    if isinstance(explicit, str) and explicit in nodes:
        leaf = explicit
    if leaf is None:
        return
    # back to the nearest user or assistant record, as Claude Code does
    walk: str | None = leaf
    seen: set[str] = set()
    while walk is not None and walk not in seen:
        seen.add(walk)
        if nodes[walk].get("type") in ("user", "assistant"):
            leaf = walk
            break
        walk = parent_of(nodes[walk])

    active: set[str] = set()
    walk = leaf
    while walk is not None and walk not in active:
        active.add(walk)
        obj = nodes[walk]
        parent = parent_of(obj)
        if parent is None and obj.get("type") == "system":
            logical = obj.get("logicalParentUuid")
            parent = logical if isinstance(logical, str) and logical in nodes else None
        walk = parent
    # what Claude Code adds back: the other lines of each API message, and their results
    by_message: dict[str, list[str]] = {}
    results_under: dict[str, list[str]] = {}
    for uid in order:
        obj = nodes[uid]
        if obj.get("type") == "assistant":
            mid = obj["message"].get("id")
            if isinstance(mid, str) and mid:
                by_message.setdefault(mid, []).append(uid)
        elif obj.get("type") == "user" and isinstance(obj["message"].get("content"), list):
            parent = parent_of(obj)
            if parent and any(
                isinstance(b, dict) and b.get("type") == "tool_result"
                for b in obj["message"]["content"]
            ):
                results_under.setdefault(parent, []).append(uid)
    for uid in list(active):
        obj = nodes[uid]
        if obj.get("type") != "assistant":
            continue
        mid = obj["message"].get("id")
        for sibling in by_message.get(mid, []) if isinstance(mid, str) else []:
            active.add(sibling)
            active.update(results_under.get(sibling, []))
    # everything else: user/assistant records are off the branch; others follow their parent
    status: dict[str, bool] = {}

    def is_active(uid: str) -> bool:
        chain: list[str] = []
        walk: str | None = uid
        result = True
        while walk is not None:
            if walk in status:
                result = status[walk]
                break
            if walk in active:
                result = True
                status[walk] = True
                break
            obj = nodes[walk]
            if obj.get("type") in ("user", "assistant") or (main and obj.get("isSidechain")):
                result = False
                status[walk] = False
                break
            chain.append(walk)
            walk = parent_of(obj)
            if walk in chain:
                break
        for item in chain:
            status[item] = result
        return result

    for uid in order:
        if main and nodes[uid].get("isSidechain"):
            continue
        if not is_active(uid):
            for entry in stream.by_uuid.get(uid, []):
                entry["meta"]["inactive"] = True


# -- the whole conversation -------------------------------------------------------------------


def parse_window(
    path: Path, start: int, limit: int, before: dict[str, str], known: set[str] | None = None
) -> tuple[Conversation | None, int, dict[str, str]]:
    """The records of ``path`` in the whole lines from byte ``start`` on, about ``limit``
    bytes of them (a longer line is read whole): for capturing a transcript too large to
    read at once, a part per turn, in bounded memory. Returns the conversation of those
    records (None if no whole line is there yet), where the next part starts, and the last
    entry of each of the part's last records by uuid: ``before`` of the next part, whose
    first records name them as parents. Entry ids are those a whole import gives (from the
    records' uuids); subagents' own files are not read. ``known``: the ids of the earlier
    parts, so a record seen again gets the id a whole import gives it.
    """
    data = read_whole_lines(path, start, limit)
    if not data:
        return None, start, before
    conversation = _parse(path, data, before, known)
    return conversation, start + len(data), conversation.meta.pop("last_records", {})


def _parse(
    path: Path,
    data: bytes | None = None,
    before: dict[str, str] | None = None,
    known: set[str] | None = None,
) -> Conversation:
    records, note = _read(path, data=data)
    if not any(rec.obj["type"] in KNOWN_TYPES for rec in records):
        raise FormatError(f"{path}: no Claude Code records in it")
    session_id = next(
        (
            rec.obj["sessionId"]
            for rec in records
            if isinstance(rec.obj.get("sessionId"), str) and not rec.obj.get("isSidechain")
        ),
        None,
    ) or next(
        (rec.obj["sessionId"] for rec in records if isinstance(rec.obj.get("sessionId"), str)),
        None,
    )
    fallback_ts = file_mtime_ts(path)
    main_records = records
    sidechains: dict[str, list[_Record]] = {}
    has_main = any(
        rec.obj["type"] in ("user", "assistant") and not rec.obj.get("isSidechain")
        for rec in records
    )
    if has_main:
        main_records = []
        for rec in records:
            if rec.obj.get("isSidechain") and rec.obj["type"] in ("user", "assistant", "system"):
                agent = rec.obj.get("agentId")
                sidechains.setdefault(agent if isinstance(agent, str) else "sidechain", []).append(
                    rec
                )
            else:
                main_records.append(rec)
    main = _Stream(path, main_records)
    _Builder(main, fallback_ts, known).run()
    _mark_branches(main, main=has_main)

    subs: list[_Stream] = []
    for agent, recs in sidechains.items():
        subs.append(_Stream(path, recs, prefix=_agent_prefix(agent), agent=agent))
    notes: dict[str, Any] = {"partial_last_line": note} if note else {}
    partial_subagents: dict[str, str] = {}
    agent_files = _subagent_files(path, session_id if has_main else None) if data is None else []
    for agent_file in agent_files:
        recs, sub_note = _read(agent_file, required=False)
        if sub_note:
            partial_subagents[agent_file.name] = sub_note
            notes["partial_subagent_lines"] = partial_subagents
        agent = next(
            (rec.obj["agentId"] for rec in recs if isinstance(rec.obj.get("agentId"), str)),
            agent_file.name[len("agent-") : -len(".jsonl")],
        )
        stream = _Stream(agent_file, recs, prefix=_agent_prefix(agent), agent=agent)
        meta_path = agent_file.with_name(agent_file.name[: -len(".jsonl")] + ".meta.json")
        if meta_path.is_file():
            try:
                loaded = json.loads(meta_path.read_bytes())
            except (OSError, ValueError, RecursionError):
                loaded = None
            stream.meta_file = loaded if isinstance(loaded, dict) else None
        subs.append(stream)
    for stream in subs:
        _Builder(stream, main.start_ts or fallback_ts).run()
        _mark_branches(stream, main=False)
        if stream.meta_file and stream.entries:
            stream.entries[0]["meta"]["agent_meta"] = stream.meta_file

    _link_parents(main, before or {})
    for stream in subs:
        _link_parents(stream)
    entries = _assemble(main, subs)
    if data is not None:  # a part of the file: what the next part's first records need
        notes["last_records"] = {
            uid: made[-1]["id"] for uid, made in list(main.by_uuid.items())[-64:] if made
        }

    conversation_meta: dict[str, Any] = dict(notes)
    version = next(
        (
            rec.obj["version"]
            for rec in reversed(records)
            if isinstance(rec.obj.get("version"), str)
        ),
        None,
    )
    if version:
        conversation_meta["version"] = version
    if subs:
        conversation_meta["subagents"] = [s.agent for s in subs]
    cwd = next((rec.obj["cwd"] for rec in records if isinstance(rec.obj.get("cwd"), str)), None)
    return Conversation(
        agent=NAME,
        entries=entries,
        title=_title(main_records, main.by_uuid),
        native_id=session_id,
        cwd=cwd,
        meta=conversation_meta,
    )


def _agent_prefix(agent: str) -> str:
    return _SLUG_RE.sub("-", agent)[:40] + "."


def _title(records: list[_Record], uuids: dict[str, list[Entry]]) -> str | None:
    custom = ai = linked = any_summary = None
    for rec in records:
        obj = rec.obj
        kind = obj["type"]
        if kind == "custom-title" and isinstance(obj.get("customTitle"), str):
            custom = obj["customTitle"] or None
        elif kind == "ai-title" and isinstance(obj.get("aiTitle"), str):
            ai = obj["aiTitle"] or None
        elif kind == "summary" and isinstance(obj.get("summary"), str) and obj["summary"]:
            any_summary = obj["summary"]
            leaf = obj.get("leafUuid")
            if isinstance(leaf, str) and leaf in uuids:
                linked = obj["summary"]
    chosen = custom or ai or linked or any_summary
    return " ".join(chosen.split()) if chosen and chosen.strip() else None


def _link_parents(stream: _Stream, before: dict[str, str] | None = None) -> None:
    """``parent``: the last entry of the record a record names as its parent (``before``:
    of records in an earlier part of the file, by uuid)."""
    for rec in stream.records:
        uid = rec.obj.get("uuid")
        if not isinstance(uid, str):
            continue
        made = stream.by_uuid.get(uid)
        if not made:
            continue
        parent = rec.obj.get("parentUuid")
        if not isinstance(parent, str):
            parent = rec.obj.get("logicalParentUuid")
        found = stream.by_uuid.get(parent) if isinstance(parent, str) else None
        if found and found[-1] is not made[0]:
            made[0]["parent"] = found[-1]["id"]
        elif before and isinstance(parent, str) and parent in before:
            made[0]["parent"] = before[parent]
        for before, entry in itertools.pairwise(made):
            entry["parent"] = before["id"]


def _assemble(main: _Stream, subs: list[_Stream]) -> list[Entry]:
    """The session's entries with each subagent's placed after the call that started it."""
    if not subs:
        return main.entries
    streams = [main, *subs]
    calls: dict[str, tuple[int, Entry]] = {}
    for index, stream in enumerate(streams):
        for entry in stream.entries:
            if entry["type"] == "tool_call" and entry["call_id"]:
                calls.setdefault(entry["call_id"], (index, entry))
    by_result: dict[str, str] = {}
    by_progress: dict[str, str] = {}
    for stream in streams:
        for entry in stream.entries:
            meta = entry["meta"]
            if entry["type"] == "tool_result":
                result = meta.get("toolUseResult")
                if isinstance(result, dict) and isinstance(result.get("agentId"), str):
                    by_result.setdefault(result["agentId"], entry["call_id"])
            elif entry["type"] == "event" and meta.get("record") == "progress":
                data = entry["data"].get("data")
                tool = entry["data"].get("parentToolUseID")
                if (
                    isinstance(data, dict)
                    and isinstance(data.get("agentId"), str)
                    and isinstance(tool, str)
                ):
                    by_progress.setdefault(data["agentId"], tool)
    claimed: set[str] = set()
    anchors: dict[int, str] = {}
    for index, stream in enumerate(streams[1:], start=1):
        agent = stream.agent or ""
        candidates = []
        if stream.meta_file:
            candidates.append(stream.meta_file.get("toolUseId"))
        for rec in stream.records:
            if rec.obj["type"] == "agent_metadata":
                candidates.append(rec.obj.get("toolUseId"))
        candidates += [by_result.get(agent), by_progress.get(agent)]
        anchor = next(
            (
                c
                for c in candidates
                if isinstance(c, str) and c in calls and calls[c][0] != index and c not in claimed
            ),
            None,
        )
        if anchor is None:
            prompt = next(
                (
                    _text_of(e["content"])
                    for e in stream.entries
                    if e["type"] == "message" and e.get("role") == "user"
                ),
                None,
            )
            if prompt:
                anchor = next(
                    (
                        call_id
                        for call_id, (owner, call) in calls.items()
                        if owner != index
                        and call["name"] in TASK_TOOLS
                        and call_id not in claimed
                        and isinstance(call.get("input"), dict)
                        and call["input"].get("prompt") == prompt
                    ),
                    None,
                )
        if anchor is not None:
            claimed.add(anchor)
            anchors[index] = anchor
    # a subagent anchored (through others) to itself is placed by time instead
    for index in list(anchors):
        seen = {index}
        owner = calls[anchors[index]][0]
        while owner in anchors and owner not in seen:
            seen.add(owner)
            owner = calls[anchors[owner]][0]
        if owner != 0:
            del anchors[index]

    after_call: dict[str, list[int]] = {}
    for index, anchor in anchors.items():
        after_call.setdefault(anchor, []).append(index)
        first = streams[index].entries[0] if streams[index].entries else None
        if first is not None:
            first["parent"] = calls[anchor][1]["id"]
    for group in after_call.values():
        group.sort(key=lambda i: (_ts_key(streams[i].start_ts), streams[i].agent or ""))
    before: dict[int, list[int]] = {}
    clamp = next(
        (
            i + 1
            for i, e in enumerate(main.entries)
            if e["type"] == "message" and e.get("role") == "user"
        ),
        0,
    )
    timed = sorted(
        (i for i in range(1, len(streams)) if i not in anchors),
        key=lambda i: (_ts_key(streams[i].start_ts), streams[i].agent or ""),
    )
    for index in timed:
        start = _ts_key(streams[index].start_ts)
        position = next(
            (i for i in range(clamp, len(main.entries)) if _ts_key(main.entries[i]["ts"]) > start),
            len(main.entries),
        )
        before.setdefault(position, []).append(index)

    out: list[Entry] = []

    def emit(index: int) -> None:
        stream = streams[index]
        for position, entry in enumerate(stream.entries):
            if index == 0:
                for sub in before.get(position, []):
                    emit(sub)
            out.append(entry)
            if entry["type"] == "tool_call":
                for sub in after_call.get(entry["call_id"], []):
                    emit(sub)
        if index == 0:
            for sub in before.get(len(stream.entries), []):
                emit(sub)

    emit(0)
    return out


# -- writing: resume inside Claude Code ------------------------------------------------------


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _project_key(cwd: str) -> str:
    """Claude Code's folder name for a project: every non-alphanumeric UTF-16 unit a '-'.

    Names longer than 200 characters are cut to 200 and given ``-<hash>``, the hash being
    JavaScript's 32-bit string hash of the path in base 36, as Claude Code does.
    """
    units = _utf16_units(cwd)
    key = "".join(
        chr(u) if u < 128 and (chr(u).isascii() and chr(u).isalnum()) else "-" for u in units
    )
    if len(key) <= 200:
        return key
    value = 0
    for unit in units:
        value = (value * 31 + unit) & 0xFFFFFFFF
    if value >= 1 << 31:
        value -= 1 << 32
    return f"{key[:200]}-{_base36(abs(value))}"


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def transcript_dir(cwd: Path, config_dir: Path | None = None) -> Path:
    """Where Claude Code keeps the transcripts of the project at ``cwd``.

    ``$CLAUDE_CONFIG_DIR`` (else ``~/.claude``) ``/projects/`` and the absolute cwd with
    every character that is not an ASCII letter or digit replaced by ``-``. The cwd is
    taken with symlinks resolved, as the process's working directory that Claude Code
    reads is.
    """
    if config_dir is None:
        env = os.environ.get("CLAUDE_CONFIG_DIR")
        config_dir = Path(env).expanduser() if env else Path.home() / ".claude"
    return Path(config_dir) / "projects" / _project_key(os.path.realpath(str(cwd)))


def transcript_path(cwd: Path, session_uuid: str, config_dir: Path | None = None) -> Path:
    """The file ``claude --resume <session_uuid>`` reads when started in ``cwd``."""
    return transcript_dir(cwd, config_dir) / f"{session_uuid}.jsonl"


def new_session_uuid() -> str:
    import uuid as uuidlib  # only for writing transcripts: importing it costs ~6 ms

    return str(uuidlib.uuid4())


def write_transcript(records: list[dict[str, Any]], path: Path) -> Path:
    """Write ``records`` as a new transcript at ``path`` (never over an existing one)."""
    return write_new_jsonl(records, path)


# Fields Claude Code writes after `uuid` and `timestamp` (its reader of big files expects
# `"uuid":"<36 characters>","timestamp":"` together).
AFTER_KEYS = ("toolUseResult", "sourceToolAssistantUUID")
_CALL_ID_BAD_RE = re.compile(r"[^A-Za-z0-9_-]")
_ZERO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


def _native(entry: Entry) -> bool:
    source = entry.get("source")
    return isinstance(source, dict) and source.get("format") == NAME


def _call_id(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return _CALL_ID_BAD_RE.sub("_", text) or "toolu_gitsess"


def _block(entry: Entry, block: dict[str, Any]) -> dict[str, Any]:
    """``block`` with the native block fields kept in ``meta.block`` put back."""
    extra = entry_meta(entry).get("block") if _native(entry) else None
    if isinstance(extra, dict):
        if "type" in extra:
            return dict(extra)
        block.update(extra)
    return block


def _user_parts(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else json.dumps(content, ensure_ascii=False)
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, dict) and part.get("type") in ("text", "image", "document"):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        else:
            parts.append({"type": "text", "text": json.dumps(part, ensure_ascii=False)})
    return parts


def _result_content(output: Any) -> Any:
    if isinstance(output, str):
        return output
    if isinstance(output, list) and all(
        isinstance(p, dict) and p.get("type") in ("text", "image", "document") for p in output
    ):
        return output
    return "" if output is None else json.dumps(output, ensure_ascii=False)


def to_transcript(entries: list[Entry], session_uuid: str, cwd: str) -> list[dict[str, Any]]:
    """Claude Code records for ``entries``, such that ``claude --resume <uuid>`` loads them.

    The active conversation only: entries flagged ``meta.inactive`` (rewound) or
    ``meta.subagent`` are left out (a subagent's work reaches the conversation through its
    Task tool result), and so are events (but ``compaction``), commits, reasoning that
    carries no Claude ``signature`` (the API rejects thinking blocks it did not sign) and
    empty assistant text. Every record is one line with one content block, chained by
    ``parentUuid``, uuids derived from ``session_uuid`` and the entry id (writing twice
    gives the same file). Consecutive assistant entries form one API message: the native
    ``message.id`` when the entries came from Claude Code, else a made-up one; tool
    results become user lines (with ``toolUseResult`` when known). Injected and
    ``system`` messages become ``isMeta`` user lines; a summary becomes a
    ``compact_boundary`` and an ``isCompactSummary`` user line, so Claude Code resumes from
    the summary as after its own compaction. Tool call ids are kept when Claude accepts
    them (letters, digits, ``_``, ``-``), else rewritten the same way for call and result;
    tool inputs that are not objects are sent as ``{"input": ...}``; outputs that are not
    text or content blocks are sent as JSON text.
    """
    import uuid as uuidlib

    records: list[dict[str, Any]] = []
    namespace = uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"gitsess:claude-code:{session_uuid}")
    previous: str | None = None
    group_id: str | None = None  # the API message id of the assistant lines being written
    group_native = False
    tool_lines: dict[str, str] = {}
    last_boundary = False

    def new_uuid(entry: Entry, part: str = "") -> str:
        return str(uuidlib.uuid5(namespace, f"{entry.get('id')}{part}"))

    def line(entry: Entry, kind: str, uid: str, **fields: Any) -> dict[str, Any]:
        nonlocal previous
        meta = entry_meta(entry) if _native(entry) else {}
        record: dict[str, Any] = {"parentUuid": previous}
        if "logicalParentUuid" in fields:
            record["logicalParentUuid"] = fields.pop("logicalParentUuid")
            record["parentUuid"] = None
        record.update(isSidechain=False, userType="external", cwd=cwd, sessionId=session_uuid)
        for key in ("version", "gitBranch"):
            if isinstance(meta.get(key), str):
                record[key] = meta[key]
        record["type"] = kind
        after = {k: fields.pop(k) for k in AFTER_KEYS if k in fields}
        record.update(fields)
        record["uuid"] = uid
        ts = entry.get("ts")
        if not isinstance(ts, str) or not ts:
            from ..ids import now

            ts = records[-1]["timestamp"] if records else now()
        record["timestamp"] = ts
        record.update(after)
        previous = uid
        records.append(record)
        return record

    def user(entry: Entry, content: Any, **extra: Any) -> dict[str, Any]:
        nonlocal group_id, last_boundary
        group_id = None
        last_boundary = False
        return line(
            entry, "user", new_uuid(entry), message={"role": "user", "content": content}, **extra
        )

    def assistant(entry: Entry, block: dict[str, Any]) -> None:
        nonlocal group_id, group_native, last_boundary
        last_boundary = False
        meta = entry_meta(entry) if _native(entry) else {}
        found = meta.get("message")
        native_message: dict[str, Any] = found if isinstance(found, dict) else {}
        native_id = native_message.get("id")
        if isinstance(native_id, str) and native_id:
            group_id, group_native = native_id, True
        elif group_id is None or group_native:
            digest = hashlib.sha1(
                f"{session_uuid}:{entry.get('id')}".encode("utf-8", "surrogatepass")
            ).hexdigest()
            group_id, group_native = f"msg_gitsess_{digest[:24]}", False
        message: dict[str, Any] = {
            "id": group_id,
            "type": "message",
            "role": "assistant",
            "model": entry.get("model") if isinstance(entry.get("model"), str) else "<synthetic>",
            "content": [block],
            "stop_reason": native_message.get("stop_reason"),
            "stop_sequence": native_message.get("stop_sequence"),
            "usage": native_message.get("usage") or dict(_ZERO_USAGE),
        }
        fields: dict[str, Any] = {"message": message}
        if isinstance(meta.get("requestId"), str):
            fields = {"message": message, "requestId": meta["requestId"]}
        record = line(entry, "assistant", new_uuid(entry), **fields)
        if block.get("type") == "tool_use":
            tool_lines[block["id"]] = record["uuid"]

    def boundary(entry: Entry, data: dict[str, Any]) -> None:
        nonlocal group_id, last_boundary
        group_id = None
        fields: dict[str, Any] = {
            "logicalParentUuid": previous,
            "subtype": "compact_boundary",
            "content": data.get("content", "Conversation compacted"),
            "isMeta": False,
            "level": data.get("level", "info"),
            "compactMetadata": data.get("compactMetadata", {"trigger": "manual", "preTokens": 0}),
        }
        line(entry, "system", new_uuid(entry, ":boundary"), **fields)
        last_boundary = True

    for entry in entries:
        meta = entry_meta(entry)
        if meta.get("inactive") or meta.get("subagent"):
            continue
        kind = entry.get("type")
        if kind == "message":
            role = entry.get("role")
            content = entry.get("content")
            if role == "assistant":
                if isinstance(content, str):
                    if content.strip():
                        assistant(entry, _block(entry, {"type": "text", "text": content}))
                    continue
                parts = content if isinstance(content, list) else []
                if _native(entry) and len(parts) == 1 and isinstance(parts[0], dict):
                    assistant(entry, parts[0])
                    continue
                text = "\n\n".join(
                    str(p.get("text")) if isinstance(p, dict) and "text" in p else json.dumps(p)
                    for p in parts
                )
                if text.strip():
                    assistant(entry, {"type": "text", "text": text})
            elif role == "system" or meta.get("injected"):
                user(entry, _user_parts(content), isMeta=True)
            else:
                user(entry, _user_parts(content))
        elif kind == "reasoning":
            block = meta.get("block") if _native(entry) else None
            if isinstance(block, dict) and block.get("type") == "redacted_thinking":
                assistant(entry, dict(block))
            elif isinstance(block, dict) and isinstance(block.get("signature"), str):
                content = entry.get("content")
                text = content if isinstance(content, str) else json.dumps(content)
                assistant(entry, _block(entry, {"type": "thinking", "thinking": text}))
        elif kind == "tool_call":
            call_id = _call_id(entry.get("call_id"))
            tool_input = entry.get("input")
            if not isinstance(tool_input, dict):
                tool_input = {"input": tool_input}
            block = {
                "type": "tool_use",
                "id": call_id,
                "name": str(entry.get("name")),
                "input": tool_input,
            }
            extra = meta.get("block") if _native(entry) else None
            if isinstance(extra, dict) and "type" in extra:
                block = dict(extra)
                block["id"] = call_id
            elif isinstance(extra, dict):
                block.update(extra)
            assistant(entry, block)
        elif kind == "tool_result":
            extra = meta.get("block") if _native(entry) else None
            if isinstance(extra, dict) and "type" in extra:  # a server tool's result
                assistant(entry, dict(extra))
                continue
            call_id = _call_id(entry.get("call_id"))
            block = {
                "tool_use_id": call_id,
                "type": "tool_result",
                "content": _result_content(entry.get("output")),
                "is_error": bool(entry.get("is_error")),
            }
            if isinstance(extra, dict):
                block.update(extra)
            fields: dict[str, Any] = {}
            if _native(entry) and "toolUseResult" in meta:
                fields["toolUseResult"] = meta["toolUseResult"]
            if call_id in tool_lines:
                fields["sourceToolAssistantUUID"] = tool_lines[call_id]
            user(entry, [block], **fields)
        elif kind == "event" and entry.get("name") == "compaction":
            data = entry.get("data")
            boundary(entry, data if isinstance(data, dict) else {})
        elif kind == "summary":
            if not last_boundary:
                boundary(entry, {})
            content = entry.get("content")
            text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            user(entry, text, isVisibleInTranscriptOnly=True, isCompactSummary=True)
    return records


FORMAT = ClaudeCode()
