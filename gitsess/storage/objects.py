"""Git objects: reading through `git cat-file --batch`, writing loose objects.

Writing loose objects directly (zlib + hash, the format git documents) saves
one git process per object on every append; the ref update that publishes
them is still git's own compare-and-swap, so an interrupted write leaves at
most unreferenced objects that `git gc` removes.
"""

from __future__ import annotations

import os
import re
import zlib
from subprocess import Popen

from ..errors import GitsessError
from .git import Git, first_line

# typing's flag without importing typing (hot commands' start-up); annotations are never
# evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

BLOB_MODE = b"100644"
TREE_MODE = b"40000"


# Plain slotted classes, not dataclasses or NamedTuples: importing dataclasses or typing
# costs the hot commands (status, capture, the hooks) several milliseconds.
class GitObject:
    __slots__ = ("data", "kind", "oid")

    def __init__(self, oid: str, kind: str, data: bytes) -> None:
        self.oid, self.kind, self.data = oid, kind, data


class Oversize(GitObject):
    """An object larger than the reader was asked to hold: its contents were skipped."""

    __slots__ = ("size",)

    def __init__(self, oid: str, kind: str, size: int) -> None:
        super().__init__(oid, kind, b"")
        self.size = size


SKIP_CHUNK = 1 << 20
PIPE_SAFE = 4096  # bytes a pipe always takes without a reader (POSIX: PIPE_BUF at least)


def _skip(stream: IO[bytes], count: int) -> None:
    """Read and drop ``count`` bytes, a chunk at a time: never all of them in memory."""
    while count > 0:
        got = len(stream.read(min(count, SKIP_CHUNK)))
        if not got:
            return
        count -= got


class TreeEntry:
    __slots__ = ("mode", "name", "oid")

    def __init__(self, mode: bytes, name: str, oid: str) -> None:
        self.mode, self.name, self.oid = mode, name, oid

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeEntry):
            return NotImplemented
        return (self.mode, self.name, self.oid) == (other.mode, other.name, other.oid)

    def __hash__(self) -> int:
        return hash((self.mode, self.name, self.oid))

    def __repr__(self) -> str:
        return f"TreeEntry({self.mode!r}, {self.name!r}, {self.oid!r})"

    @property
    def is_tree(self) -> bool:
        return self.mode == TREE_MODE


class Commit:
    __slots__ = ("headers", "message", "parents", "tree")

    def __init__(
        self, tree: str, parents: list[str], message: str, headers: list[tuple[str, str]]
    ) -> None:
        self.tree, self.parents, self.message, self.headers = tree, parents, message, headers

    def trailer(self, key: str) -> str | None:
        prefix = key.lower() + ":"
        for line in reversed(self.message.splitlines()):
            if line.lower().startswith(prefix):
                return line.split(":", 1)[1].strip()
        return None


class ObjectReader:
    """A long-lived `git cat-file --batch` for reads that depend on each other."""

    def __init__(self, git: Git) -> None:
        self._git = git
        self._proc: Popen[bytes] | None = None
        self._kept: dict[str, GitObject] = {}  # what prefetch() read, by the spec asked

    def prefetch(self, specs: list[str]) -> list[GitObject | None]:
        """Read ``specs`` in one batch; until forget(), read() answers them from memory.
        For reads that depend on each other made for many sessions at once: one batch per
        step instead of one round trip per object. Nothing is kept when git cannot read
        them all (read() then asks for each, and says why)."""
        try:
            found = self.read_many(specs)
        except GitsessError:
            return [None] * len(specs)
        self._kept.update((spec, obj) for spec, obj in zip(specs, found, strict=True) if obj)
        return found

    def forget(self) -> None:
        self._kept = {}

    def read(self, spec: str, max_size: int | None = None) -> GitObject | None:
        """The object named by ``spec`` (a sha, ref or rev:path), or None if missing.

        With ``max_size``, a larger object is an Oversize, its contents never held.
        """
        if "\n" in spec:
            return None
        kept = self._kept.get(spec)
        if kept is not None:
            if max_size is not None and len(kept.data) > max_size:
                return Oversize(kept.oid, kept.kind, len(kept.data))
            return kept
        proc = self._process()
        assert proc.stdin and proc.stdout
        proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline()
        if not header:  # git gave up: ask again in a process of its own, to say why
            self._proc = None
            why = self._git.run("cat-file", "-t", spec, check=False).stderr
            raise unreadable(spec, why.decode("utf-8", "replace"))
        parts = header.split()
        if len(parts) != 3 or not parts[2].isdigit():  # "<spec> missing" or "ambiguous"
            return None  # (a spec may hold spaces: a branch name from a fetched session.json)
        size = int(parts[2])
        if max_size is not None and size > max_size:
            _skip(proc.stdout, size + 1)
            return Oversize(parts[0].decode(), parts[1].decode(), size)
        data = proc.stdout.read(size + 1)[:-1]
        return GitObject(parts[0].decode(), parts[1].decode(), data)

    def read_many(
        self,
        specs: list[str],
        failed: dict[str, str] | None = None,
        max_size: int | None = None,
    ) -> list[GitObject | None]:
        """Read many objects in one shot, without deadlocking on large output.

        When git cannot read one of them (a partial clone whose promisor remote is
        gone), it gives up on all: with ``failed``, each is then read on its own and
        the ones that cannot be read are None, with git's reason in ``failed``.
        With ``max_size``, larger objects are Oversize, their contents never held.
        """
        if not specs:
            return []
        found = self._read_capped(specs, max_size)
        if found is not None:
            return found
        # git gave up on one of them: ask again in one process, for its reason.
        payload = "".join(s + "\n" for s in specs).encode("utf-8", "surrogateescape")
        proc = self._git.run("cat-file", "--batch", input=payload, check=False)
        if proc.returncode == 0:  # it did not fail this time: read what it gave
            return self._parse(proc.stdout, specs)
        why = proc.stderr.decode("utf-8", "replace")
        if failed is None:
            raise unreadable(specs[0] if len(specs) == 1 else "objects", why)
        if len(specs) == 1:
            failed[specs[0]] = unreadable(specs[0], why).message
            return [None]
        return [obj for spec in specs for obj in self.read_many([spec], failed, max_size)]

    @staticmethod
    def _parse(out: bytes, specs: list[str]) -> list[GitObject | None]:
        results: list[GitObject | None] = []
        pos = 0
        for _ in specs:
            end = out.index(b"\n", pos)
            parts = out[pos:end].split()
            pos = end + 1
            if len(parts) != 3 or not parts[2].isdigit():
                results.append(None)
                continue
            size = int(parts[2])
            results.append(GitObject(parts[0].decode(), parts[1].decode(), out[pos : pos + size]))
            pos += size + 1
        return results

    def _read_capped(self, specs: list[str], max_size: int | None) -> list[GitObject | None] | None:
        """read_many streaming git's output (never all of it in memory at once: only the
        objects), skipping what is over ``max_size``; None if git gave up (the caller then
        asks again the careful way)."""
        import threading

        payload = "".join(s + "\n" for s in specs).encode("utf-8", "surrogateescape")
        proc = self._git.spawn("cat-file", "--batch")
        assert proc.stdin and proc.stdout
        stdin = proc.stdin

        def feed() -> None:
            try:
                stdin.write(payload)
                stdin.close()
            except OSError:  # git stopped reading: its exit status says why
                pass

        # What fits in a pipe's buffer is written at once; more, while git's output is read.
        writer = threading.Thread(target=feed, daemon=True)
        if len(payload) <= PIPE_SAFE:
            feed()
        else:
            writer.start()
        results: list[GitObject | None] = []
        complete = True
        for _ in specs:
            header = proc.stdout.readline()
            if not header.endswith(b"\n"):
                complete = False
                break
            parts = header.split()
            if len(parts) != 3 or not parts[2].isdigit():
                results.append(None)
                continue
            oid, kind, size = parts[0].decode(), parts[1].decode(), int(parts[2])
            if max_size is not None and size > max_size:
                _skip(proc.stdout, size + 1)
                results.append(Oversize(oid, kind, size))
            else:
                results.append(GitObject(oid, kind, proc.stdout.read(size + 1)[:-1]))
        proc.stdout.close()
        if writer.is_alive():
            writer.join()
        return results if proc.wait() == 0 and complete else None

    def _process(self) -> Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._git.spawn("cat-file", "--batch")
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin
            self._proc.stdin.close()
            self._proc.wait()
            self._proc = None


class ObjectWriter:
    """Writes loose objects into a repository's object directory."""

    def __init__(self, objects_dir: str, algorithm: str) -> None:
        self.objects_dir = objects_dir
        self.algorithm = algorithm

    def write(self, kind: str, data: bytes) -> str:
        raw = f"{kind} {len(data)}".encode() + b"\0" + data
        import hashlib  # here, not at the top: loading OpenSSL costs read-only commands ~3 ms

        oid = hashlib.new(self.algorithm, raw).hexdigest()
        folder = os.path.join(self.objects_dir, oid[:2])
        path = os.path.join(folder, oid[2:])
        try:
            if os.stat(path).st_size:
                return oid
            # Empty: what a crash can leave of a file written without fsync. Write it again.
        except FileNotFoundError:
            pass
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f"tmp_obj_{os.getpid()}_{oid[2:10]}")
        with open(tmp, "wb") as handle:
            handle.write(zlib.compress(raw, 1))
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)  # same content either way, so a racing writer is harmless
        return oid

    def blob(self, data: bytes) -> str:
        return self.write("blob", data)

    def tree(self, entries: list[TreeEntry]) -> str:
        return self.write("tree", encode_tree(entries))

    def commit(
        self, tree: str, parents: list[str], author: str, committer: str, message: str
    ) -> str:
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
        lines += [f"author {author}", f"committer {committer}"]
        body = "\n".join(lines) + "\n\n" + message
        if not body.endswith("\n"):
            body += "\n"
        return self.write("commit", body.encode("utf-8"))


def unreadable(spec: str, stderr: str) -> GitsessError:
    """The error for objects git could not read, saying why in the user's terms."""
    reason = first_line(stderr) or "git cat-file failed"
    spec = re.sub(r"\b([0-9a-f]{12})[0-9a-f]{28,52}\b", r"\1", spec)  # readable ids
    if "promisor remote" in stderr:
        return GitsessError(
            f"cannot read {spec}: this partial clone could not fetch it from its promisor "
            f"remote ({reason})"
        )
    return GitsessError(f"cannot read {spec}: {reason}")


def _tree_sort_key(entry: TreeEntry) -> bytes:
    name = entry.name.encode("utf-8")
    return name + b"/" if entry.is_tree else name


def encode_tree(entries: list[TreeEntry]) -> bytes:
    out = bytearray()
    for entry in sorted(entries, key=_tree_sort_key):
        out += entry.mode + b" " + entry.name.encode("utf-8") + b"\0" + bytes.fromhex(entry.oid)
    return bytes(out)


def decode_tree(data: bytes, oid_length: int) -> list[TreeEntry]:
    entries = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        oid = data[nul + 1 : nul + 1 + oid_length].hex()
        entries.append(
            TreeEntry(
                data[pos:space], data[space + 1 : nul].decode("utf-8", "surrogateescape"), oid
            )
        )
        pos = nul + 1 + oid_length
    return entries


def decode_commit(data: bytes) -> Commit:
    text = data.decode("utf-8", "replace")
    head, _, message = text.partition("\n\n")
    tree = ""
    parents: list[str] = []
    headers: list[tuple[str, str]] = []
    for line in head.splitlines():
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        else:
            headers.append((key, value))
    return Commit(tree, parents, message, headers)
