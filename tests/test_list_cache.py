"""The listing cache made from nothing, and `list`'s table made from it.

A cold listing (no .git/gitsess/listing: the first command after an upgrade) reads every
session in one `for-each-ref | cat-file` stream (storage/listread.py); the table of every
session is laid out from the cache's names (listtable.py). Both must show what the
careful way shows, for whatever a teammate's fetched session.json holds.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from gitsess.render.terminal import session_lines

from .conftest import git, run_cli

OLD = "2025-01-0{}T1{}:3{}:0{}.000Z"  # long ago: the table shows it as a date, not "ago"


def blob(repo: Path, data: bytes) -> str:
    return git(repo, "hash-object", "-w", "--stdin", input=data.decode("utf-8", "surrogateescape"))


def forge(repo: Path, sid: str, meta: bytes, entries: int, trailer: bool = True) -> str:
    """A log commit written by hand (as a teammate's fetched one can be): ``entries``
    entries; ``trailer`` False: a log from before the Entries trailer existed."""
    lines = "".join(
        json.dumps({"id": f"e{n}", "type": "message", "role": "user", "content": f"m{n}"}) + "\n"
        for n in range(entries)
    )
    root = f"100644 blob {blob(repo, meta)}\tsession.json\n"
    if entries:
        log = git(
            repo, "mktree", input=f"100644 blob {blob(repo, lines.encode())}\t00000000.jsonl\n"
        )
        root += f"040000 tree {log}\tlog\n"
    tree = git(repo, "mktree", input=root)
    message = f"append\n\nSession: {sid}\nEntries: {entries}" if trailer else "hand-made"
    commit = git(repo, "commit-tree", tree, "-m", message)
    git(repo, "update-ref", f"refs/sessions/{sid}", commit)
    return commit


def meta(sid: str, n: int, **fields: Any) -> dict[str, Any]:
    stamp = OLD.format(n % 9 + 1, n % 10, n % 6, n % 10)
    return {"id": sid, "title": f"Session {n}", "branch": f"session/s-{sid}", "created": stamp,
            "updated": stamp, "status": "active", "parent": None, **fields}  # fmt: skip


def sessions(repo: Path) -> dict[str, str]:
    """Sessions of every kind a fetch can bring: {name: id}."""
    made = {}
    kinds: dict[str, dict[str, Any]] = {
        "plain": {},
        "escapes": {"title": "\x1b[31mred\x1b[0m \u202eevil\u202c and a\ttab"},
        "not a string": {"title": 5, "branch": None, "updated": "yesterday"},
        "wide": {"title": "日本語のタイトル", "tags": ["é"], "ratio": 1.5},
        "archived": {"status": "archived"},
        "ignored branch": {"branch": "main"},
        "deep": {"extra": json.loads("[" * 300 + "]" * 300)},
        "no title": {"title": None},
    }
    for n, (name, fields) in enumerate(kinds.items()):
        sid = f"cafe{n:06d}"
        made[name] = sid
        forge(repo, sid, json.dumps(meta(sid, n, **fields), indent=2).encode(), n % 3)
    fork = made["fork"] = "cafe000100"
    forge(repo, fork, json.dumps(meta(fork, 42, parent={"session": made["plain"]})).encode(), 1)
    old = made["old log"] = "cafe000200"
    forge(repo, old, json.dumps(meta(old, 7)).encode(), 3, trailer=False)
    # Written as a person would not: numbers and escapes as written, a key twice.
    odd = made["odd"] = "cafe000300"
    text = '{"id": "%s", "title": "first", "title": "caf\\u00e9 1.50", "n": 1.50, "updated": "%s"}'
    forge(repo, odd, (text % (odd, OLD.format(3, 3, 3, 3))).encode(), 2)
    return made


def without_cache(repo: Path) -> None:
    (repo / ".git" / "gitsess" / "listing").unlink(missing_ok=True)


def test_the_first_listing_shows_what_the_next_ones_do(repo: Path) -> None:
    made = sessions(repo)
    without_cache(repo)
    cold = run_cli(repo, "list", "--json", "--all")
    assert cold.code == 0
    listed = {row["id"]: row for row in json.loads(cold.out)}
    assert listed[made["old log"]]["entries"] == 3  # no trailer: counted
    assert listed[made["fork"]]["entries"] == 1 and listed[made["wide"]]["entries"] == 0
    assert listed[made["odd"]]["title"] == "café 1.50"
    assert listed[made["not a string"]]["title"] == 5
    assert len(listed) == len(made)  # every session, none twice
    assert "names a branch gitsess ignores" in cold.err
    # The same listing made a few sessions at a time (the cache brought up to date).
    refs = {sid: git(repo, "rev-parse", f"refs/sessions/{sid}") for sid in made.values()}
    for sid in list(refs)[::2]:
        git(repo, "update-ref", "-d", f"refs/sessions/{sid}")
    without_cache(repo)
    assert run_cli(repo, "list", "--json").code == 0
    for sid, oid in refs.items():
        git(repo, "update-ref", f"refs/sessions/{sid}", oid)
    again = run_cli(repo, "list", "--json", "--all")
    assert json.loads(again.out) == json.loads(cold.out) and again.err == cold.err
    # And warm, from the file.
    assert run_cli(repo, "list", "--json", "--all").out == again.out


def test_the_first_listing_of_sessions_as_gitsess_writes_them_is_as_before(repo: Path) -> None:
    """Summaries are written as json.dumps writes them: byte for byte the same output
    whether the cache was made from nothing or a session at a time."""
    for n in range(5):
        assert run_cli(repo, "new", f"Session {n}", "--no-checkout").code == 0
    warm = run_cli(repo, "list", "--json").out
    without_cache(repo)
    assert run_cli(repo, "list", "--json").out == warm
    assert json.dumps(json.loads(warm), ensure_ascii=False) + "\n" == warm


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kathmandu", "America/St_Johns"])
def test_the_table_of_every_session_is_the_one_laid_out_from_summaries(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    """`list --all` into a pipe, made from the cache's names, is line for line the table
    laid out from each session's summary (as it was made before): escape codes shown
    as escapes, marks, the archived suffix, forks, worktrees, local times."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    made = sessions(repo)
    assert run_cli(repo, "pin", made["deep"]).code == 0
    git(repo, "branch", f"session/s-{made['wide']}")
    elsewhere = tmp_path / "elsewhere"
    git(repo, "worktree", "add", "-q", str(elsewhere), f"session/s-{made['wide']}")
    git(repo, "checkout", "-q", "-b", f"session/s-{made['escapes']}")

    def expected_rows() -> list[dict[str, Any]]:
        """The summaries, marked as the table marks them: pinned first, the worktree."""
        rows = json.loads(run_cli(repo, "list", "--json", "--all").out)
        for row in rows:
            row["pinned"] = row["id"] == made["deep"]
            if row["id"] == made["wide"]:
                row["worktree"] = str(elsewhere)
        rows.sort(key=lambda r: not r["pinned"])
        return rows

    for listing in ("fresh", "cached"):
        if listing == "fresh":
            without_cache(repo)
        table = run_cli(repo, "list", "--all")
        assert table.code == 0
        rows = expected_rows()
        assert table.out == session_lines(rows)
        lines = table.out.splitlines()
        assert "\x1b" not in table.out and "\\u001b[31mred" in table.out
        assert lines[1].startswith("^ ") and made["deep"] in lines[1]
        assert any(line.startswith("* ") and made["escapes"] in line for line in lines)
        assert any(line.startswith("+ ") and str(elsewhere) in line for line in lines)
        assert any("Session 4 (archived)" in line for line in lines)
    # In another zone, the times the cache holds are not used; once the cache is brought
    # up to date (a session recorded), they are made again in that zone.
    for step in ("other zone", "brought up to date"):
        monkeypatch.setenv("TZ", "Pacific/Chatham" if zone != "Pacific/Chatham" else "UTC")
        time.tzset()
        if step == "brought up to date":
            assert run_cli(repo, "record", made["plain"], "--role", "user", "hi").code == 0
        table = run_cli(repo, "list", "--all")
        rows = expected_rows()
        assert table.out == session_lines(rows), step
    # Without --all the archived session is left out; -n cuts the rows (the rest on stderr).
    assert "(archived)" not in run_cli(repo, "list", "-n", "100").out
    some = run_cli(repo, "list", "-n", "3")
    assert len(some.out.splitlines()) == 4 and "and 7 more sessions" in some.err
    monkeypatch.delenv("TZ")
    time.tzset()


def test_a_table_of_many_sessions_at_a_terminal_width_is_the_same(repo: Path) -> None:
    """The lines of a long table are the same whichever way they are made: a new session
    (its time said in words) among old ones."""
    for n in range(3):
        forge(repo, f"many{n:06d}", json.dumps(meta(f"many{n:06d}", n)).encode(), n)
    assert run_cli(repo, "new", "Just made", "--no-checkout").code == 0
    table = run_cli(repo, "list", "--all").out.splitlines()
    assert table[1].split()[-3:-1] == ["just", "now"] or "minute" in table[1]
    assert [line.split()[0] for line in table[2:]] == [f"many{n:06d}" for n in (2, 1, 0)]


def test_a_cold_listing_in_a_read_only_repository_still_lists(repo: Path) -> None:
    for n in range(3):
        forge(repo, f"rd{n:08d}", json.dumps(meta(f"rd{n:08d}", n)).encode(), 1)
    without_cache(repo)
    state = repo / ".git" / "gitsess"
    state.mkdir(exist_ok=True)
    os.chmod(state, 0o555)
    try:
        listed = run_cli(repo, "list", "--json")
        table = run_cli(repo, "list", "--all")
    finally:
        os.chmod(state, 0o755)
    if os.geteuid() == 0:  # root writes anyway: nothing read-only to see
        assert listed.code == 0
    assert listed.code == 0 and len(json.loads(listed.out)) == 3
    assert table.code == 0 and len(table.out.splitlines()) == 4


def test_the_table_into_a_pipe_is_the_full_clis(repo: Path) -> None:
    """`list --all` into a pipe is answered without click and rich (quick.py): the same
    lines and warnings as the full CLI (`--debug` goes through click), and the full CLI's
    answer where there is more to say (no sessions yet, a session read afresh)."""
    empty = run_cli(repo, "list", "--all")
    assert empty.out == run_cli(repo, "--debug", "list", "--all").out
    assert empty.out.startswith("No sessions yet")
    made = sessions(repo)
    assert run_cli(repo, "archive", made["plain"]).code == 0
    fast, full = run_cli(repo, "list", "--all"), run_cli(repo, "--debug", "list", "--all")
    assert fast.code == full.code == 0
    assert fast.out == full.out and fast.err == full.err
    assert "names a branch gitsess ignores" in fast.err and "(archived)" in fast.out
    tree = git(repo, "mktree", input="")
    git(repo, "update-ref", "refs/sessions/badd000006", git(repo, "commit-tree", tree, "-m", "e"))
    broken = run_cli(repo, "list", "--all")
    assert broken.code == 0 and len(broken.out.splitlines()) == 1 + len(made)
    assert "session badd000006 is unreadable" in broken.err


def test_the_page_into_a_pipe_is_the_full_clis(repo: Path) -> None:
    """`list`, `list -n N` and `list --all -n N` into a pipe are answered without click and
    rich too: the same lines, the same "... and N more" line on stderr, the same refusal
    of a bad gitsess.listCount."""
    made = sessions(repo)
    assert run_cli(repo, "archive", made["plain"]).code == 0
    assert run_cli(repo, "pin", made["plain"]).code == 0
    git(repo, "config", "gitsess.listCount", "2")
    forms = [["list"], ["list", "-n", "1"], ["list", "--all", "-n", "3"], ["list", "-n", "0"]]
    for form in forms:
        fast, full = run_cli(repo, *form), run_cli(repo, "--debug", *form)
        assert (fast.code, fast.out, fast.err) == (full.code, full.out, full.err), form
    page = run_cli(repo, "list")
    assert len(page.out.splitlines()) == 1 + 2 and "more sessions" in page.err  # heading, 2
    assert run_cli(repo, "list", "-n", "0").code == 2
    git(repo, "config", "gitsess.listCount", "many")
    fast, full = run_cli(repo, "list"), run_cli(repo, "--debug", "list")
    assert fast.code == full.code == 2 and fast.err == full.err
    assert "gitsess.listCount is 'many'" in fast.err
