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

import io
import json
import os
import zlib

from ..errors import GitsessError
from .layout import SESSIONS

# typing's flag without importing typing; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO

    from ..render.text import Clock

FILE = "listing"
MAGIC = b"gitsess-listing 3"
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
    found = _Checksums()
    try:
        st = os.stat(os.path.join(common_dir, "packed-refs"))
        found.add(f"packed {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}")
    except FileNotFoundError:
        found.add("packed -")
    except OSError:
        return None
    try:
        _loose(os.path.join(common_dir, SESSIONS.rstrip("/")), "", found)
    except OSError:
        return None
    return found.digest()


class _Checksums:
    """Sums of each line's two checksums, and the count: what any added, removed or changed
    line changes, in any order, with nothing held (100,000 loose refs are 100,000 lines;
    listing, sorting and joining them cost a second and tens of megabytes). Without
    loading hashlib on the hot path."""

    __slots__ = ("adler", "count", "crc")

    def __init__(self) -> None:
        self.crc = self.adler = self.count = 0

    def add(self, line: str) -> None:
        data = line.encode("utf-8", "surrogateescape")
        self.crc = (self.crc + zlib.crc32(data)) & 0xFFFFFFFFFFFFFFFF
        self.adler = (self.adler + zlib.adler32(data)) & 0xFFFFFFFFFFFFFFFF
        self.count += 1

    def digest(self) -> bytes:
        return f"{self.crc:016x}{self.adler:016x}{self.count:x}".encode()


def _loose(folder: str, relative: str, found: _Checksums) -> None:
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return
    with entries:
        for entry in entries:
            name = relative + entry.name
            if entry.is_dir(follow_symlinks=False):
                found.add(f"dir {name}")
                _loose(entry.path, name + "/", found)
                continue
            st = entry.stat(follow_symlinks=False)
            found.add(f"{name} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}")


class Snapshot:
    """The rows of the cache file as read (or just built): bytes, parsed on demand.
    ``names`` holds, in the same order, the fields name lookups need (a sixth of the
    size): ``oid id flags title branch``; ``body`` is b"" when only they were read."""

    __slots__ = ("body", "names", "refs", "stored", "zone")

    def __init__(self, names: bytes, body: bytes, refs: bytes, zone: bytes = ABSENT) -> None:
        self.names = names
        self.body = body
        self.refs = refs
        self.zone = zone  # zone_key() of the local times the names hold
        # Where the body is in the file (path, offset, size, crc32), to read it a piece
        # at a time: None when the snapshot was made in memory.
        self.stored: tuple[str, int, int, int] | None = None

    def stored_lines(self) -> Iterator[bytes]:
        """The body's lines read from the file a megabyte at a time (never all of it in
        memory); ValueError at the end if they are not what the file was written with."""
        if self.stored is None:
            yield from self.lines()
            return
        path, at, size, crc = self.stored
        found, rest = 0, b""
        with open(path, "rb") as handle:
            handle.seek(at)
            while size > 0:
                chunk = handle.read(min(size, 1 << 20))
                if not chunk:
                    break
                size -= len(chunk)
                found = zlib.crc32(chunk, found)
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                yield from lines
        if size or rest or found != crc:
            raise ValueError("the listing cache changed while read")

    def lines(self) -> Iterator[bytes]:
        body, pos = self.body, 0
        while pos < len(body):
            end = body.index(b"\n", pos)
            yield body[pos:end]
            pos = end + 1

    def places(self) -> dict[bytes, tuple[bytes, int, int]]:
        """{b"<oid>\\t<id>": (names line, start, end of the body line)} for every row."""
        found = {}
        names, body, at = self.names, self.body, 0
        for start, end in self._line_spans(names):
            line = names[start : end + 1]
            cut = line.index(b"\t", line.index(b"\t") + 1)
            stop = body.index(b"\n", at)
            found[line[:cut]] = (line, at, stop)
            at = stop + 1
        return found

    @staticmethod
    def _line_spans(data: bytes) -> Iterator[tuple[int, int]]:
        pos = 0
        while pos < len(data):
            end = data.index(b"\n", pos)
            yield pos, end
            pos = end + 1

    def rows_with(self, field: int, value: bytes, prefix: bool = False) -> list[list[bytes]]:
        """The rows (split in fields) whose field number ``field`` is ``value`` (with
        ``prefix``: starts with it), found by searching the bytes, so no other row is
        parsed (a raw tab only ever separates fields)."""
        return _rows_with(self.body, field, value, prefix)

    def names_with(self, field: int, value: bytes, prefix: bool = False) -> list[list[bytes]]:
        """rows_with over the names."""
        return _rows_with(self.names, field, value, prefix)

    def name_lines_with(self, field: int, value: bytes) -> list[bytes]:
        """The names lines (unsplit, without their newline) whose field number ``field``
        is ``value``."""
        return _rows_with(self.names, field, value, False, split=False)

    def name_lines(self) -> Iterator[list[bytes]]:
        for line in self.names.splitlines():
            yield line.split(b"\t", 5)


def _rows_with(
    data: bytes, field: int, value: bytes, prefix: bool, split: bool = True
) -> list[Any]:
    needle = b"\t" + value + (b"" if prefix else b"\t")
    found: list[Any] = []
    pos = 0
    while (hit := data.find(needle, pos)) >= 0:
        start = data.rfind(b"\n", 0, hit) + 1
        end = data.index(b"\n", hit)
        pos = end if prefix else hit + 1
        if data.count(b"\t", start, hit) + 1 == field:
            found.append(data[start:end].split(b"\t", 7) if split else data[start:end])
    return found


def stored_refs(common_dir: str) -> bytes | None:
    """The ``refs`` line of the cache file's header (None: no file of this format)."""
    try:
        with open(os.path.join(state_folder(common_dir), FILE), "rb") as handle:
            head = handle.read(HEAD_MAX).split(b"\n", 2)
    except OSError:
        return None
    if len(head) < 3 or head[0] != MAGIC or not head[1].startswith(b"refs "):
        return None
    return head[1][5:]


def load(common_dir: str, whole: bool = True, names: bool = True) -> Snapshot | None:
    """The cache file (without ``whole``: its names alone, body b""; without ``names``,
    names b"": `list --json` reads the body alone), or None when it is missing, foreign,
    damaged or unreadable."""
    return load_file(os.path.join(state_folder(common_dir), FILE), whole, names)


def load_file(path: str, whole: bool = True, with_names: bool = True) -> Snapshot | None:
    try:
        with open(path, "rb") as handle:
            start = handle.read(HEAD_MAX)
            head_end = start.find(b"\n\n")
            head = start[:head_end].split(b"\n") if head_end >= 0 else []
            if len(head) != 5 or head[0] != MAGIC or not head[1].startswith(b"refs "):
                return None
            if not head[2].startswith(b"zone "):
                return None
            sizes = [
                _section(line, name) for line, name in ((head[3], b"names"), (head[4], b"body"))
            ]
            if None in sizes:
                return None
            (names_crc, names_size), (body_crc, body_size) = sizes  # type: ignore[misc]
            handle.seek(head_end + 2 + (0 if with_names else names_size))
            names = handle.read(names_size) if with_names else b""
            body = handle.read(body_size + 1) if whole else b""
    except OSError:
        return None
    if with_names and (len(names) != names_size or zlib.crc32(names) != names_crc):
        return None
    if whole and (len(body) != body_size or zlib.crc32(body) != body_crc):
        return None
    found = Snapshot(names, body, head[1][5:], head[2][5:])
    found.stored = (path, head_end + 2 + names_size, body_size, body_crc)
    return found


def _section(line: bytes, name: bytes) -> tuple[int, int] | None:
    """(crc32, length) from a header line ``<name> <crc32> <length>``."""
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] != name or not parts[2].isdigit() or len(parts[1]) != 8:
        return None
    try:
        return int(parts[1], 16), int(parts[2])
    except ValueError:
        return None


def ascii_json(value: object) -> bytes:
    if type(value) is str:  # nearly always: the encoder's string function, not dumps
        return _encode_string(value).encode("ascii")
    return json.dumps(value, ensure_ascii=True).encode("ascii")


_encode_string = json.encoder.encode_basestring_ascii


def updated_key(meta: dict[str, object]) -> str:
    """What `list` sorts by: the session's last activity, as stored."""
    return str(meta.get("updated", ""))


class Row:
    """One session's cache row: the body line, the names line and what it sorts by."""

    __slots__ = ("body", "key", "name", "session_id")

    def __init__(self, body: bytes, name: bytes, key: str, session_id: bytes) -> None:
        self.body, self.name, self.key, self.session_id = body, name, key, session_id


def row(
    oid: str,
    session_id: str,
    count: int,
    meta: dict[str, object],
    branch_ok: bool,
    text: bytes | None = None,
) -> Row:
    """The cache row of a readable session; a REREAD row when it cannot be stored.
    ``text``: the session.json on one line as json.dumps writes it (msgspec's format of a
    blob msgspec read, so valid UTF-8 JSON of ``meta``), the summary's start.

    A cold listing makes 100,000 of these: the work is written out, not delegated."""
    if "entries" in meta or "log" in meta or "current" in meta:  # SUMMARY_KEYS
        return reread(oid, session_id)  # summarised the slow way
    log = oid.encode()
    try:
        if text is not None and text[-1:] == b"}":
            summary = text[:-1] + b', "entries": %d, "log": "%s", "current": false}' % (count, log)
        else:
            summary = _summary_json(meta, count, oid)
        updated = meta.get("updated", "")
        key = updated if type(updated) is str else str(updated)
        when = key if updated else ""  # what render/text.py ``when`` shows: str(ts or "")
        epoch = _EPOCHS.quick(when)
        title = meta.get("title", _ABSENT_VALUE)
        title = _encode_string(title) if type(title) is str else _stored(title)
        branch = meta.get("branch", _ABSENT_VALUE)
        branch = _encode_string(branch) if type(branch) is str else _stored(branch)
        fields = [
            _encode_string(key).encode("ascii"),
            title.encode("ascii"),
            branch.encode("ascii"),
        ]
        cells = [
            b"%d" % count,
            local_field(epoch) if epoch is not None else when_field(when),
            from_field(meta.get("parent")),
        ]
    except (ValueError, RecursionError, TypeError):
        return reread(oid, session_id)
    sid = session_id.encode("utf-8", "surrogateescape")
    flags = (ARCHIVED if meta.get("status") == "archived" else b"") + (
        b"" if branch_ok else CHECK_BRANCH
    ) or b"-"
    name = b"\t".join([log, sid, flags, fields[1], fields[2], *cells, b"\n"])
    body = b"\t".join([log, sid, cells[0], flags, *fields, summary])
    return Row(body, name, key, sid)


_ABSENT_VALUE = object()


def _stored(value: object) -> str:
    """stored() of a value that is not a string: its JSON, or ``-`` when absent."""
    if value is _ABSENT_VALUE:
        return "-"
    return json.dumps(value, ensure_ascii=True)


def _summary_json(meta: dict[str, object], count: int, oid: str) -> bytes:
    summary = {**meta, "entries": count, "log": oid, "current": False}
    try:
        return json.dumps(summary, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: `list --json` escapes the whole list
        raise ValueError("not UTF-8") from None


def when_field(updated: object) -> bytes:
    """What the table's `updated` column is made of: the timestamp's seconds since the
    epoch (render/text.py ``when`` shows them in local time, at display), or the JSON of
    the text ``when`` shows as it is (a JSON string: it starts with a quote)."""
    text = str(updated or "")
    epoch = _EPOCHS.quick(text)
    if epoch is None:
        from ..render.text import epoch_of

        epoch = epoch_of(text)
    return ascii_json(text) if epoch is None else local_field(epoch)


def local_field(epoch: float) -> bytes:
    """The `updated` field of a timestamp: its seconds since the epoch and, after a
    space, the local time render/text.py ``when`` shows once it is a week old (in the
    zone the file's header names: zone_key())."""
    from ..render.text import Clock

    global _ROW_CLOCK
    if _ROW_CLOCK is None:
        _ROW_CLOCK = Clock()
    try:
        return f"{epoch!r} {_ROW_CLOCK.absolute(epoch)}".encode("ascii")
    except (OverflowError, OSError, ValueError):  # out of the platform's range
        return repr(epoch).encode("ascii")


_ROW_CLOCK: Clock | None = None


def rezoned(name: bytes) -> bytes:
    """A names line with its local time made again in this zone."""
    fields = name.split(b"\t")
    if fields[6][:1] != b'"':
        fields[6] = local_field(float(fields[6].split(b" ", 1)[0]))
    return b"\t".join(fields)


def zone_key() -> bytes:
    """What the local times depend on: TZ (and TZDIR), and the zone file in use (its
    inode, size and time: a tzdata update changes them)."""
    tz = os.environ.get("TZ")
    folder = os.environ.get("TZDIR", "/usr/share/zoneinfo")
    path = "/etc/localtime" if tz is None else os.path.join(folder, tz.lstrip(":"))
    try:
        st = os.stat(path)
        found = f"{st.st_ino} {st.st_size} {st.st_mtime_ns}"
    except (OSError, ValueError):
        found = "-"
    text = f"{tz}\0{folder}\0{path}\0{found}".encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}".encode()


class _Epochs:
    """epoch_of for the form gitsess writes ("2026-03-04T12:05:00.123Z"), its hours
    remembered (100,000 sessions share a few thousand): the same value, several times
    faster. None: not that form (epoch_of decides)."""

    def __init__(self) -> None:
        self.hours: dict[str, float | None] = {}

    def quick(self, text: str) -> float | None:
        if len(text) != 24 or text[19] != "." or text[23] != "Z" or not text.isascii():
            return None
        hour = text[:13]
        start = self.hours.get(hour, -1.0)
        if start == -1.0:
            from ..render.text import epoch_of

            start = self.hours[hour] = epoch_of(hour + ":00:00Z")
        fraction = text[20:23]
        if start is None or text[16] != ":" or not fraction.isdigit():
            return None
        minute, second = int(text[14:16]), int(text[17:19])
        if minute >= 60 or second >= 61:
            return None
        return start + (minute * 60 + second) + float("0." + fraction)


_EPOCHS = _Epochs()


def from_field(parent: object) -> bytes:
    """The session a fork was made from, as the table's `forked from` column shows it."""
    source = parent.get("session") if isinstance(parent, dict) else None
    return ascii_json(source) if isinstance(source, str) and source else ABSENT


def stored(meta: dict[str, object], key: str) -> bytes:
    """A field as a row holds it: its JSON, or ``-`` (never JSON) when there is none."""
    return ascii_json(meta[key]) if key in meta else ABSENT


def field_value(field: bytes) -> object:
    """The value a row's ``title`` or ``branch`` field holds (None: absent)."""
    return None if field == ABSENT else json.loads(field)


def reread(oid: str, session_id: str) -> Row:
    sid = session_id.encode("utf-8", "surrogateescape")
    body = b'%s\t%s\t0\tR\t""\t-\t-\t{}' % (oid.encode(), sid)
    name = b"\t".join([oid.encode(), sid, REREAD, ABSENT, ABSENT, b"0", b'""', ABSENT, b"\n"])
    return Row(body, name, "", sid)


def decoded_key(field: bytes) -> str:
    """The `updated` sort key of a row from its JSON field."""
    if b"\\" not in field:
        return field[1:-1].decode("ascii", "replace")
    value = json.loads(field)
    return value if isinstance(value, str) else ""


class Builder:
    """A new cache file, made from rows given in any order, without holding the rows:
    the bodies (nine tenths of the file) wait in a temporary file (or in the old cache
    file's body, for the rows kept), and only their places are sorted."""

    def __init__(self, common_dir: str, old: bytes = b"", old_zone: bytes = ABSENT) -> None:
        from array import array  # here: the hot commands never build the file

        self.zone = zone_key()
        self.rezone = old_zone != self.zone  # kept rows' local times are made again
        self.common_dir = common_dir
        self.folder = state_folder(common_dir)
        self.spill: int | None = None
        try:
            os.makedirs(self.folder, exist_ok=True)
            spill = os.path.join(self.folder, f"{FILE}.{os.getpid()}.rows")
            self.spill = os.open(spill, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            os.unlink(spill)  # gone with the descriptor, whatever happens
        except OSError:  # read-only: the rows stay in memory
            pass
        self.kept: list[bytes] = []  # the bodies not (yet) in the temporary file
        self.spilled = 0
        self.old = old  # the old file's body: kept rows are copied from it
        self.keys: list[str] = []
        self.ids: list[bytes] = []
        self.names: list[bytes] = []
        self.starts = array("q")  # where each body is: >= 0 in the temporary file,
        self.lengths = array("q")  # < 0 (-1 - offset) in ``old``

    def add(self, made: Row) -> None:
        self.keys.append(made.key)
        self.ids.append(made.session_id)
        self.names.append(made.name)
        self.starts.append(self.spilled)
        self.lengths.append(len(made.body))
        self.kept.append(made.body)
        self.spilled += len(made.body)
        if len(self.kept) >= 2000 and self.spill is not None:
            self._spill()

    def add_line(self, body: bytes, name: bytes) -> None:
        """A row of the old file, kept as it is (its local time made again in another
        zone)."""
        tabs = [body.index(b"\t")]
        for _ in range(4):
            tabs.append(body.index(b"\t", tabs[-1] + 1))
        sid = body[tabs[0] + 1 : tabs[1]]
        name = rezoned(name) if self.rezone else name
        self.add(Row(body, name, decoded_key(body[tabs[3] + 1 : tabs[4]]), sid))

    def keep(self, name: bytes, start: int, end: int) -> None:
        """A row of the old body (``old[start:end]``) and its names line, kept as it is."""
        old = self.old
        tabs = [old.index(b"\t", start)]
        for _ in range(4):
            tabs.append(old.index(b"\t", tabs[-1] + 1))
        self.keys.append(decoded_key(old[tabs[3] + 1 : tabs[4]]))
        self.ids.append(old[tabs[0] + 1 : tabs[1]])
        self.names.append(rezoned(name) if self.rezone else name)
        self.starts.append(-1 - start)
        self.lengths.append(end - start)

    def _spill(self) -> None:
        if self.spill is None:
            return
        data = memoryview(b"".join(self.kept))
        while data:
            data = data[os.write(self.spill, data) :]
        self.kept = []

    def __len__(self) -> int:
        return len(self.keys)

    def order(self) -> list[int]:
        """Most recently updated first, ties by session id (as `list` sorts)."""
        ids, keys = self.ids, self.keys
        order = sorted(range(len(ids)), key=ids.__getitem__)
        order.sort(key=keys.__getitem__, reverse=True)
        return order

    def finish(self, refs: bytes, with_names: bool = True) -> Snapshot:
        """Write the file (renamed into place: readers see the old one or the new one)
        and read it back (``with_names``: its names too); where it cannot be written (a
        read-only repository, which only lists more slowly), the snapshot is made in
        memory."""
        self._spill()
        order = self.order()
        names = b"".join([self.names[at] for at in order])
        self.names, self.keys, self.ids = [], [], []
        tmp = os.path.join(self.folder, f"{FILE}.{os.getpid()}.tmp")
        try:
            if not self._write(tmp, refs, names, order):
                body = io.BytesIO()
                self._copy_bodies(order, body)
                return Snapshot(names, body.getvalue(), refs, self.zone)
            del names, order  # before the file is read back: never both in memory
            self.old = b""
            self.close()
            found = load_file(tmp, with_names=with_names)
            if found is None:
                raise GitsessError(f"cannot read back {tmp}")
            from contextlib import suppress

            with suppress(OSError):  # not renamed: this run lists from memory all the same
                os.replace(tmp, os.path.join(self.folder, FILE))
            return found
        finally:
            self.close()
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _write(self, tmp: str, refs: bytes, names: bytes, order: list[int]) -> bool:
        size = sum(self.lengths) + len(order)
        head = b"%s\nrefs %s\nzone %s\nnames %08x %d\nbody " % (
            MAGIC,
            refs,
            self.zone,
            zlib.crc32(names),
            len(names),
        )
        try:
            with open(tmp, "wb") as handle:
                handle.write(head + b"00000000 %d\n\n" % size)
                handle.write(names)
                crc = self._copy_bodies(order, handle)
                handle.seek(len(head))
                handle.write(b"%08x" % crc)
        except OSError:
            return False
        return True

    def close(self) -> None:
        if self.spill is not None:
            os.close(self.spill)
            self.spill = None

    def _copy_bodies(self, order: list[int], handle: BinaryIO | io.BytesIO) -> int:
        """The bodies in ``order``, a line each, into ``handle``; their checksum."""
        spill, old, starts, lengths = self.spill, self.old, self.starts, self.lengths
        crc, chunk = 0, []
        held = b"".join(self.kept) if spill is None else b""  # read-only: in memory
        for at in order:
            start, length = starts[at], lengths[at]
            if start >= 0:
                piece = os.pread(spill, length, start) if spill is not None else None
                chunk.append(held[start : start + length] if piece is None else piece)
            else:
                chunk.append(old[-1 - start : -1 - start + length])
            if len(chunk) >= 2000:
                data = b"\n".join(chunk) + b"\n"
                crc = zlib.crc32(data, crc)
                handle.write(data)
                chunk = []
        if chunk:
            data = b"\n".join(chunk) + b"\n"
            crc = zlib.crc32(data, crc)
            handle.write(data)
        return crc
