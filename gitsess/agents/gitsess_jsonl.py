"""gitsess's own portable JSONL: a header line with the session, then its entries."""

from __future__ import annotations

import json
from pathlib import Path

from .base import AgentFormat, Conversation, FormatError

HEADER_KEY = "gitsess"


class GitsessJsonl(AgentFormat):
    name = "gitsess"
    description = "gitsess export --format jsonl"
    trusted = False  # its entries come from the file as they are

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return first.startswith(b'{"' + HEADER_KEY.encode() + b'":')

    def parse(self, path: Path) -> Conversation:
        entries = []
        header = None
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw)
                except (ValueError, RecursionError):
                    raise FormatError(f"{path}: line {number} is not JSON") from None
                if not isinstance(value, dict):
                    raise FormatError(f"{path}: line {number} is not a JSON object")
                if header is None:
                    if HEADER_KEY not in value:
                        raise FormatError(f"{path}: no gitsess header on line 1")
                    header = value
                    continue
                entries.append(value)
        if header is None:
            raise FormatError(f"{path}: empty file")
        found = header.get("session")
        session: dict[str, object] = found if isinstance(found, dict) else {}
        return Conversation(
            agent=str(session.get("agent") or ""),  # the original session's agent, if any
            entries=entries,
            title=str(session["title"]) if session.get("title") else None,
            native_id=str(session["id"]) if session.get("id") else None,
            meta={"session": session},
        )


FORMAT = GitsessJsonl()


def write(meta: dict[str, object], lines: list[bytes]) -> bytes:
    """The portable file: the header, then each stored entry line as it is."""
    try:
        header = json.dumps({HEADER_KEY: 1, "session": meta}, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, as the log stores it
        header = json.dumps({HEADER_KEY: 1, "session": meta}).encode("ascii")
    return b"".join([header + b"\n", *(line + b"\n" for line in lines if line.strip())])
