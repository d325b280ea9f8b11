"""Creating many new refs at once, straight into packed-refs.

`git update-ref --stdin` writes each new ref as a loose file: a lock file created,
written and renamed per ref. For the thousands of refs a `push --all` or a first
`fetch` creates (tracking refs, fetched sessions) that is seconds of system time here,
as much as git's own push of them. A ref that exists nowhere can instead be added to
packed-refs, which is one file, rewritten once: exactly what `git pack-refs` leaves.

The file is written the way git writes it: under git's own lock (``packed-refs.lock``,
created exclusively, then renamed over the file), sorted, its header kept. Every ref
is created only where it is absent: neither a loose file nor a packed line has the
name, and no ref is a directory of another (``refs/a`` beside ``refs/a/b``). When any
of that does not hold, or the lock is taken, or refs are not kept in files (reftable),
nothing is written and the caller creates the refs with update-ref as before.

What this does not do that update-ref does: write reflogs (callers ask for none) and
run the reference-transaction hook.
"""

from __future__ import annotations

import bisect
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

FILE = "packed-refs"
HEADER = b"# pack-refs with: peeled fully-peeled sorted \n"
# Names gitsess makes (ids, remote names): anything else goes through update-ref, which
# checks a name fully.
_SIMPLE = re.compile(r"^refs/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\Z")
_OID = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")


def create(common_dir: str, refs: Mapping[str, str]) -> bool:
    """Add ``refs`` ({name: object id}, none of which may exist) to packed-refs in one
    rewrite. False, having written nothing, when that cannot be done safely."""
    if not refs or not _plain_files_backend(common_dir):
        return False
    if not all(
        _SIMPLE.match(ref) and ".." not in ref and _OID.match(oid) for ref, oid in refs.items()
    ):
        return False
    if any(ref.endswith(".lock") or "/." in ref for ref in refs):
        return False
    path = os.path.join(common_dir, FILE)
    lock = path + ".lock"
    try:
        handle = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:  # another writer holds it (or the folder is read-only)
        return False
    try:
        try:
            with open(path, "rb") as existing:
                data = existing.read()
        except FileNotFoundError:
            data = b""
        merged = _merged(data, refs, common_dir)
        if merged is None:
            return False
        with os.fdopen(handle, "wb") as out:
            handle = -1
            out.write(merged)
        os.replace(lock, path)
        return True
    finally:
        if handle != -1:
            os.close(handle)
        if os.path.exists(lock):
            os.unlink(lock)


def _plain_files_backend(common_dir: str) -> bool:
    return not os.path.exists(os.path.join(common_dir, "reftable"))


def _merged(data: bytes, refs: Mapping[str, str], common_dir: str) -> bytes | None:
    """packed-refs ``data`` with ``refs`` added in order; None on any conflict."""
    header, records = _records(data)
    if header is None:
        return None
    names = [name for name, _ in records]
    if names != sorted(names):  # not as git sorts it (it says so): leave it to git
        return None
    new = sorted((ref.encode(), oid.encode()) for ref, oid in refs.items())
    taken = set(names)
    if any(ref in taken for ref, _ in new):
        return None
    every = sorted(names + [ref for ref, _ in new])
    known = set(every)
    folders: dict[str, bool] = {}
    for ref, _ in new:
        if _conflicts(ref, known, every) or _loose_conflict(common_dir, ref, folders):
            return None
    lines = records + [(ref, oid + b" " + ref + b"\n") for ref, oid in new]
    lines.sort(key=lambda item: item[0])
    return header + b"".join(block for _, block in lines)


def _records(data: bytes) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
    """(header, [(ref name, its lines: the ref's and its peeled line)]). The header is
    None when the file is not one this can safely rewrite."""
    if not data:
        return HEADER, []
    lines = data.splitlines(keepends=True)
    header = lines[0]
    if not header.startswith(b"# pack-refs with:") or b" sorted " not in header + b" ":
        return None, []
    records: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if line.startswith(b"^") and records:  # the peeled value of the ref above
            name, block = records[-1]
            records[-1] = (name, block + line)
            continue
        _oid, space, name = line.rstrip(b"\n").partition(b" ")
        if not space or not line.endswith(b"\n") or not name:
            return None, []
        records.append((name, line))
    return header, records


def _conflicts(ref: bytes, known: set[bytes], every: list[bytes]) -> bool:
    """Whether another ref (packed, or new) is a directory of ``ref`` or ``ref`` one of
    another (``every`` sorted, ``known`` the same as a set)."""
    parts = ref.split(b"/")
    if any(b"/".join(parts[:n]) in known for n in range(1, len(parts))):
        return True
    at = bisect.bisect_left(every, ref + b"/")
    return at < len(every) and every[at].startswith(ref + b"/")


def _loose_conflict(common_dir: str, ref: bytes, folders: dict[str, bool]) -> bool:
    """Whether a loose ref (or a folder of them) has the name, or a loose ref is a folder
    of it: then git's files would not agree with the packed line. ``folders`` remembers
    the folders already looked at."""
    path = os.path.join(common_dir, os.fsdecode(ref))
    if os.path.lexists(path):
        return True
    parent = os.path.dirname(path)
    while len(parent) > len(common_dir):
        if parent not in folders:
            folders[parent] = os.path.lexists(parent) and not os.path.isdir(parent)
        elif not folders[parent]:
            break  # looked at already, with every folder above it
        if folders[parent]:
            return True
        parent = os.path.dirname(parent)
    return False
