"""Session logs: log commits under refs/sessions/<id> (docs/format.md section 4).

A log commit's tree holds ``session.json`` and ``log/NNNNNNNN.jsonl``
segments. Appending rewrites only the last segment, so its cost does not grow
with the log. Every ref update is a compare-and-swap; a lost race re-reads
the log and applies the change again.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

from ..errors import BrokenSession, Conflict, GitsessError, SessionNotFound
from . import listcache
from .layout import LOG_DIR, META_FILE, QUARANTINE, SESSIONS
from .objects import (
    BLOB_MODE,
    TREE_MODE,
    Commit,
    Oversize,
    TreeEntry,
    decode_commit,
    decode_tree,
)
from .repo import RefMoved, Repository

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .objects import GitObject, ObjectReader
else:
    Any = object

SEGMENT_MAX_ENTRIES = 1000
SEGMENT_MAX_BYTES = 1 << 20
ENTRIES_TRAILER = "Entries"
MAX_ATTEMPTS = 400
# A session.json over META_MAX_BYTES is never read into memory, whoever wrote it (a fetched
# log is anyone's data); gitsess writes a few hundred bytes.
META_MAX_BYTES = 1 << 20
NESTED_TOO_DEEPLY = "nested too deeply to read"

_STORED_ID = re.compile(rb'^\{"id":"([A-Za-z0-9._:-]{1,64})"', re.MULTILINE)
Meta = dict[str, Any]
Entry = dict[str, Any]


def session_ref(session_id: str) -> str:
    return SESSIONS + session_id


def recorded_count(commit: Commit) -> int | None:
    """The entry count a log commit records in its `Entries:` trailer (None: none, or not
    a count)."""
    trailer = commit.trailer(ENTRIES_TRAILER)
    return int(trailer) if trailer and trailer.isdigit() else None


_WRITTEN_COUNT = re.compile(rb"\n\nSession: [^\n]*\nEntries: ([0-9]+)\n\Z")


def written_count(data: bytes) -> int | None:
    """recorded_count of a raw log commit: read off its end where gitsess wrote it (the
    message ends with the Session and Entries trailers), else decoded."""
    found = _WRITTEN_COUNT.search(data, max(0, len(data) - 120))
    return int(found.group(1)) if found else recorded_count(decode_commit(data))


def segment_name(index: int) -> str:
    return f"{index:08d}.jsonl"


# Built once: json.dumps with options builds a new encoder on every call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_COMPACT_ASCII = json.JSONEncoder(separators=(",", ":"))
# For new input: NaN and infinities (`1e400` reads as one) are no JSON numbers.
_STRICT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_STRICT_ASCII = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def encode_json(value: Any, allow_nan: bool = True) -> bytes:
    """Compact JSON, UTF-8; escapes only what UTF-8 cannot carry (lone surrogates).

    ``allow_nan=False``: ValueError for NaN and infinities, which JSON has no numbers
    for; new input is held to that, stored lines are not.
    """
    encoder, ascii_encoder = (_COMPACT, _COMPACT_ASCII) if allow_nan else (_STRICT, _STRICT_ASCII)
    try:
        return encoder.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        return ascii_encoder.encode(value).encode("ascii")


def encode_meta(meta: Meta) -> bytes:
    return (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode(
        "utf-8", "backslashreplace"
    )


def load_json(data: bytes | str) -> Any:
    """Stored JSON, read the one way every reader of logs uses: ValueError for anything
    that is not JSON, and for nesting deeper than json's recursion allows (about 1,000
    levels: a fetched line can be nested 200,000 deep, and json raises RecursionError)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(NESTED_TOO_DEEPLY) from None


def load_meta(session_id: str, blob: Any) -> Meta:
    """The session.json of session ``session_id`` from its blob (a GitObject), or
    BrokenSession saying why it cannot be that session's: over META_MAX_BYTES, not JSON,
    nested too deeply, not an object, or naming another session (whoever can push a log
    can write any session.json: the ref's name says which session it is)."""
    if isinstance(blob, Oversize):
        raise BrokenSession(
            session_id,
            f"its {META_FILE} is {blob.size:,} bytes, over the {META_MAX_BYTES:,}-byte limit",
        )
    try:
        meta = load_json(blob.data) if blob is not None else None
    except ValueError as exc:
        reason = str(exc) if str(exc) == NESTED_TOO_DEEPLY else "not a JSON object"
        raise BrokenSession(session_id, f"its {META_FILE} is {reason}") from None
    if not isinstance(meta, dict):
        raise BrokenSession(session_id, f"its {META_FILE} is not a JSON object")
    claimed = meta.get("id")
    if claimed != session_id:
        shown = repr(claimed)[:40]
        raise BrokenSession(
            session_id, f"its {META_FILE} says it is session {shown}, not {session_id}"
        )
    return meta


class LogState:
    """One session's log as read at one value of its ref.

    Plain slotted classes rather than dataclasses here and in objects.py: importing
    dataclasses (and the inspect module it pulls in) costs `status` about 10 ms.
    """

    __slots__ = ("commit", "count", "meta", "oid", "root", "segments", "session_id")

    def __init__(
        self,
        session_id: str,
        oid: str,
        commit: Commit,
        root: list[TreeEntry],
        segments: list[TreeEntry],
        meta: Meta,
        count: int,
    ) -> None:
        self.session_id = session_id
        self.oid = oid
        self.commit = commit
        self.root = root
        self.segments = segments
        self.meta = meta
        self.count = count


class Change:
    """What one log commit changes: the new metadata, entries to append, and why."""

    __slots__ = ("lines", "message", "meta")

    def __init__(self, meta: Meta, message: str, lines: list[bytes] | None = None) -> None:
        self.meta = meta
        self.message = message
        self.lines = lines or []


class RawLog:
    """A log commit read without trusting it (for `doctor`): what is there, what is not."""

    __slots__ = (
        "commit",
        "data",
        "meta",
        "meta_size",
        "oid",
        "problem",
        "root",
        "segments",
        "unreachable",
    )

    def __init__(self, oid: str) -> None:
        self.oid = oid
        self.commit: Commit | None = None
        self.root: list[TreeEntry] = []
        self.meta: bytes | None = None  # session.json as stored, None if the tree has none
        self.meta_size: int | None = None  # set when session.json is over META_MAX_BYTES
        self.segments: list[TreeEntry] = []
        self.data: dict[str, bytes] = {}  # segment contents by blob id
        self.problem: str | None = None  # why it is unusable: a missing object or file
        self.unreachable = False  # objects git could not fetch (a partial clone offline)


class Listed:
    """A session as `list` sees it: its metadata, entry count and log commit."""

    __slots__ = ("count", "meta", "oid")

    def __init__(self, meta: Meta, count: int, oid: str) -> None:
        self.meta = meta
        self.count = count
        self.oid = oid


class LogStore:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        # Sessions the last read_all could not read, and why.
        self.broken: dict[str, BrokenSession] = {}

    # -- reading ------------------------------------------------------------

    def exists(self, session_id: str) -> bool:
        return self.repo.ref_value(session_ref(session_id)) is not None

    def state(self, session_id: str, at: str | None = None) -> LogState | None:
        """The log of ``session_id`` (at log commit ``at``, else its ref), or None."""
        reader = self.repo.reader
        obj = reader.read(at or session_ref(session_id))
        if obj is None or obj.kind != "commit":
            if at is None and obj is not None:
                raise BrokenSession(session_id, f"its ref points at a {obj.kind}, not a commit")
            if at is None and (dangling := self.repo.refs(session_ref(session_id))):
                oid = dangling[0].split(" ", 1)[0]
                raise BrokenSession(session_id, f"its log commit {oid[:12]} is missing")
            return None
        commit = decode_commit(obj.data)
        root = self._tree(commit.tree, session_id)
        named = {entry.name: entry for entry in root}
        if META_FILE not in named:
            raise BrokenSession(session_id, f"log commit {obj.oid[:12]} has no {META_FILE}")
        try:
            meta_obj = reader.read(named[META_FILE].oid, max_size=META_MAX_BYTES)
        except GitsessError as exc:  # a partial clone whose promisor remote is gone
            raise BrokenSession(session_id, exc.message, exc.exit_code) from None
        meta = load_meta(session_id, meta_obj)
        log_dir = named.get(LOG_DIR)
        segments = self._tree(log_dir.oid, session_id) if log_dir else []
        segments.sort(key=lambda e: e.name)
        state = LogState(session_id, obj.oid, commit, root, segments, meta, 0)
        recorded = recorded_count(commit)
        state.count = recorded if recorded is not None else sum(1 for _ in self.lines(state))
        return state

    def prefetch_states(self, session_ids: list[str]) -> None:
        """Read what state() reads for each of ``session_ids`` (log commit, its tree,
        session.json, the log tree) in three batches, for state() to find in memory
        until the reader's forget(). state() still checks everything itself."""
        reader = self.repo.reader
        commits = reader.prefetch([session_ref(s) for s in session_ids])
        roots = [decode_commit(c.data).tree for c in commits if c and c.kind == "commit"]
        inner = []
        for root in reader.prefetch(roots):
            if root is None or root.kind != "tree":
                continue
            try:
                entries = decode_tree(root.data, self.repo.oid_length)
            except (ValueError, IndexError):  # state() says what is wrong with it
                continue
            inner += [e.oid for e in entries if e.name in (META_FILE, LOG_DIR)]
        reader.prefetch(inner)

    def require(self, session_id: str) -> LogState:
        state = self.state(session_id)
        if state is None:
            raise SessionNotFound(f"no session {session_id}")
        return state

    def lines(self, state: LogState, segments: list[TreeEntry] | None = None) -> Iterator[bytes]:
        """Every entry line of the log, in order."""
        chosen = state.segments if segments is None else segments
        for data in self.segment_blobs(chosen, state.session_id):
            yield from data.splitlines()

    def ids(self, state: LogState) -> Iterator[str]:
        """Every entry id in the log; entries are stored id first, so few lines need parsing.
        Read 16 segments at a time: memory stays bounded however long the log."""
        segments = state.segments
        blobs = (
            data
            for at in range(0, len(segments), 16)
            for data in self.segment_blobs(segments[at : at + 16], state.session_id)
        )
        for data in blobs:
            found = _STORED_ID.findall(data)
            yield from (m.decode() for m in found)
            if len(found) != data.count(b"\n"):  # lines from another writer: parse them
                for line in data.splitlines():
                    if not _STORED_ID.match(line):
                        entry_id = parse_line(line).get("id")
                        if isinstance(entry_id, str):
                            yield entry_id

    def segment_data(self, oids: list[str]) -> dict[str, bytes]:
        """The contents of segment blobs, by oid, in one `cat-file` whatever their number."""
        found = self.repo.reader.read_many(oids)
        return {oid: obj.data for oid, obj in zip(oids, found, strict=True) if obj is not None}

    def entries(self, state: LogState) -> list[Entry]:
        return [parse_line(line) for line in self.lines(state) if line.strip()]

    def last_entries(self, state: LogState, count: int) -> list[Entry]:
        """The last ``count`` entries, reading only the segments that hold them."""
        picked: list[bytes] = []
        for segment in reversed(state.segments):
            picked[:0] = self.segment_blobs([segment], state.session_id)[0].splitlines()
            if len(picked) >= count:
                break
        return [parse_line(line) for line in picked[-count:] if line.strip()] if count else []

    def read_all(self) -> list[Listed]:
        """Every session, most recently updated first (ties by id), from the listing cache
        (storage/listcache.py): only logs written since it was last brought up to date are
        read from git. Sessions that cannot be read are left out, in ``broken``."""
        snapshot = self.listing_cache()
        listed: list[Listed] = []
        again: list[tuple[str, str]] = []
        from ..jsonl import QUICK_AFTER

        for number, line in enumerate(snapshot.lines()):
            oid, sid, count, flags, _, _, _, summary = line.split(b"\t", 7)
            if listcache.REREAD in flags:
                again.append((oid.decode(), sid.decode()))
                continue
            meta = summary_meta(summary, quick=number >= QUICK_AFTER)
            listed.append(Listed(meta, int(count), oid.decode()))
        self.broken = {}
        if again:
            listed += self._read_listed(again)
            listed.sort(key=lambda r: str(r.meta.get("id", "")))
            listed.sort(key=lambda r: listcache.updated_key(r.meta), reverse=True)
        return listed

    def listing_cache(self, whole: bool = True, names: bool = True) -> listcache.Snapshot:
        """The listing cache, brought up to date: when the session refs changed since it was
        written, one for-each-ref (no objects) and a read of the new logs alone; with no
        cache at all, every session in one stream (storage/listread.py). Without
        ``whole``, only the names may be read (name lookups need no more); without
        ``names``, only the body (`list --json` needs no more)."""
        common = self.repo.common_dir_path
        refs = listcache.fingerprint(common)  # before listing: a change after it shows next time
        stored = listcache.stored_refs(common)  # the header alone: nothing read in vain
        if stored is not None and refs is not None and stored == refs:
            cached = listcache.load(common, whole, names)
            if cached is not None and cached.refs == refs:
                return cached
        if stored is None:
            built = self._cold_cache(common, refs or b"-", names)
            if built is not None:
                return built
        else:
            updated = self._updated_cache(common, refs or b"-", names)
            if updated is not None:
                return updated
        # git could not stream every session, or the file changed under us: read it whole.
        cached = listcache.load(common)
        if cached is None and stored is not None:  # damaged: made again from nothing
            built = self._cold_cache(common, refs or b"-", names)
            if built is not None:
                return built
        builder = (
            listcache.Builder(common, cached.body, cached.zone)
            if cached is not None
            else listcache.Builder(common)
        )
        try:
            known = cached.places() if cached is not None else {}
            wanted: list[tuple[str, str]] = []
            for line in self.repo.refs(SESSIONS):
                oid, ref = line.split(" ", 1)
                session_id = ref[len(SESSIONS) :]
                found = known.pop(f"{oid}\t{session_id}".encode("utf-8", "surrogateescape"), None)
                if found is None:
                    wanted.append((oid, session_id))
                else:
                    builder.keep(*found)
            for made in self._cache_rows(wanted):
                builder.add(made)
            if cached is not None and not wanted and not known and cached.refs == (refs or b"-"):
                return cached
            del cached, known  # the old file is read back no more: never both in memory
            return builder.finish(refs or b"-", names)
        finally:
            builder.close()

    def _updated_cache(self, common: str, refs: bytes, names: bool) -> listcache.Snapshot | None:
        """The cache file brought up to date a row at a time: the old rows whose ref still
        names their log copied as they are (its body read a megabyte at a time: never all
        of it in memory), the new logs read from git. None when the old file changed
        under us (then it is read whole)."""
        old = listcache.load(common, whole=False)
        if old is None or old.stored is None:
            return None
        now: dict[bytes, None] = {}
        for line in self.repo.refs(SESSIONS):
            oid, ref = line.split(" ", 1)
            now[f"{oid}\t{ref[len(SESSIONS) :]}".encode("utf-8", "surrogateescape")] = None
        builder = listcache.Builder(common, old_zone=old.zone)
        try:
            try:
                for name, body in zip(old.names.splitlines(True), old.stored_lines(), strict=True):
                    cut = name.index(b"\t", name.index(b"\t") + 1)
                    if now.pop(name[:cut], False) is None:
                        builder.add_line(body, name)
            except ValueError:  # changed while read, or its sections do not match
                return None
            del old
            pairs = (key.decode("utf-8", "surrogateescape").split("\t", 1) for key in now)
            for made in self._cache_rows([(oid, sid) for oid, sid in pairs]):
                builder.add(made)
            return builder.finish(refs, names)
        finally:
            builder.close()

    def _cold_cache(
        self, common: str, refs: bytes, names: bool = True
    ) -> listcache.Snapshot | None:
        """The cache made from nothing: every log commit and session.json in one stream,
        each row written as read. None when git could not read them all (then they are
        read the careful way)."""
        from ..ids import DEFAULT_BRANCH_PREFIX, branch_problem
        from ..jsonl import NOT_READ, one_line, quick
        from .listread import LogStream, Unfinished
        from .objects import GitObject

        builder = listcache.Builder(common)
        stream = LogStream(self.repo.git, META_MAX_BYTES)
        uncounted: list[tuple[str, str, Meta]] = []
        try:
            for log in stream:
                oid, session_id = log.oid, log.session_id
                if log.commit is None or log.meta is None:
                    builder.add(listcache.reread(oid, session_id))
                    continue
                meta = quick(log.meta)
                text = one_line(log.meta) if meta is not NOT_READ else None
                if type(meta) is not dict or meta.get("id") != session_id:
                    text = None  # json reads it, for the verdict json gives
                    try:
                        meta = load_meta(session_id, GitObject(oid, "blob", log.meta))
                    except BrokenSession:
                        builder.add(listcache.reread(oid, session_id))
                        continue
                count = written_count(log.commit)
                if count is None:  # a log written before the trailer existed: counted below
                    uncounted.append((oid, session_id, meta))
                    continue
                problem = branch_problem(meta.get("branch"), session_id, DEFAULT_BRANCH_PREFIX)
                builder.add(listcache.row(oid, session_id, count, meta, problem is None, text))
        except Unfinished:
            stream.close()
            builder.close()
            return None
        for oid, session_id, meta in uncounted:
            state = self.state(session_id, at=oid)
            problem = branch_problem(meta.get("branch"), session_id, DEFAULT_BRANCH_PREFIX)
            count = state.count if state else 0
            builder.add(listcache.row(oid, session_id, count, meta, problem is None))
        if stream.lost:  # refs naming objects git does not have: unreadable, said later
            for line in self.repo.refs(SESSIONS):
                oid, ref = line.split(" ", 1)
                if oid in stream.lost:
                    builder.add(listcache.reread(oid, ref[len(SESSIONS) :]))
        return builder.finish(refs, names)

    CHUNK = 5000  # sessions read per cat-file: memory stays bounded however many are new

    def _cache_rows(self, wanted: list[tuple[str, str]]) -> Iterator[listcache.Row]:
        """Cache rows for the logs in ``wanted`` ((log commit, session id) pairs)."""
        from ..ids import DEFAULT_BRANCH_PREFIX, branch_problem

        for at in range(0, len(wanted), self.CHUNK):
            chunk = wanted[at : at + self.CHUNK]
            specs = [f"{oid}:{META_FILE}" for oid, _ in chunk] + [oid for oid, _ in chunk]
            found = self.repo.reader.read_many(specs, {}, max_size=META_MAX_BYTES)
            blobs, commits = found[: len(chunk)], found[len(chunk) :]
            for (oid, session_id), blob, commit in zip(chunk, blobs, commits, strict=True):
                if blob is None or commit is None or commit.kind != "commit":
                    yield listcache.reread(oid, session_id)
                    continue
                try:
                    meta = load_meta(session_id, blob)
                except BrokenSession:
                    yield listcache.reread(oid, session_id)
                    continue
                count = written_count(commit.data)
                if count is None:  # a log written before the trailer existed: count it
                    state = self.state(session_id, at=oid)
                    count = state.count if state else 0
                problem = branch_problem(meta.get("branch"), session_id, DEFAULT_BRANCH_PREFIX)
                yield listcache.row(oid, session_id, count, meta, problem is None)

    def _read_listed(self, pairs: list[tuple[str, str]]) -> list[Listed]:
        """Sessions read from git, not the cache ((log commit, id) pairs): the readable
        ones; each unreadable one goes in ``broken``, saying why."""
        failed: dict[str, str] = {}
        specs = [f"{oid}:{META_FILE}" for oid, _ in pairs]
        blobs = self.repo.reader.read_many(specs, failed, max_size=META_MAX_BYTES)
        listed = []
        for (oid, session_id), spec, blob in zip(pairs, specs, blobs, strict=True):
            try:
                if blob is None:
                    why = failed.get(spec)
                    raise BrokenSession(
                        session_id, why or self._problem(oid, True), 1 if why else None
                    )
                meta = load_meta(session_id, blob)
                state = self.state(session_id, at=oid)
            except BrokenSession as exc:
                # Listed apart, for `list` to warn about and `doctor` to look into.
                self.broken[session_id] = exc
                continue
            listed.append(Listed(meta, state.count if state else 0, oid))
        return listed

    def inspect(self, oid: str) -> RawLog:
        """The log commit ``oid`` as stored, naming the first object or file it lacks.

        Never raises on bad data: `doctor` reads broken logs with it.
        """
        raw = RawLog(oid)
        try:
            self._inspect(raw)
        except GitsessError as exc:  # objects git cannot read (a partial clone offline)
            raw.problem = exc.message
            raw.unreachable = True
        return raw

    def inspect_many(self, oids: list[str]) -> dict[str, RawLog]:
        """inspect() for many log commits: their objects read level by level (commits,
        trees, session.json and log folders, segments) in a few `cat-file` processes,
        rather than one round trip per object. `doctor` over 100,000 logs."""
        reader = Prefetched(self.repo.reader)
        found: dict[str, RawLog] = {}
        try:
            self._prefetch(reader, oids)
        except GitsessError:  # git gave up on the batch: inspect each on its own
            return {oid: self.inspect(oid) for oid in oids}
        for oid in oids:
            raw = RawLog(oid)
            try:
                self._inspect(raw, reader)
            except GitsessError as exc:
                raw.problem = exc.message
                raw.unreachable = True
            found[oid] = raw
        return found

    def _prefetch(self, reader: Prefetched, oids: list[str]) -> None:
        length = self.repo.oid_length

        def trees(objs: list[GitObject | None]) -> list[list[TreeEntry]]:
            decoded = []
            for obj in objs:
                try:
                    if obj is not None and obj.kind == "tree":
                        decoded.append(decode_tree(obj.data, length))
                except ValueError:  # _inspect names it
                    pass
            return decoded

        commits = reader.fetch(oids)
        roots = trees(
            reader.fetch([decode_commit(c.data).tree for c in commits if c and c.kind == "commit"])
        )
        named = [{e.name: e for e in root} for root in roots]
        metas = [n[META_FILE].oid for n in named if META_FILE in n and not n[META_FILE].is_tree]
        reader.fetch(metas, max_size=META_MAX_BYTES)
        folders = [n[LOG_DIR].oid for n in named if LOG_DIR in n and n[LOG_DIR].is_tree]
        segments = [e.oid for listing in trees(reader.fetch(folders)) for e in listing]
        reader.fetch(segments)

    def _inspect(self, raw: RawLog, reader: ObjectReader | Prefetched | None = None) -> None:
        reader = reader or self.repo.reader
        oid = raw.oid
        obj = reader.read(oid)
        if obj is None:
            raw.problem = f"{oid[:12]} is not in the repository"
            return
        if obj.kind != "commit":
            raw.problem = f"{oid[:12]} is a {obj.kind}, not a log commit"
            return
        raw.commit = decode_commit(obj.data)
        tree = reader.read(raw.commit.tree) if raw.commit.tree else None
        if tree is None or tree.kind != "tree":
            raw.problem = f"the tree {raw.commit.tree[:12]} of log commit {oid[:12]} is missing"
            return
        try:
            raw.root = decode_tree(tree.data, self.repo.oid_length)
        except ValueError:
            raw.problem = f"the tree {tree.oid[:12]} of log commit {oid[:12]} is corrupt"
            return
        named = {entry.name: entry for entry in raw.root}
        meta = named.get(META_FILE)
        if meta is not None:  # a log commit without one is complete: session.json is missing
            meta_obj = reader.read(meta.oid, max_size=META_MAX_BYTES) if not meta.is_tree else None
            if meta_obj is None:
                raw.problem = f"the {META_FILE} of log commit {oid[:12]} is missing"
                return
            if isinstance(meta_obj, Oversize):
                raw.meta_size = meta_obj.size
            raw.meta = meta_obj.data
        log_dir = named.get(LOG_DIR)
        if log_dir is None:
            count = raw.commit.trailer(ENTRIES_TRAILER)
            if count and count != "0":
                raw.problem = f"log commit {oid[:12]} has no {LOG_DIR}/ but records {count} entries"
            return
        listing = reader.read(log_dir.oid) if log_dir.is_tree else None
        if listing is None or listing.kind != "tree":
            raw.problem = f"the {LOG_DIR}/ folder of log commit {oid[:12]} is missing"
            return
        try:
            entries = decode_tree(listing.data, self.repo.oid_length)
        except ValueError:
            raw.problem = f"the {LOG_DIR}/ folder of log commit {oid[:12]} is corrupt"
            return
        raw.segments = sorted((e for e in entries if not e.is_tree), key=lambda e: e.name)
        if isinstance(reader, Prefetched):
            raw.data = reader.data([s.oid for s in raw.segments])
        else:
            raw.data = self.segment_data([s.oid for s in raw.segments])
        for segment in raw.segments:
            if segment.oid not in raw.data:
                raw.problem = f"{LOG_DIR}/{segment.name} of log commit {oid[:12]} is missing"
                return

    def earlier_meta(self, oid: str, limit: int = 50) -> tuple[str, Meta] | None:
        """The newest session.json that is a JSON object in the first-parent history before
        log commit ``oid`` (of at most ``limit`` commits), and the commit holding it."""
        out = self.repo.git.text(
            "rev-list", "--first-parent", f"--max-count={limit}", f"{oid}^", "--", check=False
        )
        commits = [c for c in out.split() if len(c) in (40, 64)]
        specs = [f"{c}:{META_FILE}" for c in commits]
        blobs = self.repo.reader.read_many(specs, max_size=META_MAX_BYTES)
        for commit, blob in zip(commits, blobs, strict=True):
            try:
                meta = load_json(blob.data) if blob and not isinstance(blob, Oversize) else None
            except ValueError:
                continue
            if isinstance(meta, dict):
                return commit, meta
        return None

    def entry_counts(self, oid: str) -> list[tuple[str, int | None]]:
        """(log commit, its `Entries:` count or None) along the first-parent line from
        ``oid``, newest first, in one git process."""
        out = self.repo.git.text(
            "log",
            "--first-parent",
            "--format=%H %(trailers:key=Entries,valueonly,separator=%x2C)",
            oid,
        )
        found: list[tuple[str, int | None]] = []
        for line in out.splitlines():
            sha, _, value = line.partition(" ")
            value = value.strip()
            found.append((sha, int(value) if value.isdigit() else None))
        return found

    def read_many(self, session_ids: list[str]) -> dict[str, Listed]:
        """Metadata and log commit of several sessions, in one `cat-file` whatever their number."""
        specs = [session_ref(s) for s in session_ids] + [
            f"{session_ref(s)}:{META_FILE}" for s in session_ids
        ]
        found = self.repo.reader.read_many(specs, max_size=META_MAX_BYTES)
        commits, blobs = found[: len(session_ids)], found[len(session_ids) :]
        listed = {}
        for session_id, commit, blob in zip(session_ids, commits, blobs, strict=True):
            if commit is None or blob is None:
                continue
            try:
                meta = load_meta(session_id, blob)
            except BrokenSession:
                continue
            recorded = recorded_count(decode_commit(commit.data))
            count = -1 if recorded is None else recorded
            listed[session_id] = Listed(meta, count, commit.oid)
        return listed

    # -- writing ------------------------------------------------------------

    def create(
        self,
        meta: Meta,
        *,
        segments: list[TreeEntry] | None = None,
        lines: list[bytes] | None = None,
        parents: list[str] | None = None,
        message: str = "create",
    ) -> str:
        """Write a new session's first log commit; fails if the ref already exists."""
        session_id = meta["id"]
        base = segments or []
        count_before = self._count_segments(base, session_id)
        new_segments = self._append_segments(base, list(lines or []), session_id)
        count = count_before + len(lines or [])
        oid = self._commit(session_id, [], meta, new_segments, parents or [], message, count)
        try:
            self.repo.update_ref(session_ref(session_id), oid, None, f"gitsess: {message}")
        except RefMoved:
            raise Conflict(f"session {session_id} already exists") from None
        return oid

    def snapshot(
        self,
        session_id: str,
        meta: Meta,
        segments: list[TreeEntry],
        lines: list[bytes],
        message: str,
    ) -> str:
        """Write a parentless log commit of ``segments`` plus ``lines``; no ref points at it
        (a fork's first log commit will have it as parent)."""
        count = self._count_segments(segments, session_id) + len(lines)
        new_segments = self._append_segments(segments, lines, session_id)
        return self._commit(session_id, [], meta, new_segments, [], message, count)

    def update(self, session_id: str, change: Callable[[LogState], Change | None]) -> str:
        """Apply ``change`` to the session's log with compare-and-swap, retrying lost races.

        ``change`` may run several times, each time on the freshest state; it
        returns None to write nothing.
        """
        for attempt in range(MAX_ATTEMPTS):
            state = self.require(session_id)
            wanted = change(state)
            if wanted is None:
                return state.oid
            segments = self._append_segments(state.segments, wanted.lines, session_id)
            oid = self._commit(
                session_id,
                state.root,
                wanted.meta,
                segments,
                [state.oid],
                wanted.message,
                state.count + len(wanted.lines),
            )
            try:
                self.repo.update_ref(
                    session_ref(session_id), oid, state.oid, f"gitsess: {wanted.message}"
                )
                return oid
            except RefMoved:
                import random  # only under contention: not on every start-up

                time.sleep(random.uniform(0.001, 0.004) * min(attempt + 1, 25))
        raise Conflict(f"session {session_id} kept changing under gitsess; nothing was written")

    def replace(
        self,
        session_id: str,
        meta: Meta,
        lines: list[bytes],
        parents: list[str],
        expected: str | None,
        message: str,
        root: list[TreeEntry] | None = None,
    ) -> str:
        """Write a log commit holding exactly ``lines`` and move the ref to it from ``expected``.

        Segments are packed the way appends pack them, so equal logs get equal
        trees. The files beside the log are kept from ``root``, else from
        ``expected``. Raises RefMoved if the ref is no longer at ``expected``.
        """
        if root is None:
            state = self.state(session_id, at=expected) if expected else None
            root = state.root if state else []
        segments = self._append_segments([], lines, session_id)
        oid = self._commit(session_id, root, meta, segments, parents, message, len(lines))
        self.repo.update_ref(session_ref(session_id), oid, expected, f"gitsess: {message}")
        return oid

    def move(self, session_id: str, new: str, expected: str | None, message: str) -> None:
        """Point the session's ref at an existing log commit (compare-and-swap)."""
        self.repo.update_ref(session_ref(session_id), new, expected, f"gitsess: {message}")

    def delete(self, session_id: str) -> str:
        """Remove the session's ref, after copying its log into the trash (see trash.py)."""
        state = self.require(session_id)
        self.keep(state.oid, f"delete {session_id} {state.meta.get('title', '')}")
        self.repo.delete_ref(session_ref(session_id), state.oid, f"gitsess: delete {session_id}")
        return state.oid

    def delete_many(self, states: list[tuple[str, str, Meta]]) -> list[str]:
        """delete() for many (session id, log commit, session.json) at once: their logs
        go into the trash together, then their refs go in one compare-and-swap transaction.
        The ids deleted: a session whose ref moved meanwhile (a writer appended) stays."""
        from .trash import Trash

        if not states:
            return []
        logs = [(oid, f"delete {sid} {meta.get('title', '')}") for sid, oid, meta in states]
        Trash(self.repo).keep_many(logs)
        commands = [f"delete {session_ref(sid)} {oid}" for sid, oid, _ in states]
        if self.repo.update_refs(commands, "gitsess: prune"):
            return [sid for sid, _, _ in states]
        deleted = []  # one moved: the others one by one, each still a compare-and-swap
        for sid, oid, _ in states:
            if self.repo.update_refs([f"delete {session_ref(sid)} {oid}"], "gitsess: prune"):
                deleted.append(sid)
        return deleted

    def keep(self, oid: str, message: str) -> None:
        """Keep the log commit ``oid`` and its history in the trash, out of every push's
        reach; ``message`` says why ("delete <id> <title>", "redact <id> <title>")."""
        from .trash import Trash

        Trash(self.repo).keep(oid, message)

    def quarantine(self, session_id: str, oid: str) -> str | None:
        """Move the session's ref, at ``oid``, to the quarantine (one compare-and-swap
        transaction); the quarantine ref, or None if the session's ref had moved."""
        ref = f"{QUARANTINE}{session_id}-{oid[:12]}"
        commands = [f"create {ref} {oid}", f"delete {session_ref(session_id)} {oid}"]
        return ref if self.repo.update_refs(commands, "gitsess: quarantine") else None

    def deleted(self, titles: bool = True) -> list[tuple[str, str, str]]:
        """(session id, log commit, title) of deleted sessions, newest first: the trash's,
        then those still in the old store (refs/gitsess/trash) of an earlier gitsess."""
        from .trash import Trash

        trash = Trash(self.repo)
        found = [
            (kept.session_id, kept.oid, kept.title)
            for kept in trash.entries(titles)
            if kept.kind == "deleted"
        ]
        for oid, message in trash.old_entries():
            if message.startswith("delete "):
                _, session_id, *title = message.split(" ", 2)
                found.append((session_id, oid, title[0] if title else ""))
        seen: set[tuple[str, str]] = set()  # a log deleted, restored, deleted again: once
        unique = []
        for row in found:
            if row[:2] not in seen:
                seen.add(row[:2])
                unique.append(row)
        return unique

    def restore(self, session_id: str, oid: str) -> None:
        """Point the session's ref at the deleted log commit ``oid`` again (it must not exist)."""
        from .trash import Trash

        trash = Trash(self.repo)
        for kept in trash.entries(titles=False):
            if kept.session_id == session_id and kept.oid == oid:
                trash.bring_back(oid)
                break
        try:
            self.repo.update_ref(session_ref(session_id), oid, None, "gitsess: undelete")
        except RefMoved:
            raise Conflict(f"session {session_id} exists already; nothing to restore") from None

    # -- internals -----------------------------------------------------------

    def _problem(self, oid: str, missing: bool) -> str:
        """What is wrong with a log commit whose session.json could not be read."""
        if not missing:
            return f"its {META_FILE} is not a JSON object"
        obj = self.repo.reader.read(oid)
        if obj is None:
            return f"its log commit {oid[:12]} is missing"
        if obj.kind != "commit":
            return f"its ref points at a {obj.kind}, not a commit"
        return f"log commit {oid[:12]} has no {META_FILE}"

    def _tree(self, oid: str, session_id: str) -> list[TreeEntry]:
        obj = self.repo.reader.read(oid)
        if obj is None or obj.kind != "tree":
            raise _unreadable(session_id, oid, "tree")
        return decode_tree(obj.data, self.repo.oid_length)

    def segment_blobs(self, segments: list[TreeEntry], session_id: str) -> list[bytes]:
        """The segments' contents. A missing one is an error: skipping it would read the log
        as shorter than it is, and an append would then write that loss into a new commit."""
        found = self.repo.reader.read_many([s.oid for s in segments])
        for segment, obj in zip(segments, found, strict=True):
            if obj is None:
                raise _unreadable(session_id, segment.oid, f"{LOG_DIR}/{segment.name}")
        return [obj.data for obj in found if obj is not None]

    def _count_segments(self, segments: list[TreeEntry], session_id: str) -> int:
        return sum(data.count(b"\n") for data in self.segment_blobs(segments, session_id))

    def _append_segments(
        self, segments: list[TreeEntry], lines: list[bytes], session_id: str
    ) -> list[TreeEntry]:
        """The segment list after appending ``lines``: only the last segment is rewritten."""
        if not lines:
            return segments
        kept = list(segments)
        parts: list[bytes] = []
        size = entries = 0
        if kept:
            data = self.segment_blobs([kept.pop()], session_id)[0]
            if data:
                parts, size, entries = [data], len(data), data.count(b"\n")

        def seal() -> None:
            blob = self.repo.writer.blob(b"".join(parts))
            kept.append(TreeEntry(BLOB_MODE, segment_name(len(kept)), blob))

        for line in lines:
            if entries >= SEGMENT_MAX_ENTRIES or (
                size and size + len(line) + 1 > SEGMENT_MAX_BYTES
            ):
                seal()
                parts, size, entries = [], 0, 0
            parts.append(line + b"\n")
            size += len(line) + 1
            entries += 1
        seal()
        return kept

    def _commit(
        self,
        session_id: str,
        root: list[TreeEntry],
        meta: Meta,
        segments: list[TreeEntry],
        parents: list[str],
        message: str,
        count: int,
    ) -> str:
        writer = self.repo.writer
        # Keep whatever else a newer gitsess or another tool stored beside the log.
        entries = [e for e in root if e.name not in (META_FILE, LOG_DIR)]
        entries.append(TreeEntry(BLOB_MODE, META_FILE, writer.blob(encode_meta(meta))))
        if segments:
            entries.append(TreeEntry(TREE_MODE, LOG_DIR, writer.tree(segments)))
        tree = writer.tree(entries)
        author = self.repo.identity().signature()
        committer = self.repo.identity("COMMITTER").signature()
        body = f"{message}\n\nSession: {session_id}\n{ENTRIES_TRAILER}: {count}\n"
        return writer.commit(tree, parents, author, committer, body)


def _unreadable(session_id: str, oid: str, what: str) -> BrokenSession:
    # Exit 1, as for objects a partial clone cannot fetch: the damage is in the repository.
    return BrokenSession(session_id, f"its {what} {oid[:12]} is missing or corrupt", 1)


def line_id(line: bytes) -> str | None:
    """The id of one stored entry line: read off its start where gitsess wrote it (id
    first), parsed where another writer did; None for a line without one."""
    found = _STORED_ID.match(line)
    if found:
        return found.group(1).decode()
    entry_id = parse_line(line).get("id")
    return entry_id if isinstance(entry_id, str) else None


def parse_line(line: bytes) -> Entry:
    """One stored entry; a line that is not a JSON object is kept, flagged, never dropped."""
    try:
        value = load_json(line)
    except ValueError:
        return {"type": "invalid", "raw": line.decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"type": "invalid", "raw": value}


class Prefetched:
    """An ObjectReader's reads served from objects fetched in bulk beforehand (fetch), the
    others asked of git as usual."""

    def __init__(self, reader: ObjectReader) -> None:
        self.reader = reader
        self.objects: dict[str, GitObject | None] = {}

    def fetch(self, oids: list[str], max_size: int | None = None) -> list[GitObject | None]:
        """Read ``oids`` in one `cat-file` and keep them; what git could not read is left
        out, so that a later read() asks again and says why."""
        failed: dict[str, str] = {}
        found = self.reader.read_many(oids, failed, max_size=max_size) if oids else []
        for oid, obj in zip(oids, found, strict=True):
            if oid not in failed:
                self.objects[oid] = obj
        return found

    def read(self, spec: str, max_size: int | None = None) -> GitObject | None:
        if spec in self.objects:
            obj = self.objects[spec]
            # Fetched capped, asked in full (a segment that is also a session.json): ask git.
            if not (isinstance(obj, Oversize) and (max_size is None or obj.size <= max_size)):
                return obj
        return self.reader.read(spec, max_size)

    def data(self, oids: list[str]) -> dict[str, bytes]:
        """segment_data() from what was fetched."""
        found = {}
        for oid in oids:
            obj = self.read(oid)
            if obj is not None:
                found[oid] = obj.data
        return found


def summary_meta(summary: bytes, quick: bool = False) -> Meta:
    """The session.json of a cached summary (one holding none of the summary's own keys:
    listcache.row keeps those apart). ``quick``: read by msgspec where it agrees with
    json (gitsess/jsonl.py), for the thousands of rows of a whole listing."""
    meta: Meta
    if quick:
        from ..jsonl import NOT_READ
        from ..jsonl import quick as read_quickly

        meta = read_quickly(summary)
        if meta is NOT_READ:
            meta = json.loads(summary)
    else:
        meta = json.loads(summary)
    for key in listcache.SUMMARY_KEYS:
        meta.pop(key, None)
    return meta
