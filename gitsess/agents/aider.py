"""aider's ``.aider.chat.history.md``: the Markdown log aider appends to.

What aider writes (``aider/io.py``), and how it is read:

- ``\\n# aider chat started at YYYY-MM-DD HH:MM:SS\\n\\n`` when aider starts
  (local time, no zone) -> an ``event`` named ``session_start``, ``data:
  {"started_at": "<as written>"}``. Every chat in the file is imported, in
  order, into one conversation. The time is read in this machine's time zone
  and is the ``ts`` of every entry up to the next start line (the file has no
  other times); entries before the first start line take the file's mtime.
- a user's input: ``\\n#### <line>`` for each line it had, every line ending
  with two spaces (a Markdown line break) -> ``message`` role user, the lines
  joined with newlines, the break spaces removed (``#### <blank>`` is an empty
  input: content ``""``, ``meta.blank: true``). Slash commands (``/add x``)
  are user input too.
- the assistant's reply: the Markdown that follows, written as ``\\n<reply>\\n\\n``
  -> one ``message`` role assistant per run of such text, surrounding blank
  lines removed.
- aider's own notes (tool output, warnings, errors, confirmations such as
  ``> Add file to the chat? (Y)es/(N)o [Yes]: y``, token and cost reports,
  ``> Applied edit to x``, ``> Commit 1a2b3c4 ...``): a line ``> <text>  ``,
  where lines after the first of a multi-line note follow without the
  ``> `` (Markdown's lazy continuation) -> one ``event`` named
  ``tool_output`` per block of such lines (up to a blank line or another
  kind of line), ``data: {"text": ...}`` with the ``> `` markers and break
  spaces removed.

The format is ambiguous where a reply itself contains a line starting with
``#### `` or ``> ``. Inside a fenced code block of a reply (``````` or ``~~~``)
such lines belong to the reply unless they end with aider's two-space line
break; outside one, they are taken as input or notes.

Ids are positional and survive the file growing: ``aider:<n>`` for the n-th
entry (from 0). ``source.id`` is ``L<line>``, the line the entry starts on.
Every line of the file is read; nothing is dropped. A file that is not UTF-8
text, or has no chat in it, is an error.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..ids import format_ts
from .base import AgentFormat, Conversation, Entry, FormatError, decode_text, mtime_ts

FORMAT_NAME = "aider"
FILE_NAME = ".aider.chat.history.md"
START = "# aider chat started at "
_START_BYTES = START.encode()
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_BREAK = "  "
_WHEN = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\Z", re.ASCII)


class Aider(AgentFormat):
    name = FORMAT_NAME
    description = "aider's .aider.chat.history.md"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.name == FILE_NAME:
            return True
        return head.lstrip().startswith(_START_BYTES)

    def parse(self, path: Path) -> Conversation:
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
        text = decode_text(path, data)
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise FormatError(f"{path}: line {line}: binary data, not an aider chat history")
        reader = _Reader(mtime_ts(mtime))
        reader.read(text.splitlines())
        if not reader.entries:
            raise FormatError(f"{path}: line 1: no aider chat in it")
        if not reader.starts and not any(
            e["type"] == "message" and e["role"] == "user" for e in reader.entries
        ):
            raise FormatError(f"{path}: line 1: not an aider chat history (no '{START.strip()}')")
        return Conversation(
            agent=FORMAT_NAME, entries=reader.entries, meta={"chats": reader.starts}
        )


FORMAT = Aider()


class _Reader:
    def __init__(self, first_ts: str) -> None:
        self.ts = first_ts
        self.entries: list[Entry] = []
        self.starts = 0
        # The block being read: its kind ("user", "assistant", "note"), first line, lines.
        self.kind: str | None = None
        self.line = 0
        self.lines: list[str] = []
        self.fence: str | None = None  # the fence that opened a code block in a reply

    def read(self, lines: list[str]) -> None:
        for number, line in enumerate(lines, start=1):
            self.take(number, line)
        self.close()

    def take(self, number: int, line: str) -> None:
        first = line[:1]
        # Inside a code block of a reply, only aider's own marked lines end it.
        free = self.fence is None or self.kind != "assistant" or line.endswith(_BREAK)
        if first == "#":
            if line.startswith(START):
                self.close()
                self.start(number, line[len(START) :].strip())
                return
            if (line.startswith("#### ") or line == "####") and free:
                if self.kind != "user":
                    self.close()
                    self.open("user", number)
                self.lines.append(line[5:].rstrip())
                return
        elif first == ">":
            if free:
                if self.kind != "note":
                    self.close()
                    self.open("note", number)
                self.lines.append(line[1:].strip())
                return
        elif not line or line.isspace():
            if self.kind == "assistant":
                self.lines.append("")
            elif self.kind is not None:
                self.close()
            return
        if self.kind == "note":  # lazy continuation of a note
            self.lines.append(line.rstrip())
            return
        if self.kind != "assistant":
            self.close()
            self.open("assistant", number)
        if first in "`~ ":
            fence = _FENCE.match(line)
            if fence:
                mark = fence.group(1)
                if self.fence is None:
                    self.fence = mark
                elif mark[0] == self.fence[0] and len(mark) >= len(self.fence):
                    self.fence = None
        self.lines.append(line)

    def open(self, kind: str, number: int) -> None:
        self.kind, self.line, self.lines = kind, number, []

    def close(self) -> None:
        kind, lines = self.kind, self.lines
        self.kind, self.lines, self.fence = None, [], None
        if kind is None:
            return
        source = {"format": FORMAT_NAME, "id": f"L{self.line}"}
        if kind == "user":
            blank = lines == ["<blank>"]
            entry = self.entry("message", role="user", content="" if blank else "\n".join(lines))
            entry["source"] = source
            if blank:
                entry["meta"] = {"blank": True}
        elif kind == "note":
            entry = self.entry("event", name="tool_output", data={"text": "\n".join(lines)})
            entry["source"] = source
        else:
            while lines and not lines[-1].strip():
                lines.pop()
            entry = self.entry("message", role="assistant", content="\n".join(lines))
            entry["source"] = source
        self.entries.append(entry)

    def start(self, number: int, when: str) -> None:
        self.starts += 1
        ts = _local_ts(when)
        if ts is not None:
            self.ts = ts
        entry = self.entry("event", name="session_start", data={"started_at": when})
        entry["source"] = {"format": FORMAT_NAME, "id": f"L{number}"}
        self.entries.append(entry)

    def entry(self, kind: str, **fields: Any) -> Entry:
        entry: Entry = {"id": f"aider:{len(self.entries)}", "ts": self.ts, "type": kind}
        entry.update(fields)
        return entry


def _local_ts(text: str) -> str | None:
    match = _WHEN.match(text)
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        moment = datetime(year, month, day, hour, minute, second).astimezone(timezone.utc)
    except (OverflowError, ValueError):  # no such date, or none in UTC (year 1 or 9999)
        return None
    return format_ts(moment)
