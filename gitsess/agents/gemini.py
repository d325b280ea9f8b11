"""Gemini CLI chats: the legacy single-JSON file and the current JSONL log.

Gemini CLI keeps one file per chat in ``~/.gemini/tmp/<project hash>/chats/``.

Legacy layout (``session-<time>-<short id>.json``), rewritten whole on every
change: one JSON object ``{sessionId, projectHash, startTime, lastUpdated,
summary?, messages: [...]}``.

Current layout (``session-<time>-<short id>.jsonl``), appended to. Records, one
per line, told apart as Gemini CLI's own loader does:

- ``{"$rewindTo": "<message id>"}``: the conversation is rewound to just
  before that message: it and every message after it leave the conversation.
  When the id is unknown, every message so far leaves it.
- a message: any object with a string ``id`` (fields below). A message whose
  id was already seen *replaces* the earlier record in place (Gemini CLI
  re-appends a message whenever its tool calls, results or tokens change).
- ``{"$set": {...}}``: a metadata update merged into the session (``summary``,
  ``lastUpdated``, ``directories``, ``memoryScratchpad``...). A ``$set`` of
  ``messages`` is a snapshot of the model's history (after compression or
  output masking): messages it names that were already recorded keep their
  recorded form (the snapshot's may be masked); messages it adds are imported
  as new entries with ``meta.synthetic: true`` (function-call and -response
  parts of calls already imported are left out of them).
- the metadata line: an object with string ``sessionId`` and ``projectHash``
  (also ``startTime``, ``lastUpdated``, ``kind``, ``directories``, ``summary``).
- any other object: kept as an ``event`` named ``record`` (``data.record``),
  id ``gemini:L<line>``.

Message fields relied on: ``id``, ``timestamp``, ``type`` (``user``, ``gemini``,
``info``, ``error``, ``warning``), ``content`` (a string or Gemini parts:
``{"text"}``, ``{"inlineData": {mimeType, data}}``, ...), and on ``gemini``
messages ``thoughts`` (``[{subject, description, timestamp}]``), ``toolCalls``
(``[{id, name, args, result, status, timestamp, ...}]``), ``tokens`` and
``model``. Anything else a message carries is kept in the entry's ``meta``.

Entries (``source.id`` is always the Gemini message id):

- ``user`` -> ``message`` role user, id = the message id.
- ``gemini`` -> one ``reasoning`` per thought (id ``<message id>:<k>``,
  content = the description, ``meta.subject``), then a ``message`` role
  assistant with the text (id = the message id; left out when the text is
  empty and the message has thoughts or tool calls), then per tool call a
  ``tool_call`` (id and ``call_id`` = the tool call id) and, once it has a
  result or a final status, a ``tool_result`` (id ``<call id>:1``). The output
  is the function response's ``output`` (or ``error``) when that is all it
  holds, else the whole ``result``; ``is_error`` when the status is ``error``
  or ``cancelled`` or the response holds an ``error``. ``tokens`` go to the
  ``meta`` of the message entry (or the first entry of the record).
- ``info``, ``error``, ``warning`` (CLI notices, not part of the model's
  conversation) -> ``event`` named after the type, ``data: {"content": ...}``.

Rewound messages stay in the log, in place, with ``meta.inactive: true`` on
each of their entries; the conversation continues after them. A message id
seen again after its message was rewound starts a new message (entry ids
``<message id>:r<n>``). Ids that are not valid entry ids are hashed.

A JSONL line that is not JSON is an error, except the last line when it has no
newline (a writer killed mid-line): that partial record is skipped as long as
a message was read before it. A legacy file must parse whole.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ids import normalize_ts
from .base import (
    AgentFormat,
    Conversation,
    Entry,
    FormatError,
    decode_text,
    mtime_ts,
    read_transcript,
)

FORMAT_NAME = "gemini"
_FIRST_KEY = re.compile(rb'\{\s*"(?:sessionId|projectHash)"\s*:')
_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}\Z")
_NOTICE_TYPES = ("info", "error", "warning")
_MESSAGE_KEYS = frozenset(
    ("id", "timestamp", "type", "content", "thoughts", "toolCalls", "tokens", "model")
)
_CALL_KEYS = frozenset(("id", "name", "args", "result", "status", "timestamp", "resultDisplay"))
_FINAL_STATUSES = ("success", "error", "cancelled")


class Gemini(AgentFormat):
    name = FORMAT_NAME
    description = "Gemini CLI chat (~/.gemini/tmp/<project>/chats/session-*.json or .jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head.lstrip()[:4096]
        if not _FIRST_KEY.match(text):
            return False
        return b'"sessionId"' in text and b'"projectHash"' in text

    def parse(self, path: Path) -> Conversation:
        data, mtime = read_transcript(path)
        first_line = data.lstrip().split(b"\n", 1)[0]
        try:
            first = json.loads(first_line)
        except (ValueError, RecursionError):
            first = None
        if isinstance(first, dict) and "messages" not in first:
            layout = "jsonl"
            meta, slots = _read_jsonl(path, data)
        else:
            layout = "json"
            meta, slots = _read_legacy(path, data)
        entries = _Builder(mtime_ts(mtime)).build(slots)
        session_id = meta.get("sessionId")
        summary = meta.get("summary")
        info = {
            key: meta[key]
            for key in ("projectHash", "startTime", "lastUpdated", "kind", "directories")
            if meta.get(key) is not None
        }
        info["layout"] = layout
        return Conversation(
            agent=FORMAT_NAME,
            entries=entries,
            title=summary.strip() if isinstance(summary, str) and summary.strip() else None,
            native_id=session_id if isinstance(session_id, str) else None,
            meta=info,
        )


FORMAT = Gemini()


# -- reading -------------------------------------------------------------------


@dataclass
class _Slot:
    """One message of the conversation, in the order it was first recorded."""

    native: str
    occurrence: int
    record: dict[str, Any]
    active: bool = True
    synthetic: bool = False
    position: int = 0  # its place in the active conversation while it is active


def _read_legacy(path: Path, data: bytes) -> tuple[dict[str, Any], list[_Slot]]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "line 1"
        raise FormatError(f"{path}: {where}: not valid JSON (truncated?)") from None
    if not isinstance(value, dict) or not isinstance(value.get("messages"), list):
        raise FormatError(f"{path}: line 1: not a Gemini CLI chat (no 'messages' list)")
    if not isinstance(value.get("sessionId"), str):
        raise FormatError(f"{path}: line 1: not a Gemini CLI chat (no 'sessionId')")
    slots: list[_Slot] = []
    seen: dict[str, int] = {}
    for index, message in enumerate(value["messages"]):
        if not isinstance(message, dict) or not isinstance(message.get("id"), str):
            raise FormatError(f"{path}: message {index + 1} is not a message with an id")
        native = message["id"]
        occurrence = seen.get(native, -1) + 1
        seen[native] = occurrence
        slots.append(_Slot(native, occurrence, message))
    meta = {k: v for k, v in value.items() if k != "messages"}
    return meta, slots


class _Log:
    """The state of a JSONL chat as its records are replayed."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.slots: list[_Slot] = []
        self.current: dict[str, _Slot] = {}  # latest slot of each message id
        self.occurrences: dict[str, int] = {}
        self.active: list[_Slot] = []

    def message(self, record: dict[str, Any], synthetic: bool = False) -> None:
        native = record["id"]
        slot = self.current.get(native)
        if slot is not None and slot.active:
            if not synthetic:
                slot.record = record
            return
        occurrence = self.occurrences.get(native, -1) + 1
        self.occurrences[native] = occurrence
        slot = _Slot(native, occurrence, record, synthetic=synthetic, position=len(self.active))
        self.slots.append(slot)
        self.current[native] = slot
        self.active.append(slot)

    def rewind(self, native: str) -> None:
        slot = self.current.get(native)
        # The active conversation only grows at its end and is cut at a point,
        # so an active message's position in it never changes.
        cut = slot.position if slot is not None and slot.active else 0
        for gone in self.active[cut:]:
            gone.active = False
        del self.active[cut:]

    def update(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key == "messages":
                if isinstance(value, list):
                    self.snapshot(value)
                continue
            self.meta[key] = value

    def snapshot(self, messages: list[Any]) -> None:
        known_calls = {
            call.get("id")
            for slot in self.slots
            for call in slot.record.get("toolCalls") or []
            if isinstance(call, dict)
        }
        for message in messages:
            if not isinstance(message, dict) or not isinstance(message.get("id"), str):
                continue
            slot = self.current.get(message["id"])
            if slot is not None and slot.active:
                continue
            content = message.get("content")
            if isinstance(content, list):
                kept = [p for p in content if not _is_known_call_part(p, known_calls)]
                if not kept and content:
                    continue
                message = {**message, "content": kept}
            self.message(message, synthetic=True)


def _is_known_call_part(part: Any, known: set[Any]) -> bool:
    if not isinstance(part, dict):
        return False
    for key in ("functionCall", "functionResponse"):
        inner = part.get(key)
        if isinstance(inner, dict) and inner.get("id") in known:
            return True
    return False


def _read_jsonl(path: Path, data: bytes) -> tuple[dict[str, Any], list[_Slot]]:
    log = _Log()
    text = decode_text(path, data)
    lines = text.split("\n")
    complete = text.endswith("\n")
    last = len(lines)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            if number == last and not complete and log.slots:
                break  # a record cut off mid-line by a writer that was killed
            raise FormatError(f"{path}: line {number} is not JSON") from None
        if not isinstance(record, dict):
            raise FormatError(f"{path}: line {number} is not a JSON object")
        rewind = record.get("$rewindTo")
        if isinstance(rewind, str):
            log.rewind(rewind)
        elif isinstance(record.get("id"), str):
            log.message(record)
        elif isinstance(record.get("$set"), dict):
            log.update(record["$set"])
        elif isinstance(record.get("sessionId"), str) and isinstance(
            record.get("projectHash"), str
        ):
            log.meta.update(record)
        else:
            # Unknown record: kept as an event so nothing is lost.
            log.message({"id": f"gemini:L{number}", "type": "record", "content": record})
    if not isinstance(log.meta.get("sessionId"), str):
        raise FormatError(f"{path}: line 1: no Gemini CLI session metadata (sessionId)")
    return log.meta, log.slots


# -- building entries ------------------------------------------------------------


class _Builder:
    def __init__(self, first_ts: str) -> None:
        self.ts = first_ts
        self.used: set[str] = set()
        self.entries: list[Entry] = []

    def build(self, slots: list[_Slot]) -> list[Entry]:
        for slot in slots:
            start = len(self.entries)
            self.convert(slot)
            if not slot.active or slot.synthetic:
                for entry in self.entries[start:]:
                    meta = entry.setdefault("meta", {})
                    if not slot.active:
                        meta["inactive"] = True
                    if slot.synthetic:
                        meta["synthetic"] = True
        return self.entries

    def unique(self, candidate: str) -> str:
        if not _ID_RE.match(candidate):
            import hashlib

            candidate = (
                "gemini-"
                + hashlib.sha1(candidate.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            )
        found, n = candidate, 1
        while found in self.used:
            n += 1
            found = f"{candidate}:{n}"
        self.used.add(found)
        return found

    def stamp(self, value: Any) -> str:
        ts = _norm_ts(value)
        if ts is not None:
            self.ts = ts
        return self.ts

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        return entry

    def convert(self, slot: _Slot) -> None:
        record = slot.record
        native = slot.native
        base = native if slot.occurrence == 0 else f"{native}:r{slot.occurrence}"
        base_id = self.unique(base)
        source: dict[str, str] = {"format": FORMAT_NAME, "id": native}
        kind = record.get("type")
        ts = self.stamp(record.get("timestamp"))
        extra = {k: v for k, v in record.items() if k not in _MESSAGE_KEYS}
        content = _content(record.get("content"))
        entry: Entry
        if kind == "user":
            entry = {"id": base_id, "ts": ts, "type": "message", "role": "user"}
            entry["content"] = content
            entry["source"] = source
            if extra:
                entry["meta"] = extra
            self.add(entry)
            return
        if kind != "gemini":
            data: dict[str, Any] = {"content": content}
            if kind == "record":  # an unknown JSONL record, kept whole
                data = {"record": record.get("content")}
            entry = {"id": base_id, "ts": ts, "type": "event"}
            entry["name"] = kind if isinstance(kind, str) and kind else "unknown"
            entry["data"] = data
            entry["source"] = source
            if extra:
                entry["meta"] = extra
            self.add(entry)
            return
        model = record.get("model")
        first = len(self.entries)
        main: Entry | None = None
        thoughts = record.get("thoughts") or []
        for k, thought in enumerate(thoughts if isinstance(thoughts, list) else [], start=1):
            if isinstance(thought, dict):
                text = thought.get("description", "")
                tmeta = {
                    k2: v for k2, v in thought.items() if k2 not in ("description", "timestamp")
                }
            else:
                text, tmeta = thought, {}
            entry = {
                "id": self.unique(f"{base}:{k}"),
                "ts": self.stamp(thought.get("timestamp") if isinstance(thought, dict) else None),
                "type": "reasoning",
                "content": text,
                "source": source,
            }
            if model:
                entry["model"] = model
            if tmeta:
                entry["meta"] = tmeta
            self.add(entry)
        calls = record.get("toolCalls") or []
        if not isinstance(calls, list):
            calls = []
        if content != "" or (len(self.entries) == first and not calls):
            main = {"id": base_id, "ts": ts, "type": "message", "role": "assistant"}
            main["content"] = content
            main["source"] = source
            if model:
                main["model"] = model
            self.add(main)
        for call in calls:
            if not isinstance(call, dict):
                continue
            self.tool_call(call, source, model)
        if main is None and len(self.entries) > first:
            main = self.entries[first]
        if main is None:
            return
        if record.get("tokens") is not None:
            extra["tokens"] = record["tokens"]
        if extra:
            main.setdefault("meta", {}).update(extra)

    def tool_call(self, call: dict[str, Any], source: dict[str, str], model: Any) -> None:
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            call_id = f"{source['id']}:call{len(self.entries)}"
        status = call.get("status")
        entry: Entry = {
            "id": self.unique(call_id),
            "ts": self.stamp(call.get("timestamp")),
            "type": "tool_call",
            "name": str(call.get("name") or "unknown"),
            "input": call.get("args"),
            "call_id": call_id,
            "source": source,
        }
        if model:
            entry["model"] = model
        meta = {k: v for k, v in call.items() if k not in _CALL_KEYS}
        has_result = call.get("result") is not None or status in _FINAL_STATUSES
        if not has_result and status is not None:
            meta["status"] = status
        if meta:
            entry["meta"] = meta
        self.add(entry)
        if not has_result:
            return
        output, failed = _tool_output(call.get("result"), call_id)
        result: Entry = {
            "id": self.unique(f"{entry['id']}:1"),
            "ts": entry["ts"],
            "type": "tool_result",
            "call_id": call_id,
            "output": output,
            "is_error": failed or status in ("error", "cancelled"),
            "source": source,
        }
        rmeta: dict[str, Any] = {}
        if status is not None:
            rmeta["status"] = status
        if call.get("resultDisplay") is not None:
            rmeta["resultDisplay"] = call["resultDisplay"]
        if rmeta:
            result["meta"] = rmeta
        self.add(result)


def _tool_output(result: Any, call_id: str) -> tuple[Any, bool]:
    """The function response's output when that is all it holds, else the whole result."""
    parts = result if isinstance(result, list) else [result]
    if len(parts) == 1 and isinstance(parts[0], dict) and set(parts[0]) == {"functionResponse"}:
        response = parts[0]["functionResponse"]
        if isinstance(response, dict) and response.get("id") in (None, call_id):
            inner = response.get("response")
            if isinstance(inner, dict) and set(inner) == {"output"}:
                return inner["output"], False
            if isinstance(inner, dict) and set(inner) == {"error"}:
                return inner["error"], True
            failed = isinstance(inner, dict) and "error" in inner
            return result, failed
    return result, False


def _content(value: Any) -> Any:
    """Gemini content (a string or parts) as entry content: a string when it is all text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = value if isinstance(value, list) else [value]
    if all(
        isinstance(p, str)
        or (isinstance(p, dict) and set(p) == {"text"} and isinstance(p["text"], str))
        for p in parts
    ):
        return "".join(p if isinstance(p, str) else p["text"] for p in parts)
    return [_part(p) for p in parts]


def _part(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if not isinstance(part, dict):
        return {"type": "unknown", "value": part}
    if isinstance(part.get("text"), str):
        return {"type": "text", **part}
    inline = part.get("inlineData")
    if isinstance(inline, dict) and len(part) == 1:
        mime = str(inline.get("mimeType") or "")
        kind = "image" if mime.startswith("image/") else "file"
        return {"type": kind, "media_type": mime, "data": inline.get("data")}
    if len(part) == 1:
        key = next(iter(part))
        return {"type": key, key: part[key]}
    return {"type": "unknown", "part": part}


def _norm_ts(value: Any) -> str | None:
    return normalize_ts(value) if isinstance(value, str) else None
