"""The one small interface every agent format implements."""

from __future__ import annotations

import os
import stat
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BadInput

Entry = dict[str, Any]


class FormatError(BadInput):
    """The file is not (or no longer) a valid transcript of this format."""


def read_whole_lines(path: Path, start: int, size: int) -> bytes:
    """The whole lines of ``path`` in about ``size`` bytes from byte ``start`` (a longer
    line is read whole; b"" while no whole line is there): one part of a transcript too
    large to read at once.

    O_NONBLOCK and a check of what was opened: a FIFO put in the file's place since
    capture looked is refused, not waited on.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FormatError(f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as handle:
        handle.seek(start)
        data = handle.read(size)
        end = data.rfind(b"\n") + 1
        while not end and len(data) >= size:  # one line longer than the part: all of it
            more = handle.read(size)
            if not more:
                break
            data += more
            end = data.rfind(b"\n") + 1
    return data[:end]


class Conversation:
    """A transcript turned into entries (docs/format.md) (section 4), in conversation order.

    Every entry has `id`, `ts` and `type`, and `source` = {"format": ..., "id":
    <native id>}; what the format has no field for is kept in the entry's `meta`.
    Ids are stable: parsing the same transcript twice gives the same ids, and
    a transcript that grew gives the old entries the same ids as before.

    A plain class, not a dataclass: importing dataclasses (and inspect) costs ~20 ms,
    and capture, on every agent turn, reads transcripts through this module.
    """

    __slots__ = ("agent", "cwd", "entries", "meta", "native_id", "title")

    def __init__(
        self,
        agent: str,
        entries: list[Entry],
        title: str | None = None,
        native_id: str | None = None,
        cwd: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.agent, self.entries, self.title = agent, entries, title
        self.native_id, self.cwd = native_id, cwd
        self.meta: dict[str, Any] = {} if meta is None else meta

    def __repr__(self) -> str:
        return f"Conversation({self.agent!r}, {len(self.entries)} entries, {self.title!r})"


class AgentFormat(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    # Entries this format builds are valid by construction (the importer tests hold them
    # to the model); a format that passes entries through from the file says False.
    trusted: ClassVar[bool] = True
    # Whether parse_window reads this format a part at a time (capture of a huge file).
    windowed: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether ``path`` (whose first bytes are ``head``) is in this format. Cheap."""

    @abstractmethod
    def parse(self, path: Path) -> Conversation:
        """The whole conversation. Raises FormatError for garbage or truncated files."""

    def watched_files(self, path: Path) -> list[Path]:
        """The files whose growth means the conversation grew (for capture's fast path)."""
        return [path]

    def parse_window(
        self, path: Path, start: int, limit: int, carry: dict[str, Any], known: set[str]
    ) -> tuple[Conversation | None, int, dict[str, Any]]:
        """The entries of the whole lines of ``path`` from byte ``start`` on, about
        ``limit`` bytes of them, with the ids a whole import gives (formats that say
        ``windowed``). ``carry``: what the previous part left for this one ({} at the
        start), JSON data kept in capture's state; ``known``: the ids of earlier parts.
        Returns the conversation (None while no whole line is there), where the next part
        starts, and what it needs carried."""
        raise NotImplementedError(f"{self.name} transcripts are not read in parts")


_NOT_A_PROMPT = (
    "<command-name>",
    "<command-message>",
    "<local-command-stdout>",
    "<local-command-stderr>",
)


def mtime_ts(mtime: float) -> str:
    """A file modification time as a stored timestamp: the fallback time of entries whose
    transcript records none."""
    from datetime import datetime, timezone

    from ..ids import format_ts

    return format_ts(datetime.fromtimestamp(mtime, timezone.utc))


def file_mtime_ts(path: Path) -> str:
    """``path``'s modification time as a stored timestamp; now, if it cannot be read."""
    import time

    try:
        return mtime_ts(path.stat().st_mtime)
    except OSError:
        return mtime_ts(time.time())


def read_transcript(path: Path) -> tuple[bytes, float]:
    """The file's bytes and modification time; FormatError if it cannot be read or is empty."""
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    if not data.strip():
        raise FormatError(f"{path}: empty file")
    return data, mtime


def write_new_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    """Write ``records`` one JSON object a line to a new file (never over an existing one)."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(
        json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n" for record in records
    )
    with path.open("x", encoding="utf-8") as handle:
        handle.write(data)
    return path


def decode_text(path: Path, data: bytes) -> str:
    """``data`` as UTF-8 text; FormatError naming the first line that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError(f"{path}: line {line} is not UTF-8 text") from None


def entry_meta(entry: Entry) -> dict[str, Any]:
    """The entry's `meta` object, or an empty one."""
    meta = entry.get("meta")
    return meta if isinstance(meta, dict) else {}


def clean_title(text: str, limit: int = 200) -> str:
    """``text`` (from a transcript) as a valid title: control characters and lone
    surrogates become spaces, runs of whitespace one space; "" when nothing is left."""
    import unicodedata

    text = text[: limit * 4]
    if not text.isprintable():  # the common case skips the per-character pass
        text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in text)
    return " ".join(text.split())[:limit]


def first_prompt_title(entries: list[Entry], limit: int = 72) -> str | None:
    """A title from the first user message: its first line, shortened."""
    for entry in entries:
        meta = entry.get("meta")
        if isinstance(meta, dict) and (meta.get("injected") or meta.get("inactive")):
            continue
        if entry.get("type") == "message" and entry.get("role") == "user":
            content = entry.get("content")
            text = (
                content
                if isinstance(content, str)
                else " ".join(
                    part.get("text", "") for part in content or [] if isinstance(part, dict)
                )
            )
            line = " ".join(text.split())
            if line.startswith(_NOT_A_PROMPT):
                continue  # slash commands and their output, as agents record them
            if line:
                return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return None
