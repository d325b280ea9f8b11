"""Pushing and fetching over a thousand sessions at once: the paths only that many take.

Past 32 new refs the tracking refs (on push) and the session refs (on fetch) are written
into packed-refs in one go, and past a thousand rows the listing is read by msgspec:
what a user sees must be exactly what fewer sessions give.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

from .conftest import git, make_repo, meta

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
COUNT = 1050


def make_sessions(
    repo: Path,
    count: int,
    private: set[int],
    odd_title: int,
    hostile: dict[int, dict[str, Any]] | None = None,
) -> list[str]:
    """``count`` sessions written by fast-import as gitsess writes them (a log commit of
    session.json and one segment of two entries, with trailers, and a branch each)."""
    base = git(repo, "rev-parse", "HEAD")
    rng = random.Random(count)
    ids = sorted({"".join(rng.choice(ALPHABET) for _ in range(10)) for _ in range(count)})
    stream: list[bytes] = []
    refs = []
    for index, session in enumerate(ids):
        stamp = f"2026-01-01T00:{index // 60 % 60:02d}:{index % 60:02d}.000Z"
        title = f"many {index}" if index != odd_title else "lone \ud800 surrogate"
        data = {
            "format": 1,
            "id": session,
            "title": title,
            "branch": f"session/many-{session}",
            "base": base,
            "created": stamp,
            "updated": stamp,
            "author": {"name": "T", "email": "t@example.invalid"},
            "agent": None,
            "parent": None,
            "status": "active",
            "visibility": "private" if index in private else "shared",
            "tags": [],
        }
        data.update((hostile or {}).get(index, {}))
        text = json.dumps(data, indent=2) + "\n"
        # A value nested deeper than json goes (a forged session.json): spliced in as text.
        text = text.replace('"DEEP"', "[" * 3000 + "]" * 3000)
        blob = text.encode()
        log = b"".join(
            json.dumps(
                {
                    "id": "".join(rng.choice(ALPHABET) for _ in range(16)),
                    "ts": stamp,
                    "type": "message",
                    "role": "user",
                    "content": f"message {n} of {index}",
                }
            ).encode()
            + b"\n"
            for n in range(2)
        )
        body = f"create\n\nSession: {session}\nEntries: 2\n".encode()
        stream += [
            f"reset refs/sessions/{session}\ncommit refs/sessions/{session}\n".encode(),
            b"committer T <t@example.invalid> 1767225600 +0000\n",
            f"data {len(body)}\n".encode() + body,
            f"M 100644 inline session.json\ndata {len(blob)}\n".encode() + blob,
            f"M 100644 inline log/00000000.jsonl\ndata {len(log)}\n".encode() + log + b"\n",
        ]
        refs.append(f"create refs/heads/session/many-{session} {base}\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream), check=True)
    git(repo, "update-ref", "--stdin", input="".join(refs))
    return ids


def test_push_all_and_fetch_of_over_a_thousand_sessions(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    private = {3, 1020}
    ids = make_sessions(work, COUNT, private, odd_title=1030)
    listed = gs("list", "--json", "--all", cwd=work)
    assert listed.code == 0, listed.err
    assert len(listed.json()) == COUNT
    shared = [sid for n, sid in enumerate(ids) if n not in private]

    pushed = gs("push", "--all", cwd=work)
    assert pushed.code == 0, pushed.err
    assert pushed.out.count("\n") == len(shared)  # one line per session sent
    assert f"Pushed {shared[-1]} to {origin}: log: created, 2 entries; branch" in pushed.out
    on_remote = git(origin, "for-each-ref", "--format=%(refname)", "refs/sessions/").split()
    assert on_remote == [f"refs/sessions/{sid}" for sid in shared]  # no private one
    # What the remote has, as gitsess knows it: a tracking ref per session pushed.
    tracking = git(work, "for-each-ref", "--format=%(refname) %(objectname)", "refs/gitsess/")
    logs = dict(
        row.split(" ")[::-1]
        for row in git(
            work, "for-each-ref", "--format=%(objectname) %(refname:lstrip=2)", "refs/sessions/"
        ).splitlines()
    )
    expected = [f"refs/gitsess/remotes/origin/sessions/{sid} {logs[sid]}" for sid in shared]
    assert sorted(tracking.splitlines()) == sorted(expected)
    assert not (work / ".git" / "refs" / "gitsess").exists()  # packed, not a file each
    assert git(work, "fsck", "--no-dangling", "--connectivity-only") == ""

    again = gs("push", "--all", cwd=work)
    assert again.code == 0, again.err
    assert again.out.startswith(f"Up to date on {origin}: ") and again.out.count("\n") == 1

    mate = make_repo(tmp_path / "mate")
    git(mate, "remote", "add", "origin", str(origin))
    fetched = gs("fetch", "origin", cwd=mate)
    assert fetched.code == 0, fetched.err
    here = git(mate, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/sessions/").split()
    assert here == shared
    assert not (mate / ".git" / "refs" / "sessions").exists()  # packed, not a file each
    theirs = {row["id"]: row for row in gs("list", "--json", "--all", cwd=mate).json()}
    assert set(theirs) == set(shared)
    assert theirs[ids[1030]]["title"] == meta(work, ids[1030])["title"]
    assert git(mate, "fsck", "--no-dangling", "--connectivity-only") == ""
    # The fetched sessions are ordinary refs: recording into one moves it as usual.
    assert gs("record", shared[0], "--role", "user", "more", cwd=mate).code == 0
    assert theirs[shared[0]]["entries"] == 2
    assert gs("show", shared[0], cwd=mate).out.count("more") == 1


def test_a_fetch_of_many_reports_what_a_fetch_of_few_does(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    """Many sessions fetched at once are checked through the listing: a teammate's
    session naming `main` as its branch, one claiming another's id and one nested too
    deeply are reported as when they come alone."""
    hostile: dict[int, dict[str, Any]] = {5: {"branch": "main"}, 9: {"tags": "DEEP"}}
    ids = make_sessions(work, 120, set(), odd_title=-1, hostile=hostile)
    hostile[7] = {}
    # session 7's log claims to be session 8 (a forged log under another id)
    forged = git(work, "rev-parse", f"refs/sessions/{ids[8]}")
    git(work, "update-ref", f"refs/sessions/{ids[7]}", forged)
    git(work, "push", "-q", "origin", "refs/sessions/*:refs/sessions/*")

    def warnings(result: Any) -> set[str]:
        return {line for line in result.err.splitlines() if line.startswith("gitsess: warning")}

    many = make_repo(tmp_path / "many")
    git(many, "remote", "add", "origin", str(origin))
    all_of_them = gs("fetch", "origin", cwd=many)
    few = make_repo(tmp_path / "few")
    git(few, "remote", "add", "origin", str(origin))
    named = [ids[n] for n in (5, 7, 9, 10)]
    some = gs("fetch", "origin", *named, cwd=few)
    assert warnings(all_of_them) == warnings(some)
    assert len(warnings(some)) == 3
    assert all(any(ids[n] in w for w in warnings(some)) for n in (5, 7, 9))
    assert f"new  {ids[10]}" in all_of_them.out and f"new  {ids[10]}" in some.out
    assert f"  {ids[5]}" not in all_of_them.out  # reported as a problem, not as new
