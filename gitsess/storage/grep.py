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

from .git import GitFailed
from .log import LOG_DIR, META_FILE, SESSIONS
from .repo import Repository

# Revisions per `git grep`: the command line stays far below the kernel's limit (2 MiB with
# the environment) at 100,000 sessions, in chunks of this many 41-byte arguments.
CHUNK = 4000
# Settings that would change what `git grep` prints; gitsess parses its output.
_UNREADABLE = re.compile(r"^error: '([0-9a-f]{40,64}):", re.MULTILINE)
_NEUTRAL_CONFIG = ("grep.lineNumber=false", "grep.column=false", "grep.fullName=false")


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


def session_logs(repo: Repository) -> list[tuple[str, str]]:
    """(session id, log commit) of every session, most recently written first."""
    out = repo.git.text(
        "for-each-ref", "--sort=-committerdate", "--format=%(objectname) %(refname)", SESSIONS
    )
    pairs = (row.split(" ", 1) for row in out.splitlines() if row)
    return [(ref[len(SESSIONS) :], oid) for oid, ref in pairs]


def grep_logs(
    repo: Repository,
    commits: list[str],
    needle: bytes,
    ignore_case: bool,
    with_meta: bool = True,
    unreadable: list[str] | None = None,
) -> Iterator[GrepLine]:
    """Every line of the logs at ``commits`` (and their session.json when ``with_meta``)
    that contains ``needle`` as a fixed string; an empty needle yields every line. In the
    order of ``commits``, each log's segments in order.

    A log git cannot read (a missing object) stops `git grep` as a whole; then the rest
    are searched one by one, the unreadable ones left out and added to ``unreadable``."""
    paths = [f"{LOG_DIR}/", META_FILE] if with_meta else [f"{LOG_DIR}/"]
    for start in range(0, len(commits), CHUNK):
        chunk = commits[start : start + CHUNK]
        done: dict[str, int] = {}  # lines yielded so far, by commit
        try:
            for found in _grep_chunk(repo, chunk, needle, ignore_case, paths, unreadable):
                done[found.commit] = done.get(found.commit, 0) + 1
                yield found
        except GitFailed:
            last = list(done)[-1] if done else None
            rest = chunk[chunk.index(last) :] if last else chunk
            yield from _one_by_one(repo, rest, done, needle, ignore_case, paths, unreadable)


def _one_by_one(
    repo: Repository,
    commits: list[str],
    done: dict[str, int],
    needle: bytes,
    ignore_case: bool,
    paths: list[str],
    unreadable: list[str] | None,
) -> Iterator[GrepLine]:
    for commit in commits:
        try:
            found = list(_grep_chunk(repo, [commit], needle, ignore_case, paths, unreadable))
        except GitFailed:
            if unreadable is not None:
                unreadable.append(commit)
            continue
        yield from found[done.get(commit, 0) :]


def _grep_chunk(
    repo: Repository,
    commits: list[str],
    needle: bytes,
    ignore_case: bool,
    paths: list[str],
    unreadable: list[str] | None,
) -> Iterator[GrepLine]:
    config = [arg for setting in _NEUTRAL_CONFIG for arg in ("-c", setting)]
    flags = ["-z", "--no-color", "--text", "--fixed-strings"] + (["-i"] if ignore_case else [])
    args = [*config, "grep", *flags, "-e", needle.decode("utf-8", "surrogateescape")]
    argv = ["git", *args, *commits, "--", *paths]
    proc = subprocess.Popen(
        argv,
        cwd=repo.git.cwd,
        env=repo.git.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    # stderr drained alongside: a full pipe of error lines would otherwise stall git.
    errors: list[bytes] = []
    stderr_pipe = proc.stderr
    drain = threading.Thread(target=lambda: errors.append(stderr_pipe.read()), daemon=True)
    drain.start()
    try:
        for raw in proc.stdout:
            # `<commit>:<path>\0<line>\n`; the line itself holds no newline (JSONL).
            name, sep, line = raw.rstrip(b"\n").partition(b"\0")
            commit, _, path = name.decode("utf-8", "replace").partition(":")
            if sep:
                yield GrepLine(commit, path, line)
    finally:
        proc.stdout.close()
        returncode = proc.wait()
        drain.join()
        proc.stderr.close()
    stderr = b"".join(errors).decode("utf-8", "replace")
    if returncode > 1:  # 1 is "nothing found"
        raise GitFailed(argv[1:], returncode, stderr)
    # A blob git cannot read is skipped with `error: '<commit>:<path>': unable to read`.
    if unreadable is not None:
        unreadable.extend(m for m in _UNREADABLE.findall(stderr) if m not in unreadable)
