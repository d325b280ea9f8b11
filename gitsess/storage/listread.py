"""Every session's log commit and session.json in one stream: what a cold listing reads.

`list --json` with no listing cache (storage/listcache.py) reads every session; at
100,000 sessions that is seconds of git's work, measured against git reading the same
session.json blobs (`git for-each-ref ... | git cat-file --batch`). So git does it the same
way here: `for-each-ref` writes its requests straight into `cat-file --batch` (Python
never handles the list), each log commit followed by its session.json, and gitsess reads
the answers as they come: nothing but the session being read is held.

Each request carries its ref name (cat-file's ``%(rest)``: ref names hold no space), so
the answers say whose they are. Missing objects are answered by name alone: those sessions
are named afterwards by a plain listing, as unreadable (``lost``).
"""

from __future__ import annotations

import os
import subprocess

from .git import Git
from .layout import META_FILE, SESSIONS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

# Each log commit, then its session.json; both name the ref.
REQUESTS = f"--format=%(objectname) %(refname)%0a%(objectname):{META_FILE} %(refname)"
ANSWERS = "--batch=%(objectname) %(objecttype) %(objectsize) %(rest)"
# --buffer: cat-file writes its answers in large blocks, not one write per object (the
# answers are read to the end anyway): git's part then costs less than the floor's.
COMMIT_MAX = 1 << 20  # a log commit is a few hundred bytes; a larger one is read apart


class Unfinished(Exception):
    """git stopped before answering every request (a partial clone offline, a damaged
    repository): the caller reads the sessions the careful way."""


class Log:
    """One session as the stream gives it. ``commit`` None: not a commit (or too large to
    read here); ``meta`` None: no session.json; ``meta_size`` is its size either way."""

    __slots__ = ("commit", "meta", "meta_size", "oid", "session_id")

    def __init__(self, oid: str, session_id: str) -> None:
        self.oid, self.session_id = oid, session_id
        self.commit: bytes | None = None
        self.meta: bytes | None = None
        self.meta_size = 0


class LogStream:
    """The stream of every session's log (see the module's docstring). Iterate it, then
    read ``lost``: the log commits git had no object for."""

    def __init__(self, git: Git, meta_max: int) -> None:
        self.meta_max = meta_max
        self.lost: set[str] = set()
        self._refs = subprocess.Popen(
            ["git", "for-each-ref", REQUESTS, SESSIONS],
            cwd=git.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=git.env,
        )
        self._objects = subprocess.Popen(
            ["git", "cat-file", "--buffer", ANSWERS],
            cwd=git.cwd,
            stdin=self._refs.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git.env,
        )
        assert self._refs.stdout is not None
        self._refs.stdout.close()  # cat-file's now: for-each-ref sees it close

    def __iter__(self) -> Iterator[Log]:
        try:
            yield from self._logs()
        except (ValueError, IndexError):  # an answer not of the form asked for
            raise Unfinished from None

    def _logs(self) -> Iterator[Log]:
        """Two answers per session, read from large chunks of cat-file's output (a
        readline and a read per object cost more than git's own work)."""
        answers = Answers(self._objects)
        meta_max = self.meta_max
        while True:
            head = answers.head()
            if head is None:
                break
            parts = head.split(b" ")
            if len(parts) != 4:  # "<oid> missing": its session.json's answer says no more
                self.lost.add(parts[0].decode("ascii", "replace"))
                answers.head()
                continue
            ref = parts[3].decode("utf-8", "surrogateescape")
            log = Log(parts[0].decode("ascii"), ref[len(SESSIONS) :])
            size = int(parts[2])
            body = answers.body(size, keep=parts[1] == b"commit" and size <= COMMIT_MAX)
            log.commit = body
            meta = answers.head()
            if meta is None:
                raise Unfinished
            parts = meta.split(b" ")
            if len(parts) == 4:
                size = log.meta_size = int(parts[2])
                blob = answers.body(size, keep=parts[1] == b"blob" and size <= meta_max)
                log.meta = blob
            yield log
        self.close(check=True)

    def close(self, check: bool = False) -> None:
        """Stop git (early: the caller gave up) or, with ``check``, make sure it answered
        everything."""
        for proc in (self._objects, self._refs):
            if proc.poll() is None and not check:
                proc.kill()
        if self._objects.stdout is not None:
            self._objects.stdout.close()
        codes = [self._objects.wait(), self._refs.wait()]
        if check and any(codes):
            raise Unfinished


class Answers:
    """cat-file's answers, read a megabyte at a time: header lines and object bodies."""

    CHUNK = 1 << 20

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.data = b""
        self.pos = 0

    def _more(self) -> bool:
        chunk = os.read(self.fd, self.CHUNK)
        if not chunk:
            return False
        self.data = self.data[self.pos :] + chunk
        self.pos = 0
        return True

    def head(self) -> bytes | None:
        """The next header line (None: git said all it had to say)."""
        while (end := self.data.find(b"\n", self.pos)) < 0:
            if not self._more():
                if self.pos < len(self.data):
                    raise Unfinished
                return None
        line = self.data[self.pos : end]
        self.pos = end + 1
        return line

    def body(self, size: int, keep: bool) -> bytes | None:
        """An object's ``size`` bytes and the newline after them (None: not ``keep``:
        passed over without being held, however large)."""
        wanted = size + 1
        if not keep:
            while len(self.data) - self.pos < wanted:
                wanted -= len(self.data) - self.pos
                self.data, self.pos = b"", 0
                if not self._more():
                    raise Unfinished
            self.pos += wanted
            return None
        while len(self.data) - self.pos < wanted:
            if not self._more():
                raise Unfinished
        found = self.data[self.pos : self.pos + size]
        self.pos += wanted
        return found
