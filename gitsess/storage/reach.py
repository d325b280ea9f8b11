"""Which log objects a push would send: walks of session log histories in one git process
each, for the secret scan (sharing.py) to read only what is new to the remote."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .repo import Repository


def new_log_blobs(repo: Repository, tips: list[str], exclude: list[str]) -> list[tuple[str, str]]:
    """(oid, path) of the log objects reachable from ``tips`` and not from ``exclude``
    (objects, or a --glob): one rev-list for them all."""
    flags = [arg for arg in exclude if arg.startswith("--")]
    revs = tips + ["^" + oid for oid in exclude if not oid.startswith("--")]
    args = ["rev-list", "--objects", "--stdin"]
    if flags:
        args += ["--not", *flags]
    proc = repo.git.run(*args, input="".join(r + "\n" for r in revs).encode())
    found = []
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        oid, _, path = line.partition(" ")
        if path == "session.json" or path.endswith(".jsonl"):
            found.append((oid, path))
    return found


def blobs_by_tip(repo: Repository, logs: dict[str, str], exclude: list[str]) -> dict[str, set[str]]:
    """{session: the new log blobs its history holds}, from one `git log` of the new
    commits (each commit's blobs against its first parent, and every blob of a first
    commit), walked from each session's log commit."""
    flags = [arg for arg in exclude if arg.startswith("--")]
    revs = list(logs.values()) + ["^" + oid for oid in exclude if not oid.startswith("--")]
    args = ["log", "--stdin", "--format=%x00%H %P", "--raw", "-r", "--no-abbrev"]
    args += ["--no-renames", "--diff-merges=first-parent", "--root"]
    if flags:
        args += ["--not", *flags]
    proc = repo.git.run(*args, input="".join(r + "\n" for r in revs).encode())
    parents: dict[str, list[str]] = {}
    introduced: dict[str, set[str]] = {}
    commit = ""
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        if line.startswith("\0"):
            commit, *parents_of = line[1:].split()
            parents[commit], introduced[commit] = parents_of, set()
        elif line.startswith(":") and commit:
            fields = line.split("\t", 1)[0].split()
            if len(fields) >= 4 and set(fields[3]) != {"0"}:
                introduced[commit].add(fields[3])
    reaching = {}
    for session_id, tip in logs.items():
        blobs: set[str] = set()
        todo, done = [tip], set()
        while todo:
            oid = todo.pop()
            if oid in done or oid not in introduced:
                continue
            done.add(oid)
            blobs |= introduced[oid]
            todo += parents[oid]
        reaching[session_id] = blobs
    return reaching


def commits_between(repo: Repository, old: str, new: str) -> int:
    """The commits ``new`` has that ``old`` lacks (0 when git cannot say: a push summary's
    abbreviated ids can be ambiguous)."""
    counted = repo.git.text("rev-list", "--count", f"{old}..{new}", check=False)
    return int(counted) if counted.isdigit() else 0
