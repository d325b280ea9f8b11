"""The segmented log (docs/format.md section 4): sealing, and appends that rewrite only
the last segment."""

from __future__ import annotations

import json
from pathlib import Path

from gitsess.storage.log import SEGMENT_MAX_BYTES, SEGMENT_MAX_ENTRIES

from .conftest import git, log_lines


def segments(repo: Path, sid: str) -> list[tuple[str, str]]:
    """(name, blob oid) of each log segment."""
    out = git(repo, "ls-tree", f"refs/sessions/{sid}:log")
    return [(line.split("\t")[1], line.split()[2]) for line in out.splitlines()]


def blob_lines(repo: Path, oid: str) -> int:
    return len(git(repo, "cat-file", "blob", oid).splitlines())


def events(count: int, start: int = 0) -> str:
    return "".join(
        json.dumps({"id": f"e{i}", "type": "event", "name": "tick", "data": i}) + "\n"
        for i in range(start, start + count)
    )


def test_a_batch_is_sealed_into_segments_of_1000(repo: Path, gs) -> None:
    sid = gs("new", "Long", "--json").json()["id"]
    assert gs("record", "--jsonl", "-", stdin=events(2500)).code == 0
    found = segments(repo, sid)
    assert [name for name, _ in found] == ["00000000.jsonl", "00000001.jsonl", "00000002.jsonl"]
    assert [blob_lines(repo, oid) for _, oid in found] == [
        SEGMENT_MAX_ENTRIES,
        SEGMENT_MAX_ENTRIES,
        500,
    ]
    assert [e["data"] for e in log_lines(repo, sid)] == list(range(2500))
    assert gs("show", sid, "--json").json()["session"]["entries"] == 2500


def test_appending_rewrites_only_the_last_segment(repo: Path, gs) -> None:
    sid = gs("new", "Growing", "--json").json()["id"]
    gs("record", "--jsonl", "-", stdin=events(1999))
    before = segments(repo, sid)
    gs("record", "--jsonl", "-", stdin=events(1, start=1999))  # fills segment 1
    middle = segments(repo, sid)
    assert middle[0] == before[0] and middle[1] != before[1]
    gs("record", "--jsonl", "-", stdin=events(1, start=2000))  # starts segment 2
    after = segments(repo, sid)
    assert after[:2] == middle[:2] and len(after) == 3
    assert blob_lines(repo, after[2][1]) == 1
    # The previous log commit holds the same first segment blob: shared, not copied.
    assert git(repo, "rev-parse", f"refs/sessions/{sid}~1:log/00000000.jsonl") == after[0][1]


def test_segments_are_sealed_before_reaching_1_mib(repo: Path, gs) -> None:
    sid = gs("new", "Big outputs", "--json").json()["id"]
    big = "x" * (300 * 1024)
    batch = "".join(
        json.dumps({"type": "tool_result", "call_id": f"c{i}", "output": big}) + "\n"
        for i in range(7)
    )
    assert gs("record", "--jsonl", "-", stdin=batch).code == 0
    found = segments(repo, sid)
    sizes = [int(git(repo, "cat-file", "-s", oid)) for _, oid in found]
    assert all(size <= SEGMENT_MAX_BYTES for size in sizes)
    assert [blob_lines(repo, oid) for _, oid in found] == [3, 3, 1]
    # One entry larger than a segment still gets stored, alone in its own segment.
    huge = json.dumps(
        {"type": "tool_result", "call_id": "h", "output": "y" * (SEGMENT_MAX_BYTES + 10)}
    )
    assert gs("record", "--jsonl", "-", stdin=huge + "\n").code == 0
    found = segments(repo, sid)
    assert len(found) == 4 and blob_lines(repo, found[3][1]) == 1
    assert len(log_lines(repo, sid)) == 8


def test_unknown_fields_survive_every_rewrite(repo: Path, gs) -> None:
    sid = gs("new", "Keep my keys", "--json").json()["id"]
    # Another tool (or a newer gitsess) adds a key to session.json and a file beside the log.
    ref = f"refs/sessions/{sid}"
    meta = json.loads(git(repo, "cat-file", "blob", f"{ref}:session.json"))
    meta["x-future"] = {"keep": [1, 2, 3]}
    blob = git(repo, "hash-object", "-w", "--stdin", input=json.dumps(meta))
    extra = git(repo, "hash-object", "-w", "--stdin", input="attachment\n")
    tree = git(
        repo, "mktree", input=f"100644 blob {blob}\tsession.json\n100644 blob {extra}\tnotes.txt\n"
    )
    old = git(repo, "rev-parse", ref)
    commit = git(repo, "commit-tree", tree, "-p", old, "-m", f"edit\n\nSession: {sid}")
    git(repo, "update-ref", ref, commit, old)
    gs("record", "--jsonl", "-", stdin='{"type":"event","name":"x","x-entry-field":"kept"}\n')
    gs("rename", sid, "New title")
    gs("archive", sid)
    gs("unarchive", sid)
    final = json.loads(git(repo, "cat-file", "blob", f"{ref}:session.json"))
    assert final["x-future"] == {"keep": [1, 2, 3]} and final["title"] == "New title"
    assert git(repo, "cat-file", "blob", f"{ref}:notes.txt") == "attachment"
    assert log_lines(repo, sid)[0]["x-entry-field"] == "kept"
    assert gs("show", sid, "--json").json()["session"]["entries"] == 1


def test_a_log_commit_without_the_entries_trailer_is_counted_by_reading(repo: Path, gs) -> None:
    sid = gs("new", "Foreign writer", "--json").json()["id"]
    gs("record", "--jsonl", "-", stdin=events(3))
    ref = f"refs/sessions/{sid}"
    old = git(repo, "rev-parse", ref)
    commit = git(
        repo, "commit-tree", f"{ref}^{{tree}}", "-p", old, "-m", f"touch\n\nSession: {sid}"
    )
    git(repo, "update-ref", ref, commit, old)
    assert gs("show", sid, "--json").json()["session"]["entries"] == 3
    assert gs("list", "--json").json()[0]["entries"] == 3
    gs("record", "--role", "user", "more")
    assert gs("list", "--json").json()[0]["entries"] == 4


def test_log_updates_keep_a_reflog(repo: Path, gs) -> None:
    sid = gs("new", "Reflogged", "--json").json()["id"]
    gs("record", "--role", "user", "one")
    gs("record", "--role", "user", "two")
    reflog = git(repo, "reflog", "show", "--format=%gs", f"refs/sessions/{sid}").splitlines()
    assert reflog == ["gitsess: append 1 entry", "gitsess: append 1 entry", "gitsess: create"]
