"""JSON lines in and out at the speed of msgspec, with the verdicts of Python's json.

`record --jsonl` and `import` are measured against Python's `json.loads` of the same
lines; parsing and encoding with the json module took most of their time beyond it.
msgspec reads and writes JSON three to five times faster, but it is not json: it refuses
NaN, numbers out of range, lone surrogates and nesting past ~1,000 levels (all of which
json reads), and it writes NaN and infinities as null (json raises). So msgspec is only
ever a shortcut: whatever it refuses, or could write differently, goes through json, whose
results and messages stay the ones users see. Without msgspec installed, json does it all.
"""

from __future__ import annotations

try:
    from msgspec import MsgspecError
    from msgspec.json import Decoder, Encoder
except ImportError:  # pragma: no cover - a dependency; json alone is correct, only slower
    _decode = None
    _encode = None
else:
    _decode = Decoder().decode
    _encode = Encoder().encode

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

# Lines with this many brackets are left to json: msgspec reads a few levels deeper than
# json can (997 against ~993), and a line json cannot read back must never be stored.
DEEP = 256


NOT_READ = object()  # quick()'s answer when json must decide


def quick(line: bytes) -> Any:
    """The value of the JSON ``line`` when msgspec reads it (then json reads the same:
    UTF-8, no NaN, no byte order mark, not deep), else NOT_READ: the caller then reads it
    the careful way, with json, for the verdict and message json gives. A blank line is
    NOT_READ too."""
    if _decode is None or line.count(b"[") + line.count(b"{") >= DEEP:
        return NOT_READ
    try:
        return _decode(line)
    except (MsgspecError, ValueError):
        return NOT_READ


def encode_lines(entries: Iterable[Any], fallback: Callable[[Any], bytes]) -> list[bytes]:
    """Each entry as a compact JSON line, as ``fallback`` (storage's encode_json) writes
    it where the two could differ: an entry whose msgspec output holds `null` anywhere
    (msgspec writes NaN and infinities as null; json refuses them) or that msgspec
    cannot encode (lone surrogates, keys that are not strings, deep nesting)."""
    if _encode is None:
        return [fallback(entry) for entry in entries]
    lines = []
    for entry in entries:
        try:
            line = _encode(entry)
        except (MsgspecError, TypeError, ValueError, UnicodeError, RecursionError):
            line = b"null"  # json's turn
        lines.append(fallback(entry) if b"null" in line else line)
    return lines
