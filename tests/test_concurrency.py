"""Compare-and-swap on every ref update: concurrent writers lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import git, log_lines, run_cli

WRITER = """
import sys
from gitsess.sessions import Sessions
from gitsess.storage.repo import Repository

repo, session, worker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sessions = Sessions(Repository(repo))
for i in range(count):
    entry = {"type": "event", "name": "tick", "data": {"worker": worker, "n": i}}
    sessions.record(session, [(1, entry)])
"""


def test_four_writers_appending_fifty_each_lose_nothing(repo: Path) -> None:
    sid = json.loads(run_cli(repo, "new", "Busy", "--json").out)["id"]
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(repo), sid, str(w), "50"])
        for w in range(4)
    ]
    assert [w.wait(timeout=300) for w in workers] == [0, 0, 0, 0]
    entries = log_lines(repo, sid)
    assert len(entries) == 200
    seen = {(e["data"]["worker"], e["data"]["n"]) for e in entries}
    assert seen == {(str(w), n) for w in range(4) for n in range(50)}
    # Each writer's own entries stay in the order it wrote them.
    for w in range(4):
        assert [e["data"]["n"] for e in entries if e["data"]["worker"] == str(w)] == list(range(50))
    assert len(git(repo, "reflog", "show", f"refs/sessions/{sid}").splitlines()) == 201


def test_concurrent_cli_records_and_renames(repo: Path) -> None:
    sid = json.loads(run_cli(repo, "new", "Busy CLI", "--json").out)["id"]
    procs = [
        subprocess.Popen(["gitsess", "record", sid, "--role", "user", f"message {i}"], cwd=repo)
        for i in range(10)
    ] + [subprocess.Popen(["gitsess", "rename", sid, f"Title {i}"], cwd=repo) for i in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    contents = sorted(e["content"] for e in log_lines(repo, sid))
    assert contents == sorted(f"message {i}" for i in range(10))
    title = json.loads(git(repo, "cat-file", "blob", f"refs/sessions/{sid}:session.json"))["title"]
    assert title in {f"Title {i}" for i in range(3)}
