"""Kimi Code CLI ``wire.jsonl``: the agent's event log, one JSON record a line.

Two generations of the file are read.

Kimi Code (``~/.kimi-code/sessions/<work dir>/<session id>/agents/<agent>/wire.jsonl``,
protocol 1.4): a first line ``{"type": "metadata", "protocol_version",
"created_at", "app_version"}``, then records ``{"type": ..., "time": <epoch
ms>, ...}``:

- ``turn.prompt`` / ``turn.steer`` (``input``: content parts, ``origin.kind``)
  -> ``message`` role user (role system when ``origin.kind`` is not ``user``:
  the CLI feeding something back); a steer has ``meta.steer: true``.
- ``context.append_loop_event`` with an ``event``: ``content.part`` (``part``:
  ``{"type": "text", "text"}`` or ``{"type": "think", "think"}``: streamed
  chunks) -> one ``message`` role assistant or one ``reasoning`` per run of
  chunks of one kind in one step; ``tool.call`` (``toolCallId``, ``name``,
  ``args``) -> ``tool_call``; ``tool.result`` (``toolCallId``, ``result:
  {output, isError}``) -> ``tool_result``; any other (``step.begin``,
  ``step.end`` with its ``usage``...) -> ``event`` named after it with ``.``
  turned into ``_`` (``step_begin``).
- ``context.append_message`` (``message: {role, content}``): what was put in
  the model's context. When it repeats the last prompt (role user, same text)
  it becomes an ``event`` ``context_message`` pointing at that prompt
  (``data.duplicate_of``); otherwise a ``message`` with ``meta.context: true``.
- ``config.update`` (``modelAlias`` is the model of what follows),
  ``usage.record`` (``model``, ``usage``), ``tools.set_active_tools``,
  ``turn.cancel``, ``permission.record_approval_result`` and any other record
  -> ``event`` named after the type (``config_update``, ``usage_record``...)
  with the record's other fields as ``data``.

kimi-cli (``~/.kimi/sessions/<work dir hash>/<session id>/wire.jsonl``): a
first line ``{"type": "metadata", "protocol_version"}``, then ``{"timestamp":
<epoch s>, "message": {"type", "payload"}}`` with ``TurnBegin``
(``user_input``) and ``SteerInput`` -> user message; ``ContentPart``
(``text``/``think`` chunks) -> assistant message / reasoning as above;
``ToolCall`` (``id``, ``function: {name, arguments}``, the arguments completed
by the ``ToolCallPart`` records that follow) -> ``tool_call``; ``ToolResult``
(``tool_call_id``, ``return_value: {is_error, output, ...}``) ->
``tool_result``; everything else (``TurnEnd``, ``StepBegin``,
``StepInterrupted``, ``StatusUpdate``, ``CompactionBegin``, approvals,
``SubagentEvent``...) -> ``event`` named in snake case with the payload as
``data``.

The records carry no ids of their own that are unique in the file (step
uuids repeat on begin and end, and Kimi models number tool calls per message:
``functions.Bash:0``), so entry ids are positional: ``kimi:<line>``, then
``kimi:<line>:<n>``. A tool call id seen before in the file gets ``#<n>``
appended to make ``call_id`` unique (``meta.native_call_id`` keeps it); a
result pairs with the latest call of its id. ``source.id`` is the record's
uuid when it has one, else ``L<line>``.

The session id and working directory come from the path (and a
``state.json`` beside the session, when there is one).

A line that is not JSON is an error, except the last line when it has no
newline (a writer killed mid-line): that partial record is skipped as long as
an entry was read before it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .base import AgentFormat, Conversation, Entry, FormatError, decode_text, read_transcript

FORMAT_NAME = "kimi"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class Kimi(AgentFormat):
    name = FORMAT_NAME
    description = "Kimi Code CLI wire.jsonl (~/.kimi-code/sessions/.../agents/main/wire.jsonl)"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.lstrip().split(b"\n", 1)[0].strip()
        if not first.startswith(b"{"):
            return False
        try:
            record = json.loads(first)
        except (ValueError, RecursionError):
            return False
        if not isinstance(record, dict):
            return False
        if record.get("type") == "metadata" and "protocol_version" in record:
            return True
        if not path.name.endswith("wire.jsonl"):
            return False
        message = record.get("message")
        if set(record) == {"timestamp", "message"} and isinstance(message, dict):
            return "payload" in message and isinstance(message.get("type"), str)
        return isinstance(record.get("type"), str) and isinstance(record.get("time"), (int, float))

    def parse(self, path: Path) -> Conversation:
        data, mtime = read_transcript(path)
        reader = _Reader(_epoch_ts(mtime, 1.0) or "1970-01-01T00:00:00.000Z")
        text = decode_text(path, data)
        lines = text.split("\n")
        complete = text.endswith("\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError):
                if number == len(lines) and not complete and reader.entries:
                    break  # a record cut off mid-line by a writer that was killed
                raise FormatError(f"{path}: line {number} is not JSON") from None
            if not isinstance(record, dict):
                raise FormatError(f"{path}: line {number} is not a JSON object")
            reader.feed(number, record)
        reader.flush()
        if not reader.known:
            raise FormatError(f"{path}: line 1: not a Kimi wire.jsonl (no Kimi records)")
        info: dict[str, Any] = {"layout": reader.layout or "kimi-code"}
        info.update(reader.header)
        native_id, cwd, title = _session_of(path, info)
        return Conversation(
            agent=FORMAT_NAME,
            entries=reader.entries,
            title=title,
            native_id=native_id,
            cwd=cwd,
            meta=info,
        )


FORMAT = Kimi()


class _Reader:
    def __init__(self, first_ts: str) -> None:
        self.ts = first_ts
        self.entries: list[Entry] = []
        self.header: dict[str, Any] = {}
        self.layout: str | None = None
        self.known = False
        self.model: str | None = None
        self.line = 0
        self.count = 0  # entries made from the current line
        self.source = ""
        # A run of streamed chunks of one kind: (kind, step, entry, pieces).
        self.run: tuple[str, Any, Entry, list[str]] | None = None
        # A legacy tool call whose arguments are still streaming in.
        self.args: tuple[Entry, list[str]] | None = None
        self.calls: dict[str, str] = {}  # native call id -> latest call_id
        self.call_uses: dict[str, int] = {}
        self.last_prompt: tuple[str, str] | None = None  # (text, entry id)

    # -- helpers --

    def entry(self, kind: str, **fields: Any) -> Entry:
        entry_id = f"kimi:{self.line}" if self.count == 0 else f"kimi:{self.line}:{self.count}"
        self.count += 1
        entry: Entry = {"id": entry_id, "ts": self.ts, "type": kind}
        entry.update(fields)
        entry["source"] = {"format": FORMAT_NAME, "id": self.source}
        return entry

    def add(self, entry: Entry, meta: dict[str, Any] | None = None) -> Entry:
        self.flush()
        if meta:
            entry["meta"] = meta
        self.entries.append(entry)
        return entry

    def flush(self) -> None:
        if self.run is not None:
            entry, pieces = self.run[2], self.run[3]
            entry["content"] = "".join(pieces)
            self.run = None
        if self.args is not None:
            entry, pieces = self.args
            raw = "".join(pieces)
            try:
                entry["input"] = json.loads(raw) if raw.strip() else {}
            except (ValueError, RecursionError):
                entry["input"] = raw
                entry.setdefault("meta", {})["arguments_not_json"] = True
            self.args = None

    def event(self, name: str, data: Any, meta: dict[str, Any] | None = None) -> None:
        self.add(self.entry("event", name=name, data=data), meta)

    def chunk(self, kind: str, step: Any, text: str, meta: dict[str, Any]) -> None:
        """A streamed text or think chunk: joined to the run it continues."""
        if self.run is not None and self.run[0] == kind and self.run[1] == step:
            self.run[3].append(text)
            return
        if kind == "think":
            entry = self.entry("reasoning", content="")
        else:
            entry = self.entry("message", role="assistant", content="")
        if self.model:
            entry["model"] = self.model
        self.add(entry, meta)
        self.run = (kind, step, entry, [text])

    def new_call_id(self, native: str) -> str:
        uses = self.call_uses.get(native, 0) + 1
        self.call_uses[native] = uses
        call_id = native if uses == 1 else f"{native}#{uses}"
        self.calls[native] = call_id
        return call_id

    def call_id_for_result(self, native: str) -> str:
        return self.calls.get(native, native)

    def prompt(self, parts: Any, origin: Any, steer: bool, meta: dict[str, Any]) -> None:
        content = _content(parts)
        user = not isinstance(origin, dict) or origin.get("kind") in (None, "user")
        entry = self.entry("message", role="user" if user else "system", content=content)
        if origin is not None:
            meta["origin"] = origin
        if steer:
            meta["steer"] = True
        self.add(entry, meta)
        if user:
            self.last_prompt = (_text_of(content), entry["id"])

    # -- records --

    def feed(self, number: int, record: dict[str, Any]) -> None:
        self.line, self.count = number, 0
        kind = record.get("type")
        if kind == "metadata" and "protocol_version" in record:
            self.known = True
            self.header = {k: v for k, v in record.items() if k != "type"}
            return
        message = record.get("message")
        if "timestamp" in record and isinstance(message, dict) and "payload" in message:
            self.known = True
            self.layout = self.layout or "kimi-cli"
            self.stamp(record.get("timestamp"), 1.0)
            self.legacy(message)
            return
        self.source = f"L{number}"
        if not isinstance(kind, str):
            self.event("unknown", record)  # kept, but it does not make the file a Kimi log
            return
        if isinstance(record.get("time"), (int, float)):
            self.known = True
            self.layout = self.layout or "kimi-code"
            self.stamp(record.get("time"), 1000.0)
        fields = {k: v for k, v in record.items() if k not in ("type", "time")}
        if kind in ("turn.prompt", "turn.steer"):
            parts = fields.pop("input", None)
            origin = fields.pop("origin", None)
            self.prompt(parts, origin, kind == "turn.steer", fields)
        elif kind == "context.append_loop_event":
            event = fields.pop("event", None)
            if isinstance(event, dict):
                self.loop_event(event, fields)
            else:
                self.event("context_append_loop_event", fields)
        elif kind == "context.append_message":
            self.context_message(fields)
        else:
            if kind == "config.update" and isinstance(fields.get("modelAlias"), str):
                self.model = fields["modelAlias"]
            name = kind.replace(".", "_")
            self.event(name, fields)

    def loop_event(self, event: dict[str, Any], outer: dict[str, Any]) -> None:
        kind = event.get("type")
        fields = {k: v for k, v in event.items() if k != "type"}
        if outer:
            fields["record"] = outer
        if isinstance(event.get("uuid"), str):
            self.source = event["uuid"]
        if kind == "content.part":
            part = fields.pop("part", None)
            step = (event.get("stepUuid"), event.get("turnId"))
            self.part(part, step, fields)
        elif kind == "tool.call":
            native = str(event.get("toolCallId") or event.get("uuid") or self.source)
            call_id = self.new_call_id(native)
            for key in ("toolCallId", "name", "args"):
                fields.pop(key, None)
            if call_id != native:
                fields["native_call_id"] = native
            entry = self.entry(
                "tool_call",
                name=str(event.get("name") or "unknown"),
                input=event.get("args"),
                call_id=call_id,
            )
            if self.model:
                entry["model"] = self.model
            self.add(entry, fields)
        elif kind == "tool.result":
            native = str(event.get("toolCallId") or event.get("parentUuid") or "")
            result = fields.pop("result", None)
            fields.pop("toolCallId", None)
            output, failed, rest = _result(result, "isError")
            failed = failed or bool(event.get("isError"))
            fields.pop("isError", None)
            fields.update(rest)
            call_id = self.call_id_for_result(native)
            if call_id != native:
                fields["native_call_id"] = native
            entry = self.entry("tool_result", call_id=call_id, output=output, is_error=failed)
            self.add(entry, fields)
        else:
            name = str(kind or "loop_event").replace(".", "_")
            self.event(name, fields)

    def part(self, part: Any, step: Any, meta: dict[str, Any]) -> None:
        if isinstance(part, dict) and part.get("type") == "think":
            extra = {k: v for k, v in part.items() if k not in ("type", "think")}
            self.chunk("think", step, str(part.get("think") or ""), {**meta, **extra})
        elif isinstance(part, dict) and part.get("type") == "text":
            extra = {k: v for k, v in part.items() if k not in ("type", "text")}
            self.chunk("text", step, str(part.get("text") or ""), {**meta, **extra})
        else:
            entry = self.entry("message", role="assistant", content=_content([part]))
            if self.model:
                entry["model"] = self.model
            self.add(entry, meta)

    def context_message(self, fields: dict[str, Any]) -> None:
        message = fields.pop("message", None)
        if not isinstance(message, dict):
            self.event("context_append_message", fields)
            return
        role = message.get("role")
        content = _content(message.get("content"))
        rest = {k: v for k, v in message.items() if k not in ("role", "content")}
        fields.update(rest)
        last = self.last_prompt
        if role == "user" and last is not None and _text_of(content) == last[0]:
            self.last_prompt = None
            data = {"role": role, "duplicate_of": last[1], **fields}
            self.event("context_message", data)
            return
        fields["context"] = True
        if role not in ("user", "assistant", "system"):
            fields["role"] = role
            role = "system"
        self.add(self.entry("message", role=role, content=content), fields)

    def legacy(self, message: dict[str, Any]) -> None:
        kind = str(message.get("type") or "")
        payload = message.get("payload")
        body: dict[str, Any] = dict(payload) if isinstance(payload, dict) else {"payload": payload}
        self.source = f"L{self.line}"
        if kind in ("TurnBegin", "SteerInput"):
            parts = body.pop("user_input", None)
            self.prompt(parts, None, kind == "SteerInput", body)
        elif kind == "ContentPart":
            self.part(body, None, {})
        elif kind == "ToolCall":
            function = body.pop("function", None)
            function = function if isinstance(function, dict) else {}
            native = str(body.pop("id", None) or self.source)
            call_id = self.new_call_id(native)
            if call_id != native:
                body["native_call_id"] = native
            self.source = native
            entry = self.entry(
                "tool_call",
                name=str(function.get("name") or "unknown"),
                input=None,
                call_id=call_id,
            )
            extra = {k: v for k, v in function.items() if k not in ("name", "arguments")}
            if extra:
                body["function"] = extra
            self.add(entry, body)
            arguments = function.get("arguments")
            if isinstance(arguments, str) or arguments is None:
                self.args = (entry, [arguments or ""])
            else:
                entry["input"] = arguments
        elif kind == "ToolCallPart":
            if self.args is not None:
                self.args[1].append(str(body.get("arguments_part") or ""))
            else:
                self.event("tool_call_part", body)
        elif kind == "ToolResult":
            native = str(body.pop("tool_call_id", None) or "")
            self.source = native or self.source
            output, failed, rest = _result(body.pop("return_value", None), "is_error")
            body.update(rest)
            call_id = self.call_id_for_result(native)
            if call_id != native:
                body["native_call_id"] = native
            self.add(
                self.entry("tool_result", call_id=call_id, output=output, is_error=failed), body
            )
        else:
            self.event(_CAMEL.sub("_", kind).lower() or "unknown", body)

    def stamp(self, value: Any, scale: float) -> None:
        ts = _epoch_ts(value, scale)
        if ts is not None:
            self.ts = ts


def _result(value: Any, error_key: str) -> tuple[Any, bool, dict[str, Any]]:
    """(output, is_error, the rest) of a tool's return value."""
    if not isinstance(value, dict) or "output" not in value:
        return value, False, {}
    rest = {k: v for k, v in value.items() if k not in ("output", error_key)}
    return value["output"], bool(value.get(error_key)), rest


def _content(value: Any) -> Any:
    """Kimi content parts as entry content: a string when they are all text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = value if isinstance(value, list) else [value]
    if all(isinstance(p, dict) and p.get("type") == "text" and len(p) == 2 for p in parts):
        return "".join(str(p.get("text") or "") for p in parts)
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, str):
            out.append({"type": "text", "text": part})
        elif isinstance(part, dict) and part.get("type") in ("image_url", "imageUrl"):
            url = part.get("imageUrl") or part.get("image_url")
            image = {"type": "image", **{k: v for k, v in part.items() if k != "type"}}
            if isinstance(url, dict) and "url" in url:
                image["url"] = url["url"]
            out.append(image)
        elif isinstance(part, dict) and isinstance(part.get("type"), str):
            out.append(part)
        else:
            out.append({"type": "unknown", "value": part})
    return out


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    return "".join(
        str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text"
    ).strip()


def _epoch_ts(value: Any, scale: float) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        moment = datetime.fromtimestamp(value / scale, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    # What format_ts gives, faster: isoformat's milliseconds are truncated too.
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def _session_of(path: Path, info: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """Session id, working directory and title, from where the file lies."""
    if path.name != "wire.jsonl":
        return None, None, None
    folder = path.resolve().parent
    if folder.parent.name == "agents":
        if folder.name != "main":
            info["agent"] = folder.name
        folder = folder.parent.parent
    native_id: str | None = folder.name or None
    cwd = title = None
    state_file = folder / "state.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else None
    except (OSError, ValueError):
        state = None
    if isinstance(state, dict):
        if isinstance(state.get("sessionId"), str):
            native_id = state["sessionId"]
        for key in ("workDir", "work_dir", "cwd"):
            if isinstance(state.get(key), str):
                cwd = state[key]
                break
        if isinstance(state.get("title"), str) and state["title"].strip():
            title = state["title"].strip()
    return native_id, cwd, title
