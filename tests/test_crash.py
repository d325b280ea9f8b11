"""Crashes: a writer killed with SIGKILL at a random point never tears a log or loses an entry.

Each run forks the writer from this (already imported) process, so a kill costs a few
milliseconds and a hundred of them fit in `make test`. The writer prints an acknowledgement
after each `record` returns; the test kills it (alone, or with the git processes it started)
a random time after a random acknowledgement, then checks that the log is exactly what was
there before plus a prefix of what the writer meant to append, holding every acknowledged
entry and at most the one in flight; that `git fsck --strict` finds nothing wrong with what is
reachable (dangling objects, and git's own `tmp_obj_*` files, from the killed write are
expected: `git gc` removes them); and that the next write works.

Sizes: `soak(default, large)`; GITSESS_SOAK=1 runs the large ones. The seed is fixed per
test (GITSESS_CRASH_SEED=N picks another) and is part of every failure message.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import fsck, git, log_lines, run_cli, soak, trash_logs

SEED = int(os.environ.get("GITSESS_CRASH_SEED", "20261125"))
MAX_ENTRIES, MAX_BYTES = 1000, 1 << 20


# -- killing a forked writer ------------------------------------------------------------


def fork_writer(work: Callable[[Callable[[str], None]], None], log: Path) -> tuple[int, Any]:
    """Run ``work(ack)`` in a forked child in a process group of its own; (pid, ack reader)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.setpgid(0, 0)
            os.close(read_end)
            err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            os.dup2(err, 2)

            def ack(line: str) -> None:
                os.write(write_end, (line + "\n").encode())

            work(ack)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with contextlib.suppress(OSError):  # whichever of parent and child gets here first
        os.setpgid(pid, pid)
    return pid, os.fdopen(read_end, "r")


def kill_run(
    rng: random.Random,
    work: Callable[[Callable[[str], None]], None],
    log: Path,
    acks_first: int,
    delay: float,
) -> tuple[list[str], str]:
    """Start ``work``, wait for ``acks_first`` acks, sleep up to ``delay``, SIGKILL it.

    Half of the kills take the whole process group (the git processes it started die
    mid-write too, as in a power cut or an OOM kill of the tree); the others kill the writer
    alone (its git children finish what they were doing, as after a crash of Python).
    Returns every ack the writer sent, and how it was killed.
    """
    pid, acks_pipe = fork_writer(work, log)
    acks: list[str] = []
    while len(acks) < acks_first:
        line = acks_pipe.readline()
        if not line:
            break
        acks.append(line.strip())
    time.sleep(rng.uniform(0, delay))
    group = rng.random() < 0.5
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL) if group else os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    acks += [line.strip() for line in acks_pipe.readlines()]
    acks_pipe.close()
    # Whatever the writer had started must be over before the log is looked at.
    deadline = time.monotonic() + 30
    while group_alive(pid):
        assert time.monotonic() < deadline, "the killed writer's children do not end"
        time.sleep(0.005)
    return acks, "process group" if group else "writer alone"


def group_alive(pgid: int) -> bool:
    """Is a process of group ``pgid`` still running? Zombies, which whoever adopted the
    killed writer's children may take seconds to reap, do not count."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                state, _ppid, group = handle.read().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state != "Z":
            return True
    return False


def left_locks(repo: Path, session_id: str | None, why: str) -> int:
    """Lock files a killed git process left. A session's ref lock must make the next write
    fail at once with a message naming it (not retry for long, then blame a race); then it
    is removed, as that message says. Git's own (index.lock after a killed `git switch`) are
    git's to report, and are just removed. Returns how many there were."""
    locks = [p for p in (repo / ".git").rglob("*.lock") if "objects" not in p.parts]
    for lock in locks:
        if session_id and lock.name == f"{session_id}.lock":
            old = time.time() - 60
            os.utime(lock, (old, old))
            result = run_cli(repo, "record", session_id, "--role", "user", "locked out")
            assert result.code == 1 and str(lock) in result.err, f"{why}: {result}"
        lock.unlink()
    return len(locks)


def ref(repo: Path, session_id: str) -> str:
    return git(repo, "rev-parse", "--verify", "--quiet", f"refs/sessions/{session_id}", check=False)


def blob(repo: Path, spec: str) -> bytes:
    return subprocess.run(
        ["git", "cat-file", "blob", spec], cwd=repo, capture_output=True, check=True
    ).stdout


def check_log(repo: Path, session_id: str, why: str) -> list[dict[str, Any]]:
    """The log parses, its count trailer agrees, and its segments are sealed as the format
    says."""
    tip = ref(repo, session_id)
    assert tip, f"{why}: the session is gone"
    names = git(repo, "ls-tree", "--name-only", f"{tip}:log", check=False).splitlines()
    segments = [blob(repo, f"{tip}:log/{n}") for n in names]
    assert names == [f"{i:08d}.jsonl" for i in range(len(names))], f"{why}: {names}"
    entries = []
    for index, data in enumerate(segments):
        assert data.endswith(b"\n"), f"{why}: segment {index} is torn"
        lines = data.splitlines()
        assert len(lines) <= MAX_ENTRIES and len(data) <= MAX_BYTES, f"{why}: segment {index}"
        if index < len(segments) - 1:  # sealed: full, or the next entry would not have fit
            first_next = len(segments[index + 1].splitlines()[0]) + 1
            assert len(lines) == MAX_ENTRIES or len(data) + first_next > MAX_BYTES, why
        entries += [json.loads(line) for line in lines]
    count = git(repo, "log", "-1", "--format=%(trailers:key=Entries,valueonly)", tip).strip()
    assert count == str(len(entries)), f"{why}: Entries trailer {count}, log has {len(entries)}"
    json.loads(git(repo, "cat-file", "blob", f"{tip}:session.json"))
    return entries


def check_reflog(repo: Path, session_id: str, why: str) -> None:
    """The ref's reflog is whole: every line parses, each starts where the last ended, and the
    last ends at the ref (a kill mid-update must not leave a torn or missing line)."""
    text = (repo / ".git" / "logs" / "refs" / "sessions" / session_id).read_text()
    assert text.endswith("\n"), f"{why}: torn reflog"
    rows = [line.split("\t", 1)[0].split(" ")[:2] for line in text.splitlines()]
    assert all(len(old) == len(new) == 40 for old, new in rows), f"{why}: {rows}"
    assert all(a[1] == b[0] for a, b in itertools.pairwise(rows)), f"{why}: reflog chain broken"
    assert rows[-1][1] == ref(repo, session_id), f"{why}: reflog does not end at the ref"


def fresh_session(repo: Path, title: str) -> str:
    return str(run_cli(repo, "new", title, "--json", "--no-checkout").json()["id"])


def appender(
    repo: Path, session_id: str, prefix: str, count: int, size: int = 0
) -> Callable[[Callable[[str], None]], None]:
    def work(ack: Callable[[str], None]) -> None:
        from gitsess.sessions import Sessions
        from gitsess.storage.repo import Repository

        sessions = Sessions(Repository(repo))
        for i in range(count):
            entry = {"id": f"{prefix}-{i:05d}", "type": "event", "name": "tick"}
            entry["data"] = {"pad": "x" * size} if size else {"n": i}
            sessions.record(session_id, [(1, entry)], trusted=True)
            ack(entry["id"])

    return work


def prefill(repo: Path, session_id: str, count: int, size: int = 0, prefix: str = "pre") -> str:
    lines = "".join(
        json.dumps({"id": f"{prefix}-{i:05d}", "type": "event", "name": "fill", "data": "y" * size})
        + "\n"
        for i in range(count)
    )
    result = run_cli(repo, "record", session_id, "--jsonl", "-", stdin=lines.encode())
    assert result.code == 0, result.err
    return ref(repo, session_id)


def kill_appends(
    repo: Path,
    tmp_path: Path,
    session_id: str,
    runs: int,
    seed: int,
    base: str | None = None,
    per_run: int = 12,
    size: int = 0,
) -> int:
    """``runs`` killed appenders; each starts from ``base`` (else from where the last ended)."""
    rng = random.Random(seed)
    errors = tmp_path / "writer-stderr.txt"
    crossed = locks = 0
    for run in range(runs):
        if base:
            git(repo, "update-ref", f"refs/sessions/{session_id}", base)
        before = [e["id"] for e in check_log(repo, session_id, "before")]
        prefix = f"r{run}"
        work = appender(repo, session_id, prefix, per_run, size)
        acks, how = kill_run(rng, work, errors, rng.randint(0, per_run - 2), 0.03)
        why = f"seed {seed}, run {run}, killed ({how}) after {len(acks)} acks"
        entries = check_log(repo, session_id, why)
        locks += left_locks(repo, session_id, why)
        check_reflog(repo, session_id, why)
        ids = [e["id"] for e in entries]
        assert ids[: len(before)] == before, f"{why}: what was there before changed"
        added = ids[len(before) :]
        assert added == [f"{prefix}-{i:05d}" for i in range(len(added))], f"{why}: {added}"
        assert len(acks) <= len(added) <= len(acks) + 1, f"{why}: {added} vs acks {acks}"
        crossed += (
            len(entries) > MAX_ENTRIES or sum(len(json.dumps(e)) for e in entries) > MAX_BYTES
        )
        fsck(repo)
    assert "Traceback" not in (errors.read_text() if errors.exists() else ""), errors.read_text()
    # And the next write works, through the command line.
    assert run_cli(repo, "record", session_id, "--role", "user", "after the crashes").code == 0
    check_log(repo, session_id, f"seed {seed}: after the crashes")
    print(f"{runs} kills, {crossed} past a seal, {locks} ref locks left")
    return crossed


def test_killed_appends_keep_every_acknowledged_entry(repo: Path, tmp_path: Path) -> None:
    sid = fresh_session(repo, "Killed appends")
    kill_appends(repo, tmp_path, sid, soak(30, 200), SEED)


def test_killed_appends_across_the_1000_entry_seal(repo: Path, tmp_path: Path) -> None:
    """Every run starts 3 entries short of a full segment, so kills land around the seal."""
    sid = fresh_session(repo, "Killed at the seal")
    base = prefill(repo, sid, MAX_ENTRIES - 3)
    crossed = kill_appends(repo, tmp_path, sid, soak(20, 100), SEED + 1, base, per_run=8)
    assert crossed, "no run got past the seal"


def test_killed_appends_across_the_1_mib_seal(repo: Path, tmp_path: Path) -> None:
    """Entries of 60 KiB on a segment 100 KiB short of 1 MiB: the second one seals it."""
    sid = fresh_session(repo, "Killed at the size seal")
    base = prefill(repo, sid, 9, size=(MAX_BYTES - 100_000) // 9 - 80)
    crossed = kill_appends(
        repo, tmp_path, sid, soak(15, 100), SEED + 2, base, per_run=6, size=60_000
    )
    assert crossed, "no run got past the seal"


# -- one-shot commands killed mid-way ----------------------------------------------------


def command(repo: Path, *args: str) -> Callable[[Callable[[str], None]], None]:
    """The real command line (`gitsess.__main__.main`), in the forked child."""

    def work(ack: Callable[[str], None]) -> None:
        from gitsess.__main__ import main

        code = main(["-C", str(repo), *args])
        ack(f"exit {code}")

    return work


def finish(tmp_path: Path, work: Callable[[Callable[[str], None]], None]) -> float:
    """Run ``work`` to its end (it must succeed); how long it took, to spread kills over."""
    start = time.monotonic()
    pid, acks = fork_writer(work, tmp_path / "finish-stderr.txt")
    said = acks.readline().strip()
    acks.close()
    os.waitpid(pid, 0)
    assert said == "exit 0", (tmp_path / "finish-stderr.txt").read_text()
    return time.monotonic() - start


@pytest.fixture
def warm() -> None:
    """Load what the commands load (detect-secrets above all) once, before forking."""
    import gitsess.cli
    import gitsess.sharing
    from gitsess.secrets import scan_entries

    assert gitsess.cli and gitsess.sharing
    scan_entries([("warm-up", {"content": "nothing secret"})])


@pytest.fixture
def diverged(repo: Path, tmp_path: Path) -> tuple[str, str]:
    """A session both here and in a teammate's clone, each with entries the other lacks."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    sid = fresh_session(repo, "Diverged")
    prefill(repo, sid, 5)
    assert run_cli(repo, "push", sid).code == 0
    mate = tmp_path / "mate"
    git(tmp_path, "clone", "-q", str(bare), str(mate))
    assert run_cli(mate, "fetch").code == 0
    theirs = "".join(
        json.dumps({"id": f"theirs-{i}", "type": "message", "role": "user", "content": f"t{i}"})
        + "\n"
        for i in range(8)
    )
    assert run_cli(mate, "record", sid, "--jsonl", "-", stdin=theirs.encode()).code == 0
    assert run_cli(mate, "push", sid).code == 0
    mine = theirs.replace("theirs-", "mine-")
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=mine.encode()).code == 0
    return sid, ref(repo, sid)


def forget_fetch(repo: Path, session_id: str, ours: str) -> None:
    """Back to before the fetch: our log, no tracking ref, no memory of having merged it."""
    git(repo, "update-ref", f"refs/sessions/{session_id}", ours)
    git(repo, "update-ref", "-d", f"refs/gitsess/remotes/origin/sessions/{session_id}")
    for name in ("tracking-seen", "tracking-seen.json"):
        (repo / ".git" / "gitsess" / name).unlink(missing_ok=True)


def test_killed_fetch_merge_leaves_ours_or_the_merge(
    repo: Path, tmp_path: Path, diverged: tuple[str, str], warm: None
) -> None:
    """`gitsess fetch` killed while it transfers and merges a diverged copy: the log is ours
    or the whole merge, and the next fetch completes the merge."""
    sid, ours = diverged
    ours_ids = [e["id"] for e in check_log(repo, sid, "ours")]
    fetch = command(repo, "fetch")
    duration = finish(tmp_path, fetch)
    merged = [e["id"] for e in check_log(repo, sid, "merged")]
    assert len(merged) == 5 + 8 + 8 and set(ours_ids) <= set(merged)
    seed = SEED + 3
    rng = random.Random(seed)
    outcomes = {"ours": 0, "merged": 0, "locks": 0}
    for run in range(soak(12, 60)):
        forget_fetch(repo, sid, ours)
        acks, how = kill_run(rng, fetch, tmp_path / "stderr.txt", 0, duration)
        why = f"seed {seed}, run {run}, fetch killed ({how}, acks {acks})"
        ids = [e["id"] for e in check_log(repo, sid, why)]
        assert ids in (ours_ids, merged), f"{why}: {ids}"
        outcomes["ours" if ids == ours_ids else "merged"] += 1
        outcomes["locks"] += left_locks(repo, sid, why)
        fsck(repo)
        finish(tmp_path, fetch)  # the next fetch finishes the job, whatever was interrupted
        assert [e["id"] for e in check_log(repo, sid, why)] == merged, why
    print(outcomes)
    assert outcomes["ours"], f"every kill came too late: {outcomes}"


def test_killed_redact_leaves_the_log_or_its_redacted_copy(
    repo: Path, tmp_path: Path, warm: None
) -> None:
    """`gitsess redact` killed mid-way: the log is the original or the whole redacted copy
    (whose replaced history is in the trash), and the next redact completes."""
    sid = fresh_session(repo, "Leaky")
    prefill(repo, sid, 20)
    secret = "export AWS_ACCESS_KEY_ID=AKIAQX7H2PL9VR4MN8KW\n"
    assert run_cli(repo, "record", sid, "--role", "user", secret).code == 0
    prefill(repo, sid, 5, prefix="post")
    leaky = ref(repo, sid)
    original = check_log(repo, sid, "original")
    redact = command(repo, "redact", sid)
    duration = finish(tmp_path, redact)
    redacted = check_log(repo, sid, "redacted")
    assert [e["id"] for e in redacted] == [e["id"] for e in original]
    assert "AKIAQX7H2PL9VR4MN8KW" not in json.dumps(redacted)
    seed = SEED + 4
    rng = random.Random(seed)
    outcomes = {"original": 0, "redacted": 0, "locks": 0}
    for run in range(soak(12, 60)):
        git(repo, "update-ref", f"refs/sessions/{sid}", leaky)
        acks, how = kill_run(rng, redact, tmp_path / "stderr.txt", 0, duration)
        why = f"seed {seed}, run {run}, redact killed ({how}, acks {acks})"
        entries = check_log(repo, sid, why)
        assert entries in (original, redacted), why
        if entries == redacted:  # the history it replaced is kept in the trash
            assert leaky in trash_logs(repo), why
            outcomes["redacted"] += 1
        else:
            assert ref(repo, sid) == leaky, why
            outcomes["original"] += 1
        outcomes["locks"] += left_locks(repo, sid, why)
        fsck(repo)
        finish(tmp_path, redact)
        assert check_log(repo, sid, why) == redacted, why
    print(outcomes)
    assert outcomes["original"], f"every kill came too late: {outcomes}"


def sessions_here(repo: Path) -> set[str]:
    out = git(repo, "for-each-ref", "--format=%(refname:strip=2)", "refs/sessions/")
    return set(out.split())


def test_killed_new_and_fork_leave_a_whole_session_or_nothing(
    repo: Path, tmp_path: Path, warm: None
) -> None:
    """`new` and `fork`, checking out or not, killed mid-way: no session, or one that reads
    whole; never a session branch without a session. (A session whose branch was not made
    yet can be: `resume` makes the branch.)"""
    source = fresh_session(repo, "Source")
    prefill(repo, source, 30)
    commands = [
        ("new", "Fresh", "--no-checkout"),
        ("new", "Fresh and checked out"),
        ("fork", source, "--no-checkout"),
        ("fork", source, "--at", "pre-00010"),
    ]
    durations = [finish(tmp_path, command(repo, *args)) for args in commands]
    git(repo, "checkout", "-q", "main")
    seed = SEED + 5
    rng = random.Random(seed)
    outcomes = {"nothing": 0, "whole": 0, "branch to make": 0, "locks": 0}
    known = sessions_here(repo)
    for run in range(soak(24, 120)):
        which = run % len(commands)
        work = command(repo, *commands[which])
        acks, how = kill_run(rng, work, tmp_path / "e.txt", 0, durations[which])
        why = f"seed {seed}, run {run}, {commands[which][0]} killed ({how}, acks {acks})"
        outcomes["locks"] += left_locks(repo, None, why)
        new = sessions_here(repo) - known
        assert len(new) <= 1, why
        branches = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/session/")
        expected = {
            str(json.loads(blob(repo, f"refs/sessions/{s}:session.json"))["branch"])
            for s in known | new
        }
        orphans = set(branches.split()) - expected
        assert not orphans, f"{why}: branches without a session log: {orphans}"
        for sid in new:
            entries = check_log(repo, sid, why)
            assert len(entries) == {0: 0, 1: 0, 2: 30, 3: 11}[which], why
            branch = json.loads(blob(repo, f"refs/sessions/{sid}:session.json"))["branch"]
            if branch in branches.split():
                outcomes["whole"] += 1
            else:  # killed between the log and the branch: `resume` makes the branch
                outcomes["branch to make"] += 1
                finish(tmp_path, command(repo, "resume", sid))
                assert git(repo, "branch", "--show-current") == branch, why
        outcomes["nothing"] += not new
        known |= new
        fsck(repo)
        git(repo, "checkout", "-q", "-f", "main")
    print(outcomes)
    assert outcomes["nothing"] and outcomes["whole"], outcomes
    assert run_cli(repo, "new", "After the crashes", "--no-checkout").code == 0


# -- what a crash without fsync can leave: empty object files -----------------------------


def loose_path(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def test_an_empty_segment_object_is_an_error_not_a_shorter_log(repo: Path) -> None:
    """A log object emptied by a crash (written without fsync, as git writes loose objects by
    default) is reported; gitsess never reads the log as shorter, nor appends over the gap."""
    sid = fresh_session(repo, "Emptied")
    prefill(repo, sid, 30)
    tip = ref(repo, sid)
    segment = git(repo, "rev-parse", f"{tip}:log/00000000.jsonl")
    path = loose_path(repo, segment)
    saved = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(b"")
    try:
        for args in (["show", sid], ["record", sid, "--role", "user", "more"], ["fork", sid]):
            result = run_cli(repo, *args)
            assert result.code == 1, (args, result)
            assert "missing or corrupt" in result.err and segment[:12] in result.err, result.err
            assert "Traceback" not in result.err
        assert ref(repo, sid) == tip  # nothing was written over the damage
    finally:
        path.write_bytes(saved)
    assert len(log_lines(repo, sid)) == 30
    assert run_cli(repo, "record", sid, "--role", "user", "more").code == 0
    assert len(log_lines(repo, sid)) == 31


def test_an_empty_object_file_is_written_again_not_trusted(repo: Path) -> None:
    """An empty file where an object belongs is not taken for the object: writing that object
    again fills it (git itself would trust the file, and reference a corrupt object)."""
    from gitsess.storage.repo import Repository

    data = b'{"id":"x","ts":"2026-11-25T00:00:00.000Z","type":"event","name":"n"}\n'
    oid = git(repo, "hash-object", "--stdin", input=data.decode())
    path = loose_path(repo, oid)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"")
    written = Repository(repo).writer.blob(data)
    assert written == oid
    assert zlib.decompress(path.read_bytes()) == b"blob %d\0" % len(data) + data
    assert git(repo, "cat-file", "blob", oid) + "\n" == data.decode()
    assert not [p for p in path.parent.iterdir() if p.name.startswith("tmp_obj_")]


def test_a_killed_object_write_leaves_no_partial_object(repo: Path, tmp_path: Path) -> None:
    """Objects are written to a temporary file and renamed into place, as git does: a kill
    mid-write leaves a `tmp_obj_*` file (git ignores it, `git gc` prunes it), never a torn
    object under the object's name."""
    data = os.urandom(6 << 20)  # big enough that the kill lands inside the write

    def work(ack: Callable[[str], None]) -> None:
        from gitsess.storage.repo import Repository

        ack(Repository(repo).writer.blob(data))

    start = time.monotonic()
    pid, acks = fork_writer(work, tmp_path / "stderr.txt")
    oid = acks.readline().strip()
    os.waitpid(pid, 0)
    duration = time.monotonic() - start
    loose_path(repo, oid).unlink()
    rng = random.Random(SEED + 6)
    for run in range(soak(5, 30)):
        _, how = kill_run(rng, work, tmp_path / "stderr.txt", 0, duration)
        path = loose_path(repo, oid)
        if path.exists():  # only ever the whole object
            assert git(repo, "cat-file", "-s", oid) == str(len(data)), f"run {run}, {how}"
            path.unlink()
        fsck(repo)
