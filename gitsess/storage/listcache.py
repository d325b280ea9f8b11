"""The listing cache: every session's summary, remembered by log commit, in list order.

A log commit names one content forever, so what gitsess read from it (session.json, the
entry count) never goes stale: `list`, `list --json` and name lookups read this file
instead of every session.json (100,000 of them take seconds to read through git).

The file lives in the state folder (``.git/gitsess/listing``)::

    gitsess-listing 2
    refs <fingerprint of the session refs' storage, or ->
    names <crc32> <length>
    body <crc32> <length>
    <blank line>
    <names: per session ``oid id flags title branch`` (and a tab), what name lookups read>
    <body: one row per session, most recently updated first (ties by id)>

A row is tab-separated; JSON never holds a raw tab or newline, so fields cannot run into
each other: ``oid id count flags updated title branch summary``, where ``updated``,
``title`` and ``branch`` are JSON (ASCII) and ``summary`` is the session's summary as
`list --json` prints it (``"current": false``). ``flags``: ``A`` archived, ``b`` its
branch may be one gitsess ignores (checked again, with the configured prefix, on use),
``R`` a session read afresh every time (unreadable, or not storable here).

The file is gitsess's own data, but a file anyone could damage: one whose checksum,
header or rows do not add up is ignored and rebuilt, and it is never trusted for more
than speed (a row is found by the log commit the ref names now). Writers write a
temporary file and rename it, so two gitsess processes never leave a torn one.

Whether the refs changed since the file was written is known without listing them: the
``refs`` line fingerprints where git keeps them (packed-refs, and the loose files under
refs/sessions: inode, size and times, which every ref update changes by renaming a new
file into place). When it differs, one `for-each-ref` (no objects) says which logs are
new, and only those are read.
"""

from __future__ import annotations

import json
import os
import zlib

from .layout import SESSIONS

# typing's flag without importing typing; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

FILE = "listing"
MAGIC = b"gitsess-listing 2"
HEAD_MAX = 4096
ARCHIVED, CHECK_BRANCH, REREAD = b"A", b"b", b"R"
# The summary's own keys: a session.json holding one of them is summarised the slow way.
SUMMARY_KEYS = ("entries", "log", "current")
ABSENT = b"-"


def state_folder(common_dir: str) -> str:
    return os.path.join(common_dir, "gitsess")


def fingerprint(common_dir: str) -> bytes | None:
    """What changes whenever a ref under refs/sessions/ does (None: not known this way,
    as with the reftable backend: then the refs are listed)."""
    if os.path.exists(os.path.join(common_dir, "reftable")):
        return None
    parts: list[str] = []
    try:
        st = os.stat(os.path.join(common_dir, "packed-refs"))
        parts.append(f"packed {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}")
    except FileNotFoundError:
        parts.append("packed -")
    except OSError:
        return None
    try:
        _loose(os.path.join(common_dir, SESSIONS.rstrip("/")), "", parts)
    except OSError:
        return None
    text = "\n".join(parts).encode("utf-8", "surrogateescape")
    # Two checksums and the length: 64 bits, without loading hashlib on the hot path.
    return f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}{len(text):x}".encode()


def _loose(folder: str, relative: str, parts: list[str]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        name = relative + entry.name
        if entry.is_dir(follow_symlinks=False):
            parts.append(f"dir {name}")
            _loose(entry.path, name + "/", parts)
            continue
        st = entry.stat(follow_symlinks=False)
        parts.append(f"{name} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}")


class Snapshot:
    """The rows of the cache file as read (or just built): bytes, parsed on demand.
    ``names`` holds, in the same order, the fields name lookups need (a sixth of the
    size): ``oid id flags title branch``; ``body`` is b"" when only they were read."""

    __slots__ = ("body", "names", "refs")

    def __init__(self, names: bytes, body: bytes, refs: bytes) -> None:
        self.names = names
        self.body = body
        self.refs = refs

    def lines(self) -> Iterator[bytes]:
        body, pos = self.body, 0
        while pos < len(body):
            end = body.index(b"\n", pos)
            yield body[pos:end]
            pos = end + 1

    def keyed(self) -> dict[bytes, bytes]:
        """{b"<oid>\\t<id>": row} for every row."""
        found = {}
        for line in self.lines():
            cut = line.index(b"\t", line.index(b"\t") + 1)
            found[line[:cut]] = line
        return found

    def rows_with(self, field: int, value: bytes, prefix: bool = False) -> list[list[bytes]]:
        """The rows (split in fields) whose field number ``field`` is ``value`` (with
        ``prefix``: starts with it), found by searching the bytes, so no other row is
        parsed (a raw tab only ever separates fields)."""
        return _rows_with(self.body, field, value, prefix)

    def names_with(self, field: int, value: bytes, prefix: bool = False) -> list[list[bytes]]:
        """rows_with over the names."""
        return _rows_with(self.names, field, value, prefix)

    def name_lines(self) -> Iterator[list[bytes]]:
        for line in self.names.splitlines():
            yield line.split(b"\t", 5)


def _rows_with(data: bytes, field: int, value: bytes, prefix: bool) -> list[list[bytes]]:
    needle = b"\t" + value + (b"" if prefix else b"\t")
    found, pos = [], 0
    while (hit := data.find(needle, pos)) >= 0:
        start = data.rfind(b"\n", 0, hit) + 1
        end = data.index(b"\n", hit)
        pos = end if prefix else hit + 1
        if data.count(b"\t", start, hit) + 1 == field:
            found.append(data[start:end].split(b"\t", 7))
    return found


def load(common_dir: str, whole: bool = True) -> Snapshot | None:
    """The cache file (without ``whole``: its names alone, body b""), or None when it is
    missing, foreign, damaged or unreadable."""
    try:
        with open(os.path.join(state_folder(common_dir), FILE), "rb") as handle:
            start = handle.read(HEAD_MAX)
            head_end = start.find(b"\n\n")
            head = start[:head_end].split(b"\n") if head_end >= 0 else []
            if len(head) != 4 or head[0] != MAGIC or not head[1].startswith(b"refs "):
                return None
            sizes = [
                _section(line, name) for line, name in ((head[2], b"names"), (head[3], b"body"))
            ]
            if None in sizes:
                return None
            (names_crc, names_size), (body_crc, body_size) = sizes  # type: ignore[misc]
            handle.seek(head_end + 2)
            names = handle.read(names_size)
            body = handle.read(body_size + 1) if whole else b""
    except OSError:
        return None
    if len(names) != names_size or zlib.crc32(names) != names_crc:
        return None
    if whole and (len(body) != body_size or zlib.crc32(body) != body_crc):
        return None
    return Snapshot(names, body, head[1][5:])


def _section(line: bytes, name: bytes) -> tuple[int, int] | None:
    """(crc32, length) from a header line ``<name> <crc32> <length>``."""
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] != name or not parts[2].isdigit() or len(parts[1]) != 8:
        return None
    try:
        return int(parts[1], 16), int(parts[2])
    except ValueError:
        return None


def save(common_dir: str, snapshot: Snapshot) -> None:
    """Write the cache file whole, by renaming a temporary file: a reader sees the old
    file or the new one. A read-only repository only lists more slowly."""
    folder = state_folder(common_dir)
    names, body = snapshot.names, snapshot.body
    head = b"%s\nrefs %s\nnames %08x %d\nbody %08x %d\n\n" % (
        MAGIC,
        snapshot.refs,
        zlib.crc32(names),
        len(names),
        zlib.crc32(body),
        len(body),
    )
    tmp = os.path.join(folder, f"{FILE}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(head)
            handle.write(names)
            handle.write(body)
        os.replace(tmp, os.path.join(folder, FILE))
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ascii_json(value: object) -> bytes:
    if type(value) is str:  # nearly always: the encoder's string function, not dumps
        return _encode_string(value).encode("ascii")
    return json.dumps(value, ensure_ascii=True).encode("ascii")


_encode_string = json.encoder.encode_basestring_ascii


def updated_key(meta: dict[str, object]) -> str:
    """What `list` sorts by: the session's last activity, as stored."""
    return str(meta.get("updated", ""))


def row(oid: str, session_id: str, count: int, meta: dict[str, object], branch_ok: bool) -> bytes:
    """The cache row of a readable session; a REREAD row when it cannot be stored."""
    try:
        if any(key in meta for key in SUMMARY_KEYS):
            raise ValueError("summarised the slow way")
        summary = {**meta, "entries": count, "log": oid, "current": False}
        try:
            text = json.dumps(summary, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: `list --json` escapes the whole list
            raise ValueError("not UTF-8") from None
        flags = (ARCHIVED if meta.get("status") == "archived" else b"") + (
            b"" if branch_ok else CHECK_BRANCH
        )
        fields = [ascii_json(updated_key(meta)), stored(meta, "title"), stored(meta, "branch")]
    except (ValueError, RecursionError, TypeError):
        return reread(oid, session_id)
    start = f"{oid}\t{session_id}\t{count}\t".encode()
    return start + b"\t".join([flags or b"-", *fields, text])


def stored(meta: dict[str, object], key: str) -> bytes:
    """A field as a row holds it: its JSON, or ``-`` (never JSON) when there is none."""
    return ascii_json(meta[key]) if key in meta else ABSENT


def field_value(field: bytes) -> object:
    """The value a row's ``title`` or ``branch`` field holds (None: absent)."""
    return None if field == ABSENT else json.loads(field)


def reread(oid: str, session_id: str) -> bytes:
    return f'{oid}\t{session_id}\t0\tR\t""\t-\t-\t{{}}'.encode()


def decoded_key(field: bytes) -> str:
    """The `updated` sort key of a row from its JSON field."""
    if b"\\" not in field:
        return field[1:-1].decode("ascii", "replace")
    value = json.loads(field)
    return value if isinstance(value, str) else ""


def ordered(rows: list[bytes]) -> tuple[bytes, bytes]:
    """The names and the body: rows most recently updated first, ties by session id (as
    `list` sorts). Only each row's short head is split: the summaries are not copied."""
    keyed = []
    for at, whole in enumerate(rows):
        f = whole[: _head_end(whole)].split(b"\t")
        # A tab ends the last field too, so a search finds it as it finds the others.
        name = b"\t".join([f[0], f[1], f[3], f[5], f[6], b"\n"])
        keyed.append((decoded_key(f[4]), f[1], at, name))
    keyed.sort(key=lambda k: k[1])
    keyed.sort(key=lambda k: k[0], reverse=True)
    names = b"".join(k[3] for k in keyed)
    body = b"\n".join(rows[k[2]] for k in keyed)
    return names, body + b"\n" if body else b""


def _head_end(row: bytes) -> int:
    """Where a row's summary (after its seventh tab) begins, less one."""
    at = -1
    for _ in range(7):
        at = row.index(b"\t", at + 1)
    return at
