"""Codex CLI rollouts: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl``.

Every line is ``{"timestamp", "type", "payload"}``; ``type`` is ``session_meta``,
``turn_context``, ``response_item`` (what the model saw: messages, reasoning, tool
calls and outputs), ``event_msg`` (what the UI saw) or ``compacted``. How they become
entries (docs/format.md), and the choices made:

Ids
    Records carry no ids, so an entry's id is ``codex-<last 12 characters of the session
    id>:<line number>``; a second entry made from one record gets ``:2``. Line numbers
    never change as Codex appends, so a grown file gives its old entries the same ids.
    ``source`` is ``{"format": "codex", "id": "<line number>"}``.

Messages: the two streams
    Codex writes user and assistant text twice: a ``response_item`` message and an
    ``event_msg`` (``user_message`` / ``agent_message``). The ``response_item`` is the
    authoritative one (it is what the model saw, with its content parts and ``phase``);
    its mirror is folded into the same entry (the event's other fields go to
    ``meta.event``, its line to ``meta.mirror_line``). Pairs are matched by role and
    text within a turn, in either order: Codex 0.125 writes the user's item before its
    event and the assistant's event before its item. The entry keeps the id of whichever
    of the two comes first in the file (so a capture taken between the two lines keeps
    its ids); its content comes from the item once the item is there. Text found in only
    one stream is imported from that stream.

Injected context
    Developer and system messages, and user-role messages that Codex injects
    (``<environment_context>``, ``# AGENTS.md instructions for …``, ``<user_instructions>``,
    ``<skill>``, ``<user_shell_command>``, ``<turn_aborted>``, ``<subagent_notification>``,
    ``<additional_context>``, Codex's own list) become ``message`` entries with role
    ``system``, ``meta.injected: true`` and ``meta.native_role``. The session's base
    instructions (``session_meta.base_instructions``) become such a message too, with
    ``meta.kind: "base_instructions"``. So the first ``user`` message is the real prompt.

Reasoning
    A ``reasoning`` item becomes a ``reasoning`` entry: ``content`` is its summary text
    (and raw reasoning text when present); ``meta`` keeps ``encrypted_content`` and the
    native ``summary`` / ``reasoning_content`` lists. Its UI mirrors (``agent_reasoning``
    events, one per summary part) are folded into it like messages: the first part's
    event is the entry, further parts stay entries of their own marked ``meta.summary_of``.

Tools
    ``function_call`` (``input`` = ``arguments`` parsed when it is JSON, else the raw
    string with ``meta.arguments_invalid``), ``custom_tool_call`` (``input`` = the raw
    string), ``local_shell_call`` and ``web_search_call`` (whose call id comes from the
    ``web_search_end`` event of the same search; Codex records no result for it) become
    ``tool_call``; ``function_call_output`` / ``custom_tool_call_output`` become
    ``tool_result`` with the same ``call_id``. ``meta.item_type`` keeps the native type.
    ``is_error`` is what the output says (a non-zero exit code; "Process running" is no
    error), or when it says nothing, whether the call's ``exec_command_end`` /
    ``patch_apply_end`` / ``mcp_tool_call_end`` event reports a failure.

Context and events
    ``turn_context`` becomes an ``event`` named ``turn_context`` (its payload as ``data``)
    and sets the ``model`` of the assistant messages, reasoning and tool calls after it; a
    change of model adds a ``model_change`` event. ``session_meta`` gives
    ``Conversation.native_id``, ``cwd`` and ``meta`` (CLI version, originator, source,
    model provider, git) and an ``event`` named ``session_meta`` holding the rest. Every
    other ``event_msg`` (token counts, task start and end, command ends, …) becomes an
    ``event`` named after its type, with ``meta.record`` naming the record type; unknown
    ``response_item`` types and unknown record types are kept the same way. A
    ``thread_name_updated`` event gives ``Conversation.title``.

Compaction
    A ``compacted`` record becomes a ``summary`` whose span (``first``/``last``) runs from
    the entry after the previous summary to the entry before it; ``meta`` keeps its
    ``replacement_history``. The ``context_compacted`` event that goes with it carries no
    text and stays an ``event``. A ``compaction`` response item (an encrypted, remote
    compaction) becomes a ``summary`` with empty content and the item in ``meta``.

Damaged files
    A line that is not JSON, or not a ``{type, payload}`` record, raises ``FormatError``
    naming the file and the line. The one exception is an unterminated last line that
    does not parse: a writer killed (or still writing) mid-line. It is skipped (noted in
    ``Conversation.meta["partial_last_line"]``) unless it is the only line.

Capture in parts
    ``parse_window`` reads a huge rollout a part at a time (``gitsess capture``). What a
    line needs from earlier ones is carried between parts as JSON in capture's state: the
    line number (ids), the id prefix and session meta, the model, the last timestamp, the
    summary span's first and last ids, the halves of message and reasoning pairs still
    waiting (ids and text, 64 of a kind), the mirrors of reasoning already made, web
    search call ids, the last 256 failed call ids. A part runs on past its size, up to
    twice it, to a line where none of its own entries waits for a mirror. A mirror whose
    entry an earlier part made is folded as a whole import folds it (no entry of its own)
    but what it would add to that entry (``meta.event``, ``mirror_line``, the item's
    fields, a user role) is not recorded, nor a failure an end event reports after the
    output of an earlier part: capture does not rewrite what it recorded.

Resume inside Codex: ``to_rollout`` turns entries (docs/format.md) back into rollout records,
``rollout_path`` / ``sessions_dir`` say where Codex looks for them.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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

FORMAT_NAME = "codex"
RECORD_TYPES = ("session_meta", "response_item", "event_msg", "turn_context", "compacted")

# A rollout line starts with its timestamp, then (after optional scalar fields such as a
# newer `ordinal`) the record type and its payload, as serde writes `RolloutLine`.
_SNIFF_RE = re.compile(
    rb'\A\s*\{\s*"timestamp"\s*:\s*"[^"\n]{0,64}"\s*,'
    rb'(?:\s*"[a-z_]{1,32}"\s*:\s*[^,"{}\[\]\n]{0,32},)*'
    rb'\s*"type"\s*:\s*"(?:session_meta|response_item|event_msg|turn_context|compacted)"'
    rb'\s*,\s*"payload"\s*:'
)
_UUID_IN_NAME_RE = re.compile(
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)

# Codex's own markers of context it injects as user-role messages (start, end).
_CONTEXT_FRAGMENTS = (
    ("# agents.md instructions for ", "</instructions>"),
    ("<environment_context>", "</environment_context>"),
    ("<user_instructions>", "</user_instructions>"),
    ("<skill>", "</skill>"),
    ("<user_shell_command>", "</user_shell_command>"),
    ("<turn_aborted>", "</turn_aborted>"),
    ("<subagent_notification>", "</subagent_notification>"),
    ("<additional_context>", "</additional_context>"),
)
# Exit codes as Codex's tools report them: unified exec's header, the shell tool's text
# form, and the JSON form `{"output": ..., "metadata": {"exit_code": N, ...}}`.
_EXIT_TEXT_RE = re.compile(r"^(?:Process exited with code|Exit code:)\s*(-?\d+)\s*$", re.M)
_EXIT_JSON_RE = re.compile(r'"metadata"\s*:\s*\{\s*"exit_code"\s*:\s*(-?\d+)')
# Timestamps that need no normalizing (days past the 28th go the careful way).
_UTC_TS_RE = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?Z\Z",
    re.ASCII,
)
_RUNNING_RE = re.compile(r"^Process running with session ID", re.M)

# Event kinds that mirror what a response item already says.
_MESSAGE_EVENTS = {"user_message": "user", "agent_message": "assistant"}
_REASONING_EVENTS = ("agent_reasoning", "agent_reasoning_raw_content")
_TURN_BOUNDARIES = ("task_started", "task_complete", "turn_aborted")
_CALL_TYPES = ("function_call", "custom_tool_call", "local_shell_call", "web_search_call")
_OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output")
_COMPACTION_ITEMS = ("compaction", "compaction_summary", "context_compaction")
_OPTIONAL_FIELDS = ("model", "first", "last")
_CARRIED = 64  # of each kind of waiting half a capture in parts keeps for the next part


class Codex(AgentFormat):
    name = FORMAT_NAME
    description = "Codex CLI rollout JSONL (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _SNIFF_RE.match(head) is not None

    windowed = True

    def parse(self, path: Path) -> Conversation:
        return _Parser(path).run()

    def parse_window(
        self, path: Path, start: int, limit: int, carry: dict[str, Any], known: set[str]
    ) -> tuple[Conversation | None, int, dict[str, Any]]:
        return parse_window(path, start, limit, carry)


FORMAT = Codex()


# -- reading ---------------------------------------------------------------------------


class _Parser:
    """One pass over a rollout file, building entries as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[Entry] = []
        self.prefix = ""
        self.native_id: str | None = None
        self.cwd: str | None = None
        self.title: str | None = None
        self.meta: dict[str, Any] = {}
        self.model: str | None = None
        self.last_ts: str | None = None
        self.line = 0
        self.count = 0  # entries made from the current record
        self.known = False  # a record of a known type was seen
        # Mirrors waiting for their other half, per (role, "item" | "event").
        self.pending: dict[tuple[str, str], list[tuple[Entry, str]]] = {}
        self.pending_reasoning: list[tuple[Entry, str, str]] = []
        self.reasoning_seen: list[tuple[str, str]] = []
        self.results: dict[str, Entry] = {}
        self.failed: dict[str, None] = {}  # call ids, in the order their failure was seen
        self.web_searches: list[tuple[str, Any, Any]] = []
        # The span of the next summary: the first entry after the previous one, the last.
        self.span_first: str | None = None
        self.last_id: str | None = None
        self.lines = 0  # lines read, blank ones too (a window's line numbers go on from it)

    # -- the pass ------------------------------------------------------------------------

    def run(self) -> Conversation:
        path = self.path
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise FormatError(f"cannot read {path}: {exc.strerror}") from None
        parsed = 0
        with handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except (ValueError, RecursionError):
                    if not raw.endswith(b"\n") and parsed:
                        # The writer is mid-line (or was killed there): not a record yet.
                        self.meta["partial_last_line"] = number
                        break
                    what = "is truncated" if not raw.endswith(b"\n") else "is not JSON"
                    raise FormatError(f"{path}: line {number} {what}") from None
                parsed += 1
                self.record(number, record)
        if not parsed:
            raise FormatError(f"{path}: empty file")
        if not self.known:
            raise FormatError(f"{path}: no Codex rollout records in it")
        return self.conversation()

    def conversation(self) -> Conversation:
        return Conversation(
            agent=FORMAT_NAME,
            entries=self.entries,
            title=self.title,
            native_id=self.native_id,
            cwd=self.cwd,
            meta=self.meta,
        )

    # -- a part of the file at a time (capture) ------------------------------------------

    def window(self, data: bytes, limit: int) -> int:
        """Read the whole lines of ``data`` (which ends with one), stopping at the first
        line end past ``limit`` where no entry of this part waits for its other half;
        returns the bytes read."""
        pos = 0
        while pos < len(data):
            end = data.index(b"\n", pos) + 1
            raw = data[pos:end]
            pos = end
            self.lines += 1
            if raw.strip():
                try:
                    record = json.loads(raw)
                except (ValueError, RecursionError):
                    raise FormatError(f"{self.path}: line {self.lines} is not JSON") from None
                self.record(self.lines, record)
            if pos >= limit and self.settled():
                break
        if self.lines and not self.known:
            raise FormatError(f"{self.path}: no Codex rollout records in it")
        return pos

    def settled(self) -> bool:
        """No message or reasoning entry of this part waits for its mirror: a mirror in a
        later part could not be folded into it (what was recorded is not rewritten)."""
        waiting = [entry for queue in self.pending.values() for entry, _ in queue]
        waiting += [entry for entry, _, _ in self.pending_reasoning]
        return not any("type" in entry for entry in waiting)  # stubs of earlier parts: no

    def carry(self) -> dict[str, Any]:
        """What the next part needs (JSON), a bounded amount: ids of the entries waiting
        for a mirror (no more than 64 of a kind), the last 256 failed calls, and so on."""
        return {
            "lines": self.lines,
            "prefix": self.prefix,
            "native_id": self.native_id,
            "cwd": self.cwd,
            "title": self.title,
            "meta": self.meta,
            "model": self.model,
            "last_ts": self.last_ts,
            "known": self.known,
            "span_first": self.span_first,
            "last_id": self.last_id,
            "pending": [
                [role, origin, entry["id"], text, bool(entry_meta(entry).get("injected"))]
                for (role, origin), queue in self.pending.items()
                for entry, text in queue[-_CARRIED:]
            ],
            "pending_reasoning": [
                [entry["id"], kind, text] for entry, kind, text in self.pending_reasoning
            ][-_CARRIED:],
            "reasoning_seen": [list(pair) for pair in self.reasoning_seen[-_CARRIED:]],
            "failed": list(self.failed)[-256:],
            "web_searches": [list(item) for item in self.web_searches[-_CARRIED:]],
        }

    def restore(self, carry: dict[str, Any]) -> None:
        """Go on from an earlier part. Entries it made are stubs here (only their ids):
        a mirror folded into one is not an entry again, as in a whole import, but what it
        would have added to it is not recorded."""
        if not carry:
            return
        self.lines = int(carry.get("lines") or 0)
        self.prefix = str(carry.get("prefix") or "")
        self.native_id = carry.get("native_id")
        self.cwd = carry.get("cwd")
        self.title = carry.get("title")
        self.meta = dict(carry.get("meta") or {})
        self.model = carry.get("model")
        self.last_ts = carry.get("last_ts")
        self.known = bool(carry.get("known"))
        self.span_first = carry.get("span_first")
        self.last_id = carry.get("last_id")
        for role, origin, entry_id, text, injected in carry.get("pending") or []:
            stub: Entry = (
                {"id": entry_id, "meta": {"injected": True}} if injected else {"id": entry_id}
            )
            self.pending.setdefault((role, origin), []).append((stub, text))
        self.pending_reasoning = [
            ({"id": entry_id}, kind, text)
            for entry_id, kind, text in carry.get("pending_reasoning") or []
        ]
        self.reasoning_seen = [(kind, text) for kind, text in carry.get("reasoning_seen") or []]
        self.failed = dict.fromkeys(carry.get("failed") or [])
        self.web_searches = [
            (call_id, action, query) for call_id, action, query in carry.get("web_searches") or []
        ]

    def record(self, number: int, record: Any) -> None:
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("type"), str)
            or "payload" not in record
        ):
            raise FormatError(f"{self.path}: line {number} is not a Codex rollout record")
        kind = record["type"]
        payload = record["payload"]
        if kind in RECORD_TYPES:
            if not isinstance(payload, dict):
                raise FormatError(f"{self.path}: line {number}: {kind} payload is not an object")
            self.known = True
        self.line = number
        self.count = 0
        self.timestamp(record.get("timestamp"))
        if not self.prefix:
            self.prefix = _id_prefix(payload if kind == "session_meta" else None, self.path)
        try:
            if kind == "response_item":
                self.response_item(payload)
            elif kind == "event_msg":
                self.event_msg(payload)
            elif kind == "turn_context":
                self.turn_context(payload)
            elif kind == "session_meta":
                self.session_meta(payload)
            elif kind == "compacted":
                self.compacted(payload)
            else:
                self.emit("event", name=kind, data=payload, meta={"record": kind})
        except (AttributeError, IndexError, KeyError, RecursionError, TypeError, ValueError) as exc:
            raise FormatError(
                f"{self.path}: line {number}: malformed {kind} record ({exc})"
            ) from None

    def timestamp(self, value: Any) -> None:
        if isinstance(value, str) and _UTC_TS_RE.match(value):
            self.last_ts = value  # already RFC 3339 in UTC, as Codex writes it
            return
        from ..ids import normalize_ts

        normal = normalize_ts(value) if isinstance(value, str) else None
        if normal is not None:
            self.last_ts = normal
        elif self.last_ts is None:
            self.last_ts = file_mtime_ts(self.path)

    def emit(self, kind: str, **fields: Any) -> Entry:
        self.count += 1
        entry_id = f"{self.prefix}:{self.line}"
        if self.count > 1:
            entry_id += f":{self.count}"
        entry: Entry = {"id": entry_id, "ts": self.last_ts, "type": kind}
        meta = fields.pop("meta", None)
        entry.update(
            (key, value)
            for key, value in fields.items()
            if value is not None or key not in _OPTIONAL_FIELDS
        )
        entry["source"] = {"format": FORMAT_NAME, "id": str(self.line)}
        if meta:
            entry["meta"] = meta
        self.entries.append(entry)
        self.last_id = entry_id
        if self.span_first is None:
            self.span_first = entry_id
        return entry

    # -- record types --------------------------------------------------------------------

    def session_meta(self, payload: dict[str, Any]) -> None:
        data = {key: value for key, value in payload.items() if key != "base_instructions"}
        if self.native_id is None:
            if isinstance(payload.get("id"), str):
                self.native_id = payload["id"]
            if isinstance(payload.get("cwd"), str):
                self.cwd = payload["cwd"]
            for key, name in (
                ("cli_version", "cli_version"),
                ("originator", "originator"),
                ("source", "session_source"),
                ("model_provider", "model_provider"),
                ("git", "git"),
                ("timestamp", "started"),
                ("forked_from_id", "forked_from_id"),
                ("agent_nickname", "agent_nickname"),
                ("agent_role", "agent_role"),
            ):
                if payload.get(key) is not None:
                    self.meta[name] = payload[key]
        self.emit("event", name="session_meta", data=data, meta={"record": "session_meta"})
        base = payload.get("base_instructions")
        if isinstance(base, dict) and isinstance(base.get("text"), str):
            meta: dict[str, Any] = {
                "injected": True,
                "native_role": "system",
                "kind": "base_instructions",
            }
            rest = {key: value for key, value in base.items() if key != "text"}
            if rest:
                meta["base_instructions"] = rest
            self.emit("message", role="system", content=base["text"], meta=meta)

    def turn_context(self, payload: dict[str, Any]) -> None:
        model = payload.get("model") if isinstance(payload.get("model"), str) else None
        self.emit(
            "event", name="turn_context", data=payload, model=model, meta={"record": "turn_context"}
        )
        if model and self.model and model != self.model:
            self.emit("event", name="model_change", data={"from": self.model, "to": model})
        if model:
            self.model = model
        if self.cwd is None and isinstance(payload.get("cwd"), str):
            self.cwd = payload["cwd"]

    def response_item(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "message":
            self.message_item(payload)
        elif kind == "reasoning":
            self.reasoning_item(payload)
        elif kind in _CALL_TYPES:
            self.call_item(kind, payload)
        elif kind in _OUTPUT_TYPES:
            self.output_item(kind, payload)
        elif kind in _COMPACTION_ITEMS:
            self.summary(content="", meta={"record": "response_item", "item": payload})
        else:
            data = {key: value for key, value in payload.items() if key != "type"}
            self.emit("event", name=str(kind), data=data, meta={"record": "response_item"})

    def message_item(self, payload: dict[str, Any]) -> None:
        role = str(payload.get("role"))
        content, text = _from_codex_content(payload.get("content"))
        meta = {
            key: value for key, value in payload.items() if key not in ("type", "role", "content")
        }
        injected = role not in ("user", "assistant") or (
            role == "user" and _is_injected(payload.get("content"))
        )
        if role in ("user", "assistant"):
            mirror = self.take_pending(role, "event", text, close=not injected)
            if mirror is not None:
                # The event came first: it holds the id; the item holds the content.
                mirror["content"] = content
                mirror_meta = mirror.setdefault("meta", {})
                mirror_meta.update(meta)
                mirror_meta["mirror_line"] = self.line
                return
        if injected:
            meta["injected"] = True
            meta["native_role"] = role
        entry = self.emit(
            "message",
            role="system" if injected else role,
            content=content,
            model=self.model if role == "assistant" else None,
            meta=meta,
        )
        if role in ("user", "assistant"):
            self.pending.setdefault((role, "item"), []).append((entry, text))

    def message_event(self, role: str, payload: dict[str, Any]) -> None:
        text = payload.get("message")
        text = text if isinstance(text, str) else ""
        rest = {key: value for key, value in payload.items() if key not in ("type", "message")}
        item = self.take_pending(role, "item", text)
        if item is not None:
            item_meta = item.setdefault("meta", {})
            if rest:
                item_meta["event"] = rest
            item_meta["mirror_line"] = self.line
            if item_meta.pop("injected", None):
                # Codex announced it as the user's message: it is one.
                item_meta.pop("native_role", None)
                item["role"] = role
            return
        meta: dict[str, Any] = {"event": rest} if rest else {}
        entry = self.emit(
            "message",
            role=role,
            content=text,
            model=self.model if role == "assistant" else None,
            meta=meta,
        )
        self.pending.setdefault((role, "event"), []).append((entry, text))

    def take_pending(self, role: str, origin: str, text: str, close: bool = True) -> Entry | None:
        """The earliest waiting half of a pair: the same text, else a close one.

        Close: one text contains the other (the item of a message with images has more
        text parts than its event), or one of them is empty. Injected context is only
        ever paired on the same text.
        """
        waiting = self.pending.get((role, origin))
        if not waiting:
            return None
        wanted = text.strip()
        for index, (entry, other) in enumerate(waiting):
            if other.strip() == wanted:
                del waiting[index]
                return entry
        if not close:
            return None
        for index, (entry, other) in enumerate(waiting):
            other = other.strip()
            if entry_meta(entry).get("injected"):
                continue
            if not wanted or not other or wanted in other or other in wanted:
                del waiting[index]
                return entry
        return None

    def reasoning_item(self, payload: dict[str, Any]) -> None:
        summary = _as_list(payload.get("summary"))
        raw = payload.get("content")
        parts = [("agent_reasoning", _part_text(part)) for part in summary]
        parts += [("agent_reasoning_raw_content", _part_text(part)) for part in _as_list(raw)]
        meta: dict[str, Any] = {}
        if payload.get("encrypted_content") is not None:
            meta["encrypted_content"] = payload["encrypted_content"]
        if summary:
            meta["summary"] = summary
        if raw is not None:
            meta["reasoning_content"] = raw
        meta.update(
            (key, value)
            for key, value in payload.items()
            if key not in ("type", "summary", "content", "encrypted_content")
        )
        matched = self.match_reasoning(parts)
        if matched:
            head = matched[0]
            head_meta = head.setdefault("meta", {})
            head_meta.update(meta)
            head_meta["mirror_line"] = self.line
            for other in matched[1:]:
                other.setdefault("meta", {})["summary_of"] = head["id"]
            return
        self.reasoning_seen.extend(parts)
        self.emit(
            "reasoning",
            content="\n\n".join(text for _, text in parts),
            model=self.model,
            meta=meta,
        )

    def match_reasoning(self, parts: list[tuple[str, str]]) -> list[Entry]:
        """The entries of the events that mirrored every one of ``parts``, or nothing."""
        if not parts or not self.pending_reasoning:
            return []
        waiting = list(self.pending_reasoning)
        matched: list[Entry] = []
        for kind, text in parts:
            for index, (entry, other_kind, other) in enumerate(waiting):
                if other_kind == kind and other.strip() == text.strip():
                    matched.append(entry)
                    del waiting[index]
                    break
            else:
                return []
        self.pending_reasoning = waiting
        return matched

    def reasoning_event(self, kind: str, payload: dict[str, Any]) -> None:
        text = payload.get("text")
        text = text if isinstance(text, str) else ""
        for index, (seen_kind, seen) in enumerate(self.reasoning_seen):
            if seen_kind == kind and seen.strip() == text.strip():
                # The mirror of a reasoning item already imported.
                del self.reasoning_seen[index]
                return
        rest = {key: value for key, value in payload.items() if key not in ("type", "text")}
        meta: dict[str, Any] = {"from_event": kind}
        if rest:
            meta["event"] = rest
        entry = self.emit("reasoning", content=text, model=self.model, meta=meta)
        self.pending_reasoning.append((entry, kind, text))

    def call_item(self, kind: str, payload: dict[str, Any]) -> None:
        meta: dict[str, Any] = {"item_type": kind}
        if kind == "function_call":
            name = payload["name"]
            arguments = payload.get("arguments")
            call_id = payload["call_id"]
            tool_input: Any = arguments
            if isinstance(arguments, str):
                try:
                    tool_input = json.loads(arguments)
                except (ValueError, RecursionError):
                    meta["arguments_invalid"] = True
                else:
                    if arguments not in (
                        json.dumps(tool_input, ensure_ascii=False),
                        json.dumps(tool_input, ensure_ascii=False, separators=(",", ":")),
                    ):
                        meta["arguments"] = arguments
            skip: tuple[str, ...] = ("type", "name", "arguments", "call_id")
        elif kind == "custom_tool_call":
            name, call_id, tool_input = payload["name"], payload["call_id"], payload.get("input")
            skip = ("type", "name", "input", "call_id")
        elif kind == "local_shell_call":
            name, tool_input = "local_shell", payload.get("action")
            call_id = payload.get("call_id") or payload.get("id") or f"local_shell:{self.line}"
            skip = ("type", "action", "call_id")
        else:  # web_search_call: the call id is only on its `web_search_end` event
            name, tool_input = "web_search", payload.get("action")
            found = self.take_web_search(tool_input)
            if found is not None:
                call_id = found
            else:
                call_id = f"web_search:{self.line}"
                meta["call_id_made_up"] = True
            skip = ("type", "action")
        meta.update((key, value) for key, value in payload.items() if key not in skip)
        self.emit(
            "tool_call",
            name=str(name),
            input=tool_input,
            call_id=str(call_id),
            model=self.model,
            meta=meta,
        )

    def take_web_search(self, action: Any) -> str | None:
        """The call id of the `web_search_end` event of this search (same action or query)."""
        query = action.get("query") if isinstance(action, dict) else None
        for index, (call_id, other_action, other_query) in enumerate(self.web_searches):
            if other_action == action or (query is not None and other_query == query):
                del self.web_searches[index]
                return call_id
        return None

    def output_item(self, kind: str, payload: dict[str, Any]) -> None:
        call_id = str(payload["call_id"])
        output = payload.get("output")
        meta: dict[str, Any] = {"item_type": kind}
        meta.update(
            (key, value)
            for key, value in payload.items()
            if key not in ("type", "call_id", "output")
        )
        said = _output_failed(output)
        is_error = said if said is not None else call_id in self.failed
        entry = self.emit(
            "tool_result", call_id=call_id, output=output, is_error=is_error, meta=meta
        )
        if said is None:
            self.results[call_id] = entry

    def event_msg(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        role = _MESSAGE_EVENTS.get(kind) if isinstance(kind, str) else None
        if role is not None:
            self.message_event(role, payload)
            return
        if kind in _REASONING_EVENTS:
            self.reasoning_event(str(kind), payload)
            return
        data = {key: value for key, value in payload.items() if key != "type"}
        self.emit("event", name=str(kind), data=data, meta={"record": "event_msg"})
        if kind in _TURN_BOUNDARIES:
            self.pending.clear()
            self.pending_reasoning.clear()
            self.reasoning_seen.clear()
            self.web_searches.clear()
        elif kind == "thread_name_updated":
            name = payload.get("thread_name")
            if isinstance(name, str) and name.strip():
                self.title = name
        elif kind == "web_search_end" and isinstance(payload.get("call_id"), str):
            self.web_searches.append(
                (payload["call_id"], payload.get("action"), payload.get("query"))
            )
        elif kind in ("exec_command_end", "patch_apply_end", "mcp_tool_call_end"):
            call_id = payload.get("call_id")
            if isinstance(call_id, str) and _event_failed(str(kind), payload):
                self.failed[call_id] = None
                result = self.results.get(call_id)
                if result is not None:
                    result["is_error"] = True

    def compacted(self, payload: dict[str, Any]) -> None:
        message = payload.get("message")
        meta = {key: value for key, value in payload.items() if key != "message"}
        meta["record"] = "compacted"
        self.summary(content=message if message is not None else "", meta=meta)

    def summary(self, content: Any, meta: dict[str, Any]) -> None:
        # Ids, not indexes: a capture in parts covers entries of earlier parts too.
        first = self.span_first
        last = self.last_id if first is not None else None
        self.emit("summary", content=content, first=first, last=last, meta=meta)
        self.span_first = None


def parse_window(
    path: Path, start: int, limit: int, carry: dict[str, Any]
) -> tuple[Conversation | None, int, dict[str, Any]]:
    """The entries of the whole lines of ``path`` from byte ``start`` on: about ``limit``
    bytes, and on to the next line where no message or reasoning waits for its mirror (at
    most ``limit`` more; a single longer line is read whole). ``carry`` (JSON, {} at the
    start) is what the previous part left: the line number it ended at (ids are
    ``<prefix>:<line>``), the id prefix from ``session_meta``, the model of the last
    ``turn_context``, the halves of message and reasoning pairs still waiting, failed
    calls, web searches. Returns the conversation (None while no whole line is there),
    where the next part starts, and the carry for it."""
    data = read_whole_lines(path, start, 2 * limit)
    if not data:
        return None, start, carry
    parser = _Parser(path)
    parser.restore(carry)
    read = parser.window(data, limit)
    return parser.conversation(), start + read, parser.carry()


def _id_prefix(session_meta: dict[str, Any] | None, path: Path) -> str:
    native = session_meta.get("id") if session_meta else None
    if not isinstance(native, str):
        found = _UUID_IN_NAME_RE.search(path.name)
        native = found.group(1) if found else ""
    tail = re.sub(r"[^A-Za-z0-9]", "", native)[-12:]
    return f"codex-{tail}" if tail else "codex"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _part_text(part: Any) -> str:
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return str(part["text"])
    return "" if part is None else json.dumps(part, ensure_ascii=False)


def _from_codex_content(content: Any) -> tuple[str | list[dict[str, Any]], str]:
    """entry content from a Codex message's content list, and its plain text."""
    if isinstance(content, str):
        return content, content
    if content is None:
        return "", ""
    if not isinstance(content, list):
        raise TypeError("message content is not a list")
    parts: list[dict[str, Any]] = []
    texts: list[str] = []
    for item in content:
        if not isinstance(item, dict):
            raise TypeError("message content part is not an object")
        kind = item.get("type")
        if kind in ("input_text", "output_text") and isinstance(item.get("text"), str):
            part = {"type": "text"}
            part.update((key, value) for key, value in item.items() if key != "type")
            texts.append(item["text"])
        elif kind == "input_image":
            part = {"type": "image"}
            part.update(
                ("url" if key == "image_url" else key, value)
                for key, value in item.items()
                if key != "type"
            )
        else:
            part = item
        parts.append(part)
    text = "\n".join(texts)
    if len(parts) == 1 and parts[0].get("type") == "text" and len(parts[0]) == 2:
        return text, text
    return parts, text


def _is_injected(content: Any) -> bool:
    """Whether a user-role message is context Codex injected (its own test: any part)."""
    if isinstance(content, str):
        content = [{"type": "input_text", "text": content}]
    if not isinstance(content, list):
        return False
    for item in content:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            text = item["text"].strip().lower()
            if any(text.startswith(a) and text.endswith(b) for a, b in _CONTEXT_FRAGMENTS):
                return True
    return False


def _output_failed(output: Any) -> bool | None:
    """Whether a tool's output reports a failure; None when it does not say.

    An output saying the process is still running says that the call itself worked,
    whatever the process's exit code turns out to be (later, in another call's output).
    """
    if isinstance(output, dict):  # older rollouts: {"content": ..., "success": false}
        success = output.get("success")
        return None if success is None else success is False
    if not isinstance(output, str):
        return None
    found = _EXIT_TEXT_RE.search(output, 0, 400) or _EXIT_JSON_RE.search(output[-300:])
    if found is not None:
        return int(found.group(1)) != 0
    if _RUNNING_RE.search(output, 0, 400):
        return False
    return None


def _event_failed(kind: str, payload: dict[str, Any]) -> bool:
    if kind == "exec_command_end":
        code = payload.get("exit_code")
        return isinstance(code, int) and code != 0
    if kind == "patch_apply_end":
        return payload.get("success") is False or payload.get("status") in ("failed", "declined")
    result = payload.get("result")
    if isinstance(result, dict):
        if "Err" in result:
            return True
        ok = result.get("Ok")
        return isinstance(ok, dict) and bool(ok.get("isError") or ok.get("is_error"))
    return False


# -- writing: resume inside Codex -------------------------------------------------------


def sessions_dir(codex_home: Path | None = None) -> Path:
    """Where Codex keeps rollouts: ``$CODEX_HOME/sessions``, else ``~/.codex/sessions``."""
    if codex_home is None:
        env = os.environ.get("CODEX_HOME")
        codex_home = Path(env).expanduser() if env else Path.home() / ".codex"
    return Path(codex_home) / "sessions"


def rollout_path(when: datetime, session_uuid: str, codex_home: Path | None = None) -> Path:
    """``sessions/YYYY/MM/DD/rollout-<YYYY-MM-DDTHH-MM-SS>-<uuid>.jsonl`` for ``when``.

    Codex names files by local time: an aware ``when`` is converted to local time, a naive
    one is taken as it is.
    """
    if when.tzinfo is not None:
        when = when.astimezone()
    return (
        sessions_dir(codex_home)
        / f"{when:%Y}"
        / f"{when:%m}"
        / f"{when:%d}"
        / f"rollout-{when:%Y-%m-%dT%H-%M-%S}-{session_uuid}.jsonl"
    )


def new_session_uuid(when: datetime | None = None) -> str:
    """A fresh UUID version 7, the kind Codex gives its sessions."""
    moment = when or datetime.now(timezone.utc)
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def write_rollout(records: list[dict[str, Any]], path: Path) -> Path:
    """Write ``records`` as a new rollout file at ``path`` (never over an existing one)."""
    return write_new_jsonl(records, path)


def to_rollout(entries: list[Entry], session_uuid: str, cwd: str) -> list[dict[str, Any]]:
    """Codex rollout records for ``entries``, such that ``codex resume <uuid>`` loads them.

    A ``session_meta`` record comes first (with the base instructions when the entries
    carry them). Messages become ``response_item`` messages plus the ``user_message`` /
    ``agent_message`` events Codex writes beside them (the user's item first, the
    assistant's event first, as Codex 0.125 does); injected context goes back to its
    native role (``developer`` for system messages of other agents). Reasoning that has
    ``encrypted_content`` (it came from Codex) becomes a ``reasoning`` item; other
    reasoning becomes an ``agent_reasoning`` event only, since the Responses API rejects
    reasoning items it did not issue. Tool calls and results become ``function_call`` /
    ``custom_tool_call`` (as they were) and their outputs; outputs that are neither text
    nor Codex content items are sent as JSON text. Summaries become ``compacted``
    records. Codex's own records kept as events (``turn_context`` with its ``cwd`` set to
    ``cwd``, ``event_msg`` kinds, unknown items) are written back as they were; events
    of other agents, gitsess events and commits are left out. ``is_error`` is not
    expressible in a rollout, except through the output text.
    """
    records: list[dict[str, Any]] = []
    first_ts = next((e["ts"] for e in entries if isinstance(e.get("ts"), str)), None)
    session: dict[str, Any] = {
        "id": session_uuid,
        "timestamp": first_ts or _now(),
        "cwd": cwd,
        "originator": "gitsess",
        "cli_version": "0.0.0",
        "source": "cli",
    }
    original = next(
        (
            e
            for e in entries
            if _native(e) and e["type"] == "event" and e.get("name") == "session_meta"
        ),
        None,
    )
    if original is not None and isinstance(original.get("data"), dict):
        for key in ("cli_version", "model_provider"):
            if isinstance(original["data"].get(key), str):
                session[key] = original["data"][key]
    base = next(
        (
            e
            for e in entries
            if e["type"] == "message" and entry_meta(e).get("kind") == "base_instructions"
        ),
        None,
    )
    if base is not None and isinstance(base.get("content"), str):
        session["base_instructions"] = {
            "text": base["content"],
            **entry_meta(base).get("base_instructions", {}),
        }
    records.append(_line(session["timestamp"], "session_meta", session))

    call_types: dict[str, str] = {}
    written: set[str] = set()
    for entry in entries:
        ts = str(entry["ts"]) if isinstance(entry.get("ts"), str) else str(session["timestamp"])
        kind = entry.get("type")
        meta = entry_meta(entry)
        out: list[tuple[str, dict[str, Any]]] = []
        if kind == "message":
            out = _message_records(entry, meta)
        elif kind == "reasoning":
            if meta.get("summary_of") in written:
                continue  # written with the entry it is a part of
            out = _reasoning_records(entry, meta)
        elif kind == "tool_call":
            item_type = (
                meta.get("item_type") if meta.get("item_type") in _CALL_TYPES else "function_call"
            )
            call_types[str(entry.get("call_id"))] = str(item_type)
            out = [("response_item", _call_item(entry, meta, str(item_type)))]
        elif kind == "tool_result":
            out = [("response_item", _output_item(entry, meta, call_types))]
        elif kind == "summary":
            out = [_summary_record(entry, meta)]
        elif kind == "event" and _native(entry):
            out = _event_records(entry, meta, cwd)
        for record_type, payload in out:
            records.append(_line(ts, record_type, payload))
        if out and isinstance(entry.get("id"), str):
            written.add(entry["id"])
    return records


def _now() -> str:
    from ..ids import now

    return now()


def _line(ts: str, record_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": ts, "type": record_type, "payload": payload}


def _native(entry: Entry) -> bool:
    source = entry.get("source")
    return isinstance(source, dict) and source.get("format") == FORMAT_NAME


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _to_codex_content(content: Any, role: str) -> list[dict[str, Any]]:
    text_type = "output_text" if role == "assistant" else "input_text"
    if isinstance(content, str):
        return [{"type": text_type, "text": content}]
    if not isinstance(content, list):
        return [{"type": text_type, "text": _as_text(content)}]
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(part, dict):
            parts.append({"type": text_type, "text": _as_text(part)})
        elif kind in ("input_text", "output_text", "input_image"):
            parts.append(part)
        elif kind == "text" and isinstance(part.get("text"), str):
            parts.append({"type": text_type, **{k: v for k, v in part.items() if k != "type"}})
        elif kind == "image" and _image_url(part) is not None:
            image = {"type": "input_image", "image_url": _image_url(part)}
            image.update((k, v) for k, v in part.items() if k not in ("type", "url", "source"))
            parts.append(image)
        else:
            parts.append({"type": text_type, "text": _as_text(part)})
    return parts


def _image_url(part: dict[str, Any]) -> str | None:
    if isinstance(part.get("url"), str):
        return str(part["url"])
    source = part.get("source")
    if isinstance(source, dict):
        if source.get("type") == "base64" and isinstance(source.get("data"), str):
            return f"data:{source.get('media_type', 'image/png')};base64,{source['data']}"
        if isinstance(source.get("url"), str):
            return str(source["url"])
    return None


def _plain_text(parts: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(p["text"]) for p in parts if p.get("type") in ("input_text", "output_text")
    )


def _message_records(entry: Entry, meta: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    role = entry.get("role")
    if role == "system":
        if meta.get("kind") == "base_instructions":
            return []  # in session_meta
        native = meta.get("native_role")
        role = native if native in ("user", "developer", "system") else "developer"
        content = _to_codex_content(entry.get("content"), str(role))
        return [("response_item", {"type": "message", "role": role, "content": content})]
    if role not in ("user", "assistant"):
        return []
    content = _to_codex_content(entry.get("content"), str(role))
    item: dict[str, Any] = {"type": "message", "role": role, "content": content}
    item.update((key, meta[key]) for key in ("phase", "end_turn") if meta.get(key) is not None)
    text = _plain_text(content)
    event_fields = meta.get("event") if isinstance(meta.get("event"), dict) else None
    if role == "user":
        event: dict[str, Any] = {"type": "user_message", "message": text}
        if event_fields is not None:
            event.update(event_fields)
        else:
            images = [p["image_url"] for p in content if p.get("type") == "input_image"]
            event.update({"images": images, "local_images": [], "text_elements": []})
        return [("response_item", item), ("event_msg", event)]
    event = {"type": "agent_message", "message": text}
    if event_fields is not None:
        event.update(event_fields)
    elif meta.get("phase") is not None:
        event["phase"] = meta["phase"]
    return [("event_msg", event), ("response_item", item)]


def _reasoning_records(entry: Entry, meta: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    content = entry.get("content")
    text = content if isinstance(content, str) else "" if content is None else _as_text(content)
    encrypted = meta.get("encrypted_content")
    if not isinstance(encrypted, str):
        kind = meta.get("from_event")
        event: dict[str, Any] = {
            "type": kind if kind in _REASONING_EVENTS else "agent_reasoning",
            "text": text,
        }
        if isinstance(meta.get("event"), dict):
            event.update(meta["event"])
        return [("event_msg", event)]
    summary = meta.get("summary")
    if not isinstance(summary, list):
        summary = [{"type": "summary_text", "text": text}] if text else []
    raw = meta.get("reasoning_content")
    item: dict[str, Any] = {
        "type": "reasoning",
        "summary": summary,
        "content": raw if isinstance(raw, list) else None,
        "encrypted_content": encrypted,
    }
    out: list[tuple[str, dict[str, Any]]] = []
    if meta.get("from_event") in _REASONING_EVENTS:
        # It was imported from its UI mirrors: write them before the item, as Codex did.
        out += [("event_msg", {"type": "agent_reasoning", "text": _part_text(p)}) for p in summary]
        out += [
            ("event_msg", {"type": "agent_reasoning_raw_content", "text": _part_text(p)})
            for p in item["content"] or []
        ]
    out.append(("response_item", item))
    return out


def _call_item(entry: Entry, meta: dict[str, Any], item_type: str) -> dict[str, Any]:
    tool_input = entry.get("input")
    call_id = str(entry.get("call_id"))
    item: dict[str, Any] = {"type": item_type}
    if item_type == "function_call":
        if meta.get("arguments_invalid") and isinstance(tool_input, str):
            arguments = tool_input
        elif isinstance(meta.get("arguments"), str):
            arguments = meta["arguments"]
        else:
            arguments = json.dumps(tool_input, ensure_ascii=False)
        item.update(name=str(entry.get("name")), arguments=arguments, call_id=call_id)
        if meta.get("namespace") is not None:
            item["namespace"] = meta["namespace"]
    elif item_type == "custom_tool_call":
        if meta.get("status") is not None:
            item["status"] = meta["status"]
        item.update(call_id=call_id, name=str(entry.get("name")), input=_as_text(tool_input))
    elif item_type == "local_shell_call":
        item.update(call_id=call_id, status=meta.get("status", "completed"), action=tool_input)
    else:  # web_search_call
        item.update(status=meta.get("status", "completed"), action=tool_input)
    return item


def _output_item(entry: Entry, meta: dict[str, Any], call_types: dict[str, str]) -> dict[str, Any]:
    call_id = str(entry.get("call_id"))
    item_type = meta.get("item_type")
    if item_type not in _OUTPUT_TYPES:
        custom = call_types.get(call_id) == "custom_tool_call"
        item_type = "custom_tool_call_output" if custom else "function_call_output"
    output = entry.get("output")
    if isinstance(output, list) and all(
        isinstance(p, dict) and p.get("type") in ("input_text", "input_image") for p in output
    ):
        body: Any = output
    elif isinstance(output, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in output
    ):
        body = [{"type": "input_text", "text": p["text"]} for p in output]
    else:
        body = "" if output is None else _as_text(output)
    item: dict[str, Any] = {"type": item_type, "call_id": call_id, "output": body}
    if meta.get("name") is not None and item_type == "custom_tool_call_output":
        item["name"] = meta["name"]
    return item


def _summary_record(entry: Entry, meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if meta.get("record") == "response_item" and isinstance(meta.get("item"), dict):
        return "response_item", meta["item"]
    content = entry.get("content")
    payload: dict[str, Any] = {"message": "" if content is None else _as_text(content)}
    if meta.get("record") == "compacted":
        payload.update((k, v) for k, v in meta.items() if k != "record")
    return "compacted", payload


def _event_records(
    entry: Entry, meta: dict[str, Any], cwd: str
) -> list[tuple[str, dict[str, Any]]]:
    record = meta.get("record")
    data = entry.get("data")
    if not isinstance(record, str) or record == "session_meta" or not isinstance(data, dict):
        return []
    if record in ("event_msg", "response_item"):
        return [(record, {"type": entry.get("name"), **data})]
    if record == "turn_context":
        payload = dict(data)
        payload["cwd"] = cwd
        return [(record, payload)]
    return [(record, data)]
