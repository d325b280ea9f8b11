"""`gitsess fork`: a new session sharing the log's history up to the fork point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import git, log_lines, meta


def commit_file(repo: Path, name: str) -> str:
    (repo / name).write_text(name + "\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def worked(repo: Path, gs) -> dict[str, str]:
    """A session with three turns, a code commit between each."""
    sid = gs("new", "Dark mode", "--json").json()["id"]
    ids = {"session": sid}
    for turn in ("one", "two", "three"):
        ids[f"head_{turn}"] = commit_file(repo, f"{turn}.txt")
        gs(
            "record",
            "--jsonl",
            "-",
            stdin=json.dumps(
                {"id": f"u-{turn}", "type": "message", "role": "user", "content": turn}
            ),
        )
    return ids


def test_fork_at_last_entry_shares_history_and_branch_tip(
    repo: Path, gs, worked: dict[str, str]
) -> None:
    source = worked["session"]
    source_log = git(repo, "rev-parse", f"refs/sessions/{source}")
    source_branch = meta(repo, source)["branch"]
    source_tip = git(repo, "rev-parse", source_branch)
    result = gs("fork", source, "--json")
    assert result.code == 0, result.err
    fork = result.json()
    assert fork["id"] != source and fork["title"] == "Dark mode (fork)"
    assert fork["parent"] == {"session": source, "entry": "u-three"}
    assert fork["entries"] == 3 and fork["current"] is True
    assert git(repo, "symbolic-ref", "--short", "HEAD") == fork["branch"]
    assert git(repo, "rev-parse", "HEAD") == source_tip
    # The fork's first log commit has the source's log commit as parent: git shares the objects.
    assert git(repo, "rev-parse", f"refs/sessions/{fork['id']}^") == source_log
    assert git(repo, "rev-parse", f"refs/sessions/{fork['id']}:log/00000000.jsonl") == git(
        repo, "rev-parse", f"refs/sessions/{source}:log/00000000.jsonl"
    )
    # The source is untouched.
    assert git(repo, "rev-parse", f"refs/sessions/{source}") == source_log
    assert git(repo, "rev-parse", source_branch) == source_tip


def test_fork_at_an_entry_starts_at_its_code_commit(repo: Path, gs, worked: dict[str, str]) -> None:
    fork = gs("fork", worked["session"], "--at", "u-two", "--title", "Another way", "--json").json()
    assert fork["title"] == "Another way"
    assert [e["id"] for e in log_lines(repo, fork["id"])] == ["u-one", "u-two"]
    assert git(repo, "rev-parse", "HEAD") == worked["head_two"]
    assert fork["base"] == worked["head_two"]
    # Its log's parent is the source's log commit where u-two was appended.
    parent = git(repo, "rev-parse", f"refs/sessions/{fork['id']}^")
    assert git(repo, "log", "-1", "--format=%s", parent) == "append 1 entry"
    assert len(git(repo, "cat-file", "blob", f"{parent}:log/00000000.jsonl").splitlines()) == 2
    # Both go on independently.
    gs("record", "--role", "user", "in the fork")
    assert len(log_lines(repo, fork["id"])) == 3
    assert len(log_lines(repo, worked["session"])) == 3


def test_fork_at_an_entry_whose_head_is_unknown_uses_the_source_branch(repo: Path, gs) -> None:
    sid = gs("new", "No heads", "--json").json()["id"]
    # As after importing a transcript made in another clone: the commit is not here.
    gs(
        "record",
        "--jsonl",
        "-",
        stdin='{"id":"a","type":"event","name":"x","head":"' + "1" * 40 + '"}',
    )
    tip = commit_file(repo, "later.txt")
    fork = gs("fork", sid, "--at", "a", "--no-checkout", "--json").json()
    assert fork["current"] is False
    assert git(repo, "rev-parse", fork["branch"]) == tip


def test_fork_of_an_empty_session(repo: Path, gs) -> None:
    sid = gs("new", "Empty", "--json").json()["id"]
    fork = gs("fork", sid, "--json").json()
    assert fork["entries"] == 0 and fork["parent"] == {"session": sid, "entry": None}


def test_fork_of_a_fork_across_segments(repo: Path, gs) -> None:
    sid = gs("new", "Long", "--json").json()["id"]
    batch = "".join(
        json.dumps({"id": f"e{i}", "type": "event", "name": "t"}) + "\n" for i in range(1500)
    )
    gs("record", "--jsonl", "-", stdin=batch)
    first = gs("fork", sid, "--at", "e1200", "--json").json()
    assert first["entries"] == 1201
    second = gs("fork", first["id"], "--at", "e5", "--json").json()
    assert [e["id"] for e in log_lines(repo, second["id"])] == [f"e{i}" for i in range(6)]
    # The full first segment is shared, not copied.
    assert git(repo, "rev-parse", f"refs/sessions/{first['id']}:log/00000000.jsonl") == git(
        repo, "rev-parse", f"refs/sessions/{sid}:log/00000000.jsonl"
    )


def test_fork_at_unknown_entry_is_bad_input(repo: Path, gs, worked: dict[str, str]) -> None:
    before = git(repo, "for-each-ref")
    result = gs("fork", worked["session"], "--at", "nope")
    assert result.code == 2 and "no entry 'nope'" in result.err
    assert git(repo, "for-each-ref") == before


def test_a_fork_of_a_fork_with_nothing_new_yet(repo: Path) -> None:
    """The fork's log history holds its source's commits (session.json naming the
    source): forking the fork at once must not take them for a damaged log."""
    from .conftest import run_cli

    first = run_cli(repo, "new", "first", "--no-checkout", "--json")
    sid = first.json()["id"]
    assert run_cli(repo, "record", sid, "--role", "user", "hi").code == 0
    fork = run_cli(repo, "fork", sid, "--no-checkout", "--json")
    assert fork.code == 0, fork.err
    again = run_cli(repo, "fork", fork.json()["id"], "--no-checkout", "--json")
    assert again.code == 0, again.err
    assert again.json()["entries"] == 1
    assert again.json()["parent"]["session"] == fork.json()["id"]


def _without_ids(text: str) -> str:
    """Output with session ids and the branch slugs' ids blanked, to compare two routes."""
    import re

    return re.sub(r"\b[0-9a-hjkmnp-tv-z]{10}\b", "ID", text)


def test_the_quick_route_and_click_start_sessions_alike(repo: Path) -> None:
    """`new` and `fork` in their plain forms are answered without click (quick.py); the
    `--opt=value` spelling goes through click: the same output, errors and exit codes."""
    from .conftest import run_cli

    source = json.loads(run_cli(repo, "new", "Source", "--no-checkout", "--json").out)["id"]
    run_cli(repo, "record", source, "--role", "user", "hello")
    pairs = [
        (["new", "Plain", "--no-checkout"], ["new", "Plain", "--from=HEAD", "--no-checkout"]),
        (["new", "Agent", "--agent", "codex"], ["new", "Agent", "--agent=codex"]),
        (["new", "", "--no-checkout"], ["new", "", "--from=HEAD", "--no-checkout"]),
        (["new", "T", "--from", "nosuch"], ["new", "T", "--from=nosuch"]),
        (["fork", source, "--no-checkout"], ["fork", source, "--at=1", "--no-checkout"]),
        (["fork", source, "--title", "Mine"], ["fork", source, "--title=Mine"]),
        (["fork", "nosuch", "--no-checkout"], ["fork", "nosuch", "--at=1", "--no-checkout"]),
        (["fork", source, "--at", "9"], ["fork", source, "--at=9"]),
        (["fork", "--no-checkout"], ["fork", "--at=1", "--no-checkout"]),  # no current one
    ]
    for quick, full in pairs:
        git(repo, "checkout", "-q", "main")
        one = run_cli(repo, *quick)
        git(repo, "checkout", "-q", "main")
        other = run_cli(repo, *full)
        seen = [(r.code, _without_ids(r.out), _without_ids(r.err)) for r in (one, other)]
        assert seen[0] == seen[1], (quick, seen)
    titles = sorted(m["title"] for m in json.loads(run_cli(repo, "list", "--json").out))
    assert titles == sorted(
        ["Source", "Plain", "Plain", "Agent", "Agent"] + ["Source (fork)"] * 2 + ["Mine"] * 2
    )
    for made in json.loads(run_cli(repo, "list", "--json").out):
        if made["title"] == "Agent":
            assert meta(repo, made["id"])["agent"] == "codex"
