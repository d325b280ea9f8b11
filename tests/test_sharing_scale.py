"""Sharing whose cost follows what moves: one session fetched by name, a plain `git fetch`
merged for what changed only, and what gitsess remembers of past merges kept across
versions. (The figures themselves are in bench/bench.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import git, log_lines, make_repo, meta, session_ids


def shared(gs: Any, work: Path, count: int) -> list[str]:
    ids = [
        gs("new", f"scale {n}", "--no-checkout", "--json", cwd=work).json()["id"]
        for n in range(count)
    ]
    assert gs("push", *ids, cwd=work).code == 0
    return ids


def clone(tmp_path: Path, origin: Path, name: str = "mate") -> Path:
    mate = make_repo(tmp_path / name)
    git(mate, "remote", "add", "origin", str(origin))
    return mate


def test_fetching_one_session_asks_the_remote_about_its_refs_only(
    gs: Any, work: Path, origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By full id, the log and its branch are fetched by name: the remote advertises no
    other session (no listing of every session and branch first)."""
    ids = shared(gs, work, 3)
    mate = clone(tmp_path, origin)
    trace = tmp_path / "packets.txt"
    monkeypatch.setenv("GIT_TRACE_PACKET", str(trace))
    fetched = gs("fetch", "origin", ids[0], cwd=mate)
    monkeypatch.delenv("GIT_TRACE_PACKET")
    assert fetched.code == 0, fetched.err
    assert session_ids(mate) == [ids[0]]
    branch = meta(work, ids[0])["branch"]
    assert git(mate, "rev-parse", f"refs/remotes/origin/{branch}") == git(work, "rev-parse", branch)
    packets = trace.read_text(errors="replace")
    assert ids[0] in packets  # the trace did record the conversation
    assert ids[1] not in packets and ids[2] not in packets


def test_fetching_an_id_the_remote_lacks_says_so_and_fetches_nothing(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    ids = shared(gs, work, 2)
    mate = clone(tmp_path, origin)
    absent = "0000000000" if ids[0] != "0000000000" else "1111111111"
    result = gs("fetch", "origin", ids[0], absent, cwd=mate)
    assert result.code == 2
    assert result.err.strip() == f"gitsess: no session {absent!r} on {origin}"
    assert session_ids(mate) == []
    assert git(mate, "for-each-ref", "refs/gitsess/") == ""


def test_a_branch_gone_from_the_remote_is_reported_and_the_rest_fetched(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    """Branches are fetched by name; one the remote no longer has is said, not fatal."""
    ids = shared(gs, work, 2)
    gone = meta(work, ids[0])["branch"]
    git(origin, "update-ref", "-d", f"refs/heads/{gone}")
    mate = clone(tmp_path, origin)
    result = gs("fetch", "origin", *ids, "--json", cwd=mate)
    assert result.code == 0, result.err
    assert result.json()["missing_branches"] == [gone]
    assert sorted(session_ids(mate)) == sorted(ids)
    kept = meta(work, ids[1])["branch"]
    assert git(mate, "rev-parse", f"refs/remotes/origin/{kept}") == git(work, "rev-parse", kept)


def test_a_plain_fetch_after_an_older_gitsess_keeps_deleted_sessions_deleted(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    """What an older gitsess remembered of past merges (tracking-seen.json) still holds: a
    session deleted here is not brought back by the next plain `git fetch`, the one that
    changed is merged, and the memory moves to the new journal."""
    kept, dropped = shared(gs, work, 2)
    mate = clone(tmp_path, origin)
    assert gs("fetch", "origin", cwd=mate).code == 0
    assert gs("delete", dropped, cwd=mate).code == 0
    state = mate / ".git" / "gitsess"
    journal = state / "tracking-seen"
    seen = dict(reversed(line.split(" ", 1)) for line in journal.read_text().splitlines())
    (state / "tracking-seen.json").write_text(json.dumps(seen))  # as the older gitsess kept it
    journal.unlink()
    assert gs("record", kept, "--role", "user", "news", cwd=work).code == 0
    assert gs("push", kept, cwd=work).code == 0
    git(mate, "fetch", "-q", "origin")
    listed = gs("list", "--json", cwd=mate)
    assert [row["id"] for row in listed.json()] == [kept]
    assert [e.get("content") for e in log_lines(mate, kept)] == ["news"]
    assert journal.exists() and not (state / "tracking-seen.json").exists()


def test_a_plain_fetch_merges_only_the_sessions_that_changed(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    """Sessions whose tracking refs did not move are left as they are here (a local
    append since is not merged again), the moved one is merged."""
    ids = shared(gs, work, 3)
    mate = clone(tmp_path, origin)
    assert gs("fetch", "origin", cwd=mate).code == 0
    assert gs("record", ids[1], "--role", "user", "mine", cwd=mate).code == 0
    mine = git(mate, "rev-parse", f"refs/sessions/{ids[1]}")
    assert gs("record", ids[2], "--role", "user", "theirs", cwd=work).code == 0
    assert gs("push", ids[2], cwd=work).code == 0
    git(mate, "fetch", "-q", "origin")
    status = gs("status", "--json", cwd=mate)
    assert status.code == 0, status.err
    assert git(mate, "rev-parse", f"refs/sessions/{ids[1]}") == mine
    assert [e.get("content") for e in log_lines(mate, ids[2])] == ["theirs"]
