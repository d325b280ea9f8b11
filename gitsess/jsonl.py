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

# Loading msgspec costs a few tens of milliseconds (it imports typing_extensions, inspect,
# uuid, ...), which pays for itself over about a thousand lines: a command that reads or
# writes fewer never loads it.
QUICK_AFTER = 1000
# A file read whole whose size says it holds thousands of lines: msgspec from its first.
QUICK_BYTES = 1 << 20


class _Codec:
    """msgspec's decode and encode, loaded on first use (None, None: not installed)."""

    decode: Callable[[bytes], Any] | None = None
    encode: Callable[[Any], bytes] | None = None
    errors: tuple[type[BaseException], ...] = (ValueError,)
    loaded = False

    @classmethod
    def load(cls) -> type[_Codec]:
        if not cls.loaded:
            cls.loaded = True
            try:
                from msgspec import MsgspecError
                from msgspec.json import Decoder, Encoder
            except ImportError:  # a dependency; json alone is correct, only slower
                return cls
            cls.decode, cls.encode = Decoder().decode, Encoder().encode
            cls.errors = (MsgspecError, ValueError)
        return cls


TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO

# Lines with this many brackets are left to json: msgspec reads a few levels deeper than
# json can (997 against ~993), and a line json cannot read back must never be stored.
DEEP = 256


NOT_READ = object()  # quick()'s answer when json must decide


def quick(line: bytes) -> Any:
    """The value of the JSON ``line`` when msgspec reads it (then json reads the same:
    UTF-8, no NaN, no byte order mark, not deep), else NOT_READ: the caller then reads it
    the careful way, with json, for the verdict and message json gives. A blank line is
    NOT_READ too."""
    codec = _Codec.load()
    if codec.decode is None or line.count(b"[") + line.count(b"{") >= DEEP:
        return NOT_READ
    try:
        return codec.decode(line)
    except codec.errors:
        return NOT_READ


def encode_lines(entries: list[Any], fallback: Callable[[Any], bytes]) -> list[bytes]:
    """Each entry as a compact JSON line, as ``fallback`` (storage's encode_json) writes
    it where the two could differ: an entry whose msgspec output holds a `null` that was
    not a None (msgspec writes NaN and infinities as null; json refuses them) or that
    msgspec cannot encode (lone surrogates, keys that are not strings, deep nesting). Fewer than
    QUICK_AFTER entries: ``fallback`` alone."""
    codec = _Codec.load() if len(entries) >= QUICK_AFTER else _Codec
    encode, decode = codec.encode, codec.decode
    if encode is None or decode is None:
        return [fallback(entry) for entry in entries]
    failures: tuple[type[BaseException], ...] = (
        *codec.errors,
        TypeError,
        UnicodeError,
        RecursionError,
    )
    lines = []
    for entry in entries:
        try:
            line = encode(entry)
            # `null` is None, or NaN or an infinity msgspec wrote for json to refuse: read
            # back, the line equals the entry only if every null was a None.
            exact = b"null" not in line or decode(line) == entry
        except failures:
            exact = False  # json's turn
        lines.append(line if exact else fallback(entry))
    return lines


def read_jsonl(source: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line of ``source`` (a file, or `-` for
    standard input); any bad line is a BadInput naming it."""
    import sys
    from pathlib import Path

    from .errors import BadInput

    if source == "-":
        yield from parse_jsonl(sys.stdin.buffer)
        return
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"cannot read {source}: no such file")
    with path.open("rb") as handle:
        yield from parse_jsonl(handle)


def parse_jsonl(handle: BinaryIO) -> Iterator[tuple[int, Any]]:
    import json

    from .errors import BadInput

    for number, raw in enumerate(handle, start=1):
        # Past the first lines, most are read at once (msgspec); json gives every verdict.
        value = quick(raw) if number > QUICK_AFTER else NOT_READ
        if value is not NOT_READ:
            yield number, value
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"line {number}: not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise BadInput(f"line {number}: not JSON ({exc})") from None
