"""Searching session logs with git itself: `git grep` over the log commits' trees.

git reads the segment blobs in C, in parallel, and hands back only the lines that hold the
needle; Python then decodes those lines alone. The needle is matched against entries as
stored (compact JSON), so the caller passes it in that form (see ``json_needle``).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator

from . import listing
from .git import Git, GitFailed
from .layout import LOG_DIR, META_FILE

# Revisions per `git grep`: the command line stays far below the kernel's limit (2 MiB with
# the environment) at 100,000 sessions, in chunks of this many 41-byte arguments.
CHUNK = 4000
# Settings that would change what `git grep` prints; gitsess parses its output.
_UNREADABLE = re.compile(r"^error: '([0-9a-f]{40,64}):", re.MULTILINE)
_NEUTRAL_CONFIG = ("grep.lineNumber=false", "grep.column=false")
# Settings that would read ``_paths``' pathspec magic as plain names.
_PATHSPEC_ENV = (
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)


class GrepLine:
    """One line `git grep` found: the log commit, the file in its tree, the line as stored."""

    __slots__ = ("commit", "line", "path")

    def __init__(self, commit: str, path: str, line: bytes) -> None:
        self.commit = commit
        self.path = path
        self.line = line


def json_needle(text: str) -> bytes:
    """``text`` as it appears inside a stored JSON string (quotes, backslashes and control
    characters escaped as the log's encoder writes them; other characters as UTF-8)."""
    return json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass")


def session_logs(git: Git) -> list[tuple[str, str]]:
    """(session id, log commit) of every session, most recently written first."""
    return listing.parse(git.text(*listing.ARGS))


class EarlySearch:
    """A search of every session begun before the rest of gitsess has loaded.

    On a search most of the time is git's: listing the logs, then `git grep`. The listing
    starts first thing (``EarlyListing``), the grep as soon as there is a needle, while
    Python goes on importing and opening the repository; ``take`` hands both over."""

    def __init__(self, git: Git, early: listing.EarlyListing) -> None:
        self.git = git
        self._listing: listing.EarlyListing | None = early
        self._logs: list[tuple[str, str]] | None = None
        self._grep: _Grep | None = None

    def grep(self, needle: bytes, ignore_case: bool, with_meta: bool) -> None:
        """Start `git grep` of the logs' first chunk, once they are listed."""
        if self._listing is None:
            return
        self._logs, self._listing = self._listing.logs(), None
        # As `grep_logs` will be given them: each commit once, in the listing's order.
        commits = list(dict.fromkeys(oid for _, oid in self._logs or ()))[:CHUNK]
        if commits:
            self._grep = _Grep(self.git, commits, needle, ignore_case, _paths(with_meta))

    def take(self) -> tuple[list[tuple[str, str]], _Grep | None] | None:
        """The listing and the first chunk's grep, or None when they did not start."""
        if self._logs is None:
            return None
        grep, self._grep = self._grep, None
        return self._logs, grep

    def close(self) -> None:
        """Stop what no one took (the search failed, or the logs changed meanwhile)."""
        if self._listing is not None:
            self._listing.close()
            self._listing = None
        if self._grep is not None:
            self._grep.stop()
            self._grep = None


def _paths(with_meta: bool) -> list[str]:
    """Pathspecs from the top of the tree: git may run in a subdirectory of the work tree
    (an ``EarlySearch`` starts before the top is known), where plain ones are relative."""
    paths = [f"{LOG_DIR}/", META_FILE] if with_meta else [f"{LOG_DIR}/"]
    return [f":(top){path}" for path in paths]


def grep_logs(
    git: Git,
    commits: list[str],
    needle: bytes,
    ignore_case: bool,
    with_meta: bool = True,
    unreadable: list[str] | None = None,
    started: _Grep | None = None,
) -> Iterator[GrepLine]:
    """Every line of the logs at ``commits`` (and their session.json when ``with_meta``)
    that contains ``needle`` as a fixed string; an empty needle yields every line. In the
    order of ``commits``, each log's segments in order. ``started``: the grep of the first
    chunk, already running (``EarlySearch``).

    A log git cannot read (a missing object) stops `git grep` as a whole; then the rest
    are searched one by one, the unreadable ones left out and added to ``unreadable``."""
    paths = _paths(with_meta)
    for start in range(0, len(commits), CHUNK):
        chunk = commits[start : start + CHUNK]
        done: dict[str, int] = {}  # lines yielded so far, by commit
        grep = started if started is not None and start == 0 else None
        grep = grep or _Grep(git, chunk, needle, ignore_case, paths)
        try:
            for found in grep.lines(unreadable):
                done[found.commit] = done.get(found.commit, 0) + 1
                yield found
        except GitFailed:
            last = list(done)[-1] if done else None
            rest = chunk[chunk.index(last) :] if last else chunk
            yield from _one_by_one(git, rest, done, needle, ignore_case, paths, unreadable)
        finally:
            grep.stop()


def _one_by_one(
    git: Git,
    commits: list[str],
    done: dict[str, int],
    needle: bytes,
    ignore_case: bool,
    paths: list[str],
    unreadable: list[str] | None,
) -> Iterator[GrepLine]:
    for commit in commits:
        try:
            found = list(_Grep(git, [commit], needle, ignore_case, paths).lines(unreadable))
        except GitFailed:
            if unreadable is not None:
                unreadable.append(commit)
            continue
        yield from found[done.get(commit, 0) :]


class _Grep:
    """One `git grep` of a chunk of logs, running from its creation."""

    def __init__(
        self, git: Git, commits: list[str], needle: bytes, ignore_case: bool, paths: list[str]
    ) -> None:
        config = [arg for setting in _NEUTRAL_CONFIG for arg in ("-c", setting)]
        flags = ["-z", "--no-color", "--text", "--fixed-strings", "--full-name"] + (
            ["-i"] if ignore_case else []
        )
        pattern = needle.decode("utf-8", "surrogateescape")
        self.argv = ["git", *config, "grep", *flags, "-e", pattern, *commits, "--", *paths]
        self.proc = subprocess.Popen(
            self.argv,
            cwd=git.cwd,
            env={k: v for k, v in git.env.items() if k not in _PATHSPEC_ENV},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # stderr drained alongside: a full pipe of error lines would otherwise stall git.
        self.errors: list[bytes] = []
        self._drain = threading.Thread(target=self._read_errors, daemon=True)
        self._drain.start()

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        self.errors.append(self.proc.stderr.read())

    def lines(self, unreadable: list[str] | None) -> Iterator[GrepLine]:
        """The lines found; GitFailed when git could not finish."""
        assert self.proc.stdout is not None
        try:
            for raw in self.proc.stdout:
                # `<commit>:<path>\0<line>\n`; the line itself holds no newline (JSONL).
                name, sep, line = raw.rstrip(b"\n").partition(b"\0")
                commit, _, path = name.decode("utf-8", "replace").partition(":")
                if sep:
                    yield GrepLine(commit, path, line)
        finally:
            returncode = self.stop()
        stderr = b"".join(self.errors).decode("utf-8", "replace")
        if returncode > 1:  # 1 is "nothing found"
            raise GitFailed(self.argv[1:], returncode, stderr)
        # A blob git cannot read is skipped with `error: '<commit>:<path>': unable to read`.
        if unreadable is not None:
            unreadable.extend(m for m in _UNREADABLE.findall(stderr) if m not in unreadable)

    def stop(self) -> int:
        """End git (at once, if its output is no longer wanted) and its exit code."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        if self.proc.poll() is None and not self.proc.stdout.closed:
            self.proc.stdout.close()  # git stops at its next write
        returncode = self.proc.wait()
        self._drain.join()
        self.proc.stderr.close()
        return returncode
