"""Compare-and-swap on every ref update: concurrent writers lose nothing."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

from .conftest import fsck, git, log_lines, run_cli, soak

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


# -- the full proof: library and CLI writers, with fetch-merges racing them -----------------

LIB_WRITER = """
import sys
from gitsess.sessions import Sessions
from gitsess.storage.repo import Repository

repo, session, worker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sessions = Sessions(Repository(repo))
for i in range(count):
    entry = {"id": f"{worker}-{i:05d}", "type": "event", "name": "tick",
             "data": {"worker": worker, "n": i}}
    sessions.record(session, [(1, entry)])
"""

CLI_WRITER = """
import json, subprocess, sys

session, worker, count, style = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for i in range(count):
    if style == "jsonl":  # an id of its own, through `record --jsonl -`
        entry = {"id": f"{worker}-{i:05d}", "type": "event", "name": "tick",
                 "data": {"worker": worker, "n": i}}
        args, stdin = ["--jsonl", "-"], json.dumps(entry).encode()
    else:  # `record --role`: gitsess picks the id
        args, stdin = ["--role", "user", f"{worker} {i}"], None
    subprocess.run(["gitsess", "record", session, *args], input=stdin, check=True,
                   stdout=subprocess.DEVNULL)
"""

TEAMMATE = """
import os, sys, time
from gitsess.sessions import Sessions
from gitsess.sharing import Sharing
from gitsess.storage.repo import Repository

repo, session, stop, least = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sessions = Sessions(Repository(repo))
sharing = Sharing(sessions)
i = 0
while i < least or not os.path.exists(stop):  # pushes for as long as the writers write
    entry = {"id": f"mate-{i:05d}", "type": "event", "name": "tick",
             "data": {"worker": "mate", "n": i}}
    sessions.record(session, [(1, entry)])
    report = sharing.push([session], None)
    assert report.pushed, report
    i += 1
    time.sleep(1.0)
print(i)
"""

FETCHER = """
import os, subprocess, sys, time

stop, runs, starved = sys.argv[1], 0, 0
while not os.path.exists(stop):
    proc = subprocess.run(["gitsess", "fetch"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        # A merge that lost its compare-and-swap to the appends every time: nothing is
        # lost (the tracking ref stays unmerged, for the next fetch), but count them.
        assert "kept changing; it was not merged" in proc.stderr, proc.stderr
        starved += 1
    runs += 1
    time.sleep(0.4)
print(runs, starved)
"""


def reflog_chain(repo: Path, ref: str) -> list[tuple[str, str, str]]:
    """(old, new, message) of each reflog line of ``ref``, oldest first, as git stored them."""
    rows = []
    for line in (repo / ".git" / "logs" / ref).read_text().splitlines():
        head, _, message = line.partition("\t")
        old, new = head.split(" ")[:2]
        rows.append((old, new, message))
    return rows


def test_eight_writers_and_racing_fetch_merges_lose_nothing(tmp_path: Path, repo: Path) -> None:
    """8 writers (6 library, 2 `gitsess record`) append to one session while another process
    keeps fetching from a real remote that a teammate keeps pushing the same session to, so
    fetch-merges race the local appends: every entry exactly once, each writer's in order."""
    count = soak(40, 500)  # entries per writer
    least = soak(5, 50)  # the teammate's entries, at least: it goes on while the writers write
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    sid = run_cli(repo, "new", "Busy", "--json", "--no-checkout").json()["id"]
    assert run_cli(repo, "push", sid).code == 0
    mate = tmp_path / "mate"
    git(tmp_path, "clone", "-q", str(bare), str(mate))
    assert run_cli(mate, "fetch").code == 0

    lib = [f"w{w}" for w in range(6)]
    cli = {"w6": "jsonl", "w7": "role"}
    done = tmp_path / "writers-done"
    fetcher = subprocess.Popen(
        [sys.executable, "-c", FETCHER, str(done)], cwd=repo, stdout=subprocess.PIPE, text=True
    )
    teammate = subprocess.Popen(
        [sys.executable, "-c", TEAMMATE, str(mate), sid, str(done), str(least)],
        stdout=subprocess.PIPE,
        text=True,
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", LIB_WRITER, str(repo), sid, w, str(count)])
        for w in lib
    ]
    writers += [
        subprocess.Popen([sys.executable, "-c", CLI_WRITER, sid, w, str(count), style], cwd=repo)
        for w, style in cli.items()
    ]
    assert [p.wait(timeout=1800) for p in writers] == [0] * len(writers)
    done.touch()
    mate_count = int(teammate.communicate(timeout=300)[0])
    fetch_runs, starved = map(int, fetcher.communicate(timeout=300)[0].split())
    assert (teammate.returncode, fetcher.returncode) == (0, 0)
    assert run_cli(repo, "fetch").code == 0  # whatever the teammate pushed last

    entries = log_lines(repo, sid)
    assert len(entries) == 8 * count + mate_count
    ids = [e["id"] for e in entries]
    assert len(set(ids)) == len(ids), "an entry id appears twice"
    # Every entry by id and payload, each writer's (and the teammate's) in the order written.
    for w, n in [*((w, count) for w in [*lib, "w6"]), ("mate", mate_count)]:
        mine = [e for e in entries if e.get("data", {}).get("worker") == w]
        assert [e["id"] for e in mine] == [f"{w}-{i:05d}" for i in range(n)]
        assert [e["data"]["n"] for e in mine] == list(range(n))
    said = [e["content"] for e in entries if e["type"] == "message"]
    assert said == [f"w7 {i}" for i in range(count)]

    # The reflog is one unbroken chain of compare-and-swaps ending at the ref, with one
    # "append" per record (nothing written twice, nothing overwritten), merges besides.
    chain = reflog_chain(repo, f"refs/sessions/{sid}")
    assert chain[0][0] == "0" * 40
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chain))
    assert chain[-1][1] == git(repo, "rev-parse", f"refs/sessions/{sid}")
    appends = [m for _, _, m in chain if m.startswith("gitsess: append")]
    assert appends == ["gitsess: append 1 entry"] * (8 * count)
    merges = [m for _, _, m in chain if m.startswith("gitsess: merge")]
    assert merges, f"no fetch-merge raced the appends ({fetch_runs} fetches)"
    print(f"{fetch_runs} fetches ({starved} gave up), {len(merges)} merges, {mate_count} pushed")
    for path in (repo, mate, bare):
        fsck(path)
