"""What gitsess prints cannot drive the terminal it is printed on.

Titles, entries, tool output, branch names and models come from transcripts and from
teammates' fetched sessions: data, never instructions to the terminal. Every character
that a terminal could act on -- C0 controls but newline and tab (ESC starts cursor moves,
screen clears, OSC 8 links, title changes, hidden text), DEL, C1 controls (U+009B is a
CSI of its own), and the bidirectional overrides and isolates that make text read other
than it is stored -- is printed as a visible ``\\u001b``-style escape instead. That form
is also a JSON escape of the same character, so JSON printed through here stays JSON of
the same value.

``install`` puts this filter in front of stdout and stderr for the whole run (plain
``print``, click, error lines); rich writes its own styling past it to the real stream
(``rich_proxied_file``) and filters the text it lays out itself (``terminal.console``).
"""

from __future__ import annotations

import io
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

# A CR right before a newline is a Windows line end, not an overwrite trick: dropped.
# Compiled (and cached by `re`) on first use: every command installs the filter, almost
# none ever needs the pattern, and compiling it costs ~0.8 ms of each hot command.
UNSAFE = "(\r(?=\n))|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def _escape(match: re.Match[str]) -> str:
    return "" if match.group(1) else f"\\u{ord(match.group()):04x}"


# What ASCII text may hold as it is; str.isprintable() is false for every character UNSAFE
# matches (and for some harmless ones, like a no-break space: those take the slow road).
SAFE_ASCII = bytes(range(0x20, 0x7F)) + b"\n\t"


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on made visible."""
    # Clean text (nearly always) is checked at memory speed and returned as it is; the
    # regular expression is ten times slower, and a message can be 100 MB.
    if text.isascii():
        if not text.encode("ascii").translate(None, SAFE_ASCII):
            return text
    elif text.replace("\n", " ").replace("\t", " ").isprintable():
        return text
    return re.sub(UNSAFE, _escape, text)


class VisibleWriter(io.TextIOBase):
    """A text stream that passes what is written to ``raw`` through ``visible``."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw

    @property
    def rich_proxied_file(self) -> TextIO:
        # rich styles its output itself and filters the text in it (terminal.console).
        return self.raw

    def write(self, text: str) -> int:
        self.raw.write(visible(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.raw.errors

    @property
    def buffer(self) -> object:
        # Raw bytes (export to a file or a pipe) are data, written as they are.
        return self.raw.buffer

    def close(self) -> None:
        # Never the stream underneath: it outlives the filter (garbage collection closes
        # a stream; in-process runs put the real one back). raw() reaches it if needed.
        try:
            self.raw.flush()
        except (OSError, ValueError):
            return  # closed already, or the reader went away


def install() -> tuple[TextIO, TextIO]:
    """Filter stdout and stderr; returns the streams to put back (for in-process runs)."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, VisibleWriter) and sys.stdout is not None:
        sys.stdout = VisibleWriter(sys.stdout)
    if not isinstance(sys.stderr, VisibleWriter) and sys.stderr is not None:
        sys.stderr = VisibleWriter(sys.stderr)
    return saved


def raw(stream: TextIO) -> TextIO:
    """The stream under the filter, for writers that filter themselves (rich)."""
    return stream.raw if isinstance(stream, VisibleWriter) else stream
