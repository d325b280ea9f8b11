"""Code changes for the viewer: a commit, and the change between two commits, read bounded.

A commit's facts come through the repository's long-lived `cat-file --batch` reader. A
change is two `git diff-tree` runs for the page that shows it (never one per entry): the
file list with `--numstat -z` (names as they are, counts of every file), and the patch, read
line by line and cut once it passes the page's budget, the git process then stopped. So a
5 MB diff costs what its first megabyte costs, a 5 MB line is read as its first few
thousand characters, and a binary file is named, never dumped.

Everything that reaches git here is a full object id this module checked, never a string
from a URL or a session: a name that looks like an option (`--output=x`) cannot become one.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .repo import Repository

MAX_BYTES = 1_000_000  # patch text read for one page, all files together
MAX_FILE_LINES = 5_000  # lines shown of one file's patch
MAX_LINE = 2_000  # characters shown of one line
MAX_LISTED = 2_000  # files named in a change's file list (all are counted)
READ_CHUNK = 1 << 16

# What a URL may name a commit by: hex only (a short sha from 7 digits), so no ref name,
# revision expression or option can reach git.
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
DIFF_OPTIONS = ("-r", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--no-commit-id")


class Person:
    __slots__ = ("email", "name", "when")

    def __init__(self, name: str, email: str, when: str) -> None:
        self.name, self.email, self.when = name, email, when


class CommitFacts:
    """What a commit page says about the commit itself."""

    __slots__ = ("author", "committer", "message", "parents", "sha", "tree")

    def __init__(
        self,
        sha: str,
        tree: str,
        parents: list[str],
        author: Person,
        committer: Person,
        message: str,
    ) -> None:
        self.sha, self.tree, self.parents = sha, tree, parents
        self.author, self.committer, self.message = author, committer, message

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def body(self) -> str:
        return self.message.partition("\n")[2].strip("\n")


class FileChange:
    """One file of a change: its name(s), counts, and the patch lines read (if any)."""

    __slots__ = (
        "binary",
        "cut",
        "deletions",
        "insertions",
        "lines",
        "old_path",
        "path",
        "reached",
        "status",
    )

    def __init__(
        self, path: str, old_path: str | None, insertions: int | None, deletions: int | None
    ) -> None:
        self.path, self.old_path = path, old_path
        self.insertions, self.deletions = insertions, deletions
        self.binary = insertions is None
        self.status = "renamed" if old_path else "modified"
        self.lines: list[str] = []  # the patch after its header: "@@ ..." and +/-/space lines
        self.reached = False  # the patch was read as far as this file
        self.cut = False  # lines were left out (the page's budget or the file's ran out)


class Change:
    """The change between two commits, as much of it as one page shows."""

    __slots__ = ("cut", "deletions", "files", "files_changed", "insertions", "unlisted")

    def __init__(self) -> None:
        self.files: list[FileChange] = []
        self.files_changed = 0
        self.insertions = 0
        self.deletions = 0
        self.unlisted = 0  # files counted but not listed (past MAX_LISTED)
        self.cut = False  # the patch was cut: later files are listed without their text


def is_sha(text: str) -> bool:
    return bool(_SHA.fullmatch(text))


def commit_facts(repo: Repository, reference: str) -> CommitFacts | None:
    """The commit ``reference`` names: hex digits only, a whole or unique short sha. None
    for anything else: malformed, not here, ambiguous, or a blob, tree or tag."""
    if not is_sha(reference):
        return None
    found = repo.reader.read(reference.lower())
    if found is None or found.kind != "commit" or not found.oid.startswith(reference.lower()):
        return None
    from .objects import decode_commit

    commit = decode_commit(found.data)
    headers = dict(commit.headers)
    return CommitFacts(
        found.oid,
        commit.tree,
        commit.parents,
        _person(headers.get("author", "")),
        _person(headers.get("committer", "")),
        commit.message,
    )


def commit_change(repo: Repository, facts: CommitFacts) -> Change:
    """What ``facts``'s commit changed: against its first parent (a merge shows what it
    brought to the branch it was made on), or against nothing for a root commit."""
    return change(repo, facts.parents[0] if facts.parents else None, facts.sha)


def change(repo: Repository, old: str | None, new: str) -> Change:
    """The change from commit ``old`` (None: from nothing) to commit ``new``, both full ids."""
    for oid in (old, new):
        if oid is not None and not (is_sha(oid) and len(oid) in (40, 64)):
            raise ValueError(f"not a full object id: {oid!r}")
    revs = [old, new] if old else ["--root", new]
    found = Change()
    _read_numstat(repo, revs, found)
    _read_patch(repo, revs, found)
    return found


def count_commits(repo: Repository, base: str, tip: str) -> int:
    """The commits reachable from ``tip`` but not from ``base`` (full ids)."""
    return int(repo.git.text("rev-list", "--count", "--end-of-options", f"{base}..{tip}") or 0)


# -- the file list ----------------------------------------------------------------------


def _read_numstat(repo: Repository, revs: list[str], found: Change) -> None:
    """Every file's counts, streamed: a change of a million files lists MAX_LISTED and
    counts the rest without holding them."""
    proc = repo.git.spawn("diff-tree", *DIFF_OPTIONS, "--numstat", "-z", *revs)
    assert proc.stdout is not None
    fields = _nul_fields(proc.stdout)
    try:
        for head in fields:
            added, removed, path = ([*head.split("\t", 2), "", ""])[:3]
            old_path = None
            if not path:  # a rename: "added\tremoved\t\0old\0new\0"
                old_path, path = next(fields, ""), next(fields, "")
            insertions = int(added) if added.isdigit() else None  # "-": binary
            deletions = int(removed) if removed.isdigit() else None
            found.files_changed += 1
            found.insertions += insertions or 0
            found.deletions += deletions or 0
            if len(found.files) < MAX_LISTED:
                found.files.append(FileChange(path, old_path, insertions, deletions))
            else:
                found.unlisted += 1
    finally:
        proc.stdout.close()
        proc.wait()


def _nul_fields(stream: IO[bytes]) -> Iterator[str]:
    rest = b""
    while chunk := stream.read(READ_CHUNK):
        *done, rest = (rest + chunk).split(b"\0")
        for field in done:
            yield field.decode("utf-8", "replace").lstrip("\n")
    if rest.strip():
        yield rest.decode("utf-8", "replace")


# -- the patch --------------------------------------------------------------------------


def _read_patch(repo: Repository, revs: list[str], found: Change) -> None:
    """The patch of each listed file, in the file list's order (git writes both from one
    queue of file pairs), until the page's budget is spent."""
    proc = repo.git.spawn("diff-tree", *DIFF_OPTIONS, "-p", *revs)
    assert proc.stdout is not None
    budget = MAX_BYTES
    index = -1
    current: FileChange | None = None
    in_header = False
    last_header = b""
    try:
        while True:
            raw = proc.stdout.readline(MAX_LINE * 4)
            if not raw:
                break
            unfinished = not raw.endswith(b"\n")
            if unfinished:  # a longer line: keep its start, skip the rest
                _skip_line(proc.stdout)
            budget -= len(raw)
            if raw.startswith(b"diff --git "):
                # A file that became a symlink (or back) is one file pair written as two
                # patches under the same header: one file of the list, not two.
                if raw == last_header and current is not None:
                    current.status = "type changed"
                index += raw != last_header
                last_header = raw
                current = found.files[index] if index < len(found.files) else None
                in_header = True
                if current is None:
                    break
                if budget <= 0:
                    found.cut = True
                    break
                current.reached = True
                continue
            if current is None:
                continue
            if in_header:
                in_header = not raw.startswith(b"@@")
                if in_header:
                    _header_line(current, raw.decode("utf-8", "replace"))
                    continue
            if budget <= 0 or len(current.lines) >= MAX_FILE_LINES:
                current.cut = True
                found.cut = found.cut or budget <= 0
                if budget <= 0:
                    break
                continue
            line = raw.decode("utf-8", "replace").rstrip("\n")
            # MAX_LINE characters of the line, after its "+", "-" or " "
            long = unfinished or len(line) > MAX_LINE + 1
            current.lines.append(line[: MAX_LINE + 1] + ("…" if long else ""))
    finally:
        proc.kill()  # a cut patch: git need not write the rest
        proc.stdout.close()
        proc.wait()


def _skip_line(stream: IO[bytes]) -> None:
    while True:
        piece = stream.readline(READ_CHUNK)
        if not piece or piece.endswith(b"\n"):
            return


def _header_line(file: FileChange, line: str) -> None:
    if file.status == "type changed":
        return
    if line.startswith("new file mode"):
        file.status = "added"
    elif line.startswith("deleted file mode"):
        file.status = "deleted"


# -- people -----------------------------------------------------------------------------

_SIGNATURE = re.compile(r"^(.*?) ?<([^>]*)> (\d+) ([+-]\d{4})$")


def _person(header: str) -> Person:
    """`Name <email> seconds +hhmm` as a name, an email and an ISO date in its own zone."""
    match = _SIGNATURE.match(header)
    if not match:
        return Person(header, "", "")
    name, email, seconds, zone = match.groups()
    sign = -1 if zone[0] == "-" else 1
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
    try:
        when = datetime.fromtimestamp(int(seconds), timezone(offset)).isoformat()
    except (OverflowError, OSError, ValueError):
        when = ""
    return Person(name, email, when)
