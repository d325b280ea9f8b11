"""`gitsess search`: what a user finds, how it is shown, and what a hostile log cannot do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import git, gitsess_exe, run_cli
from .test_terminal import assert_inert, at_terminal, forge, in_pipe


def new(repo: Path, title: str, *args: str) -> str:
    result = run_cli(repo, "new", title, "--no-checkout", "--json", *args)
    assert result.code == 0, result.err
    return str(result.json()["id"])


def record(repo: Path, sid: str, *entries: dict[str, Any]) -> None:
    lines = "".join(json.dumps(entry) + "\n" for entry in entries)
    result = run_cli(repo, "record", sid, "--jsonl", "-", stdin=lines.encode())
    assert result.code == 0, result.err


def hits(repo: Path, *args: str) -> list[dict[str, Any]]:
    result = run_cli(repo, "search", *args, "--json")
    assert result.code in (0, 1), result.err
    found: list[dict[str, Any]] = json.loads(result.out)
    return found


def where(found: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(hit["session"], hit["entry"]) for hit in found}


@pytest.fixture
def sessions(repo: Path) -> dict[str, str]:
    """Two sessions whose every kind of entry holds words to find."""
    login = new(repo, "Fix the login bug")
    record(
        repo,
        login,
        {"id": "u1", "type": "message", "role": "user", "content": "The login form fails"},
        {"id": "r1", "type": "reasoning", "content": "Probably the CSRF token expires"},
        {
            "id": "c1",
            "type": "tool_call",
            "name": "Grep",
            "input": {"pattern": "csrf_expiry"},
            "call_id": "k1",
        },
        {
            "id": "t1",
            "type": "tool_result",
            "call_id": "k1",
            "output": "src/auth.py:12: CSRF_EXPIRY = 60",
        },
        {
            "id": "a1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "Raised the expiry to 3600 seconds."}],
        },
    )
    other = new(repo, "Dark mode")
    record(
        repo,
        other,
        {"id": "u1", "type": "message", "role": "user", "content": 'Say "hello" to Élan\\path'},
        {"id": "a1", "type": "message", "role": "assistant", "content": "line one\nfix two"},
    )
    return {"login": login, "other": other}


def test_finds_every_kind_of_text_case_insensitively(repo: Path, sessions: dict[str, str]) -> None:
    login = sessions["login"]
    assert where(hits(repo, "csrf")) == {(login, "r1"), (login, "c1"), (login, "t1")}
    assert where(hits(repo, "EXPIRY")) == {
        (login, "c1"),
        (login, "t1"),
        (login, "a1"),
    }
    found = hits(repo, "login")
    assert [(h["type"], h["entry"]) for h in found] == [("title", None), ("message", "u1")]
    first = found[1]
    assert first["snippet"] == "The login form fails"
    assert first["snippet"][slice(*first["match"])] == "login"
    assert set(first) >= {"session", "entry", "type", "ts", "snippet"}
    assert first["role"] == "user" and first["title"] == "Fix the login bug"


def test_case_sensitive_quotes_backslashes_and_accents(
    repo: Path, sessions: dict[str, str]
) -> None:
    other = sessions["other"]
    assert where(hits(repo, "CSRF", "--case-sensitive")) == {
        (sessions["login"], "t1"),
        (sessions["login"], "r1"),
    }
    assert where(hits(repo, 'say "HELLO"')) == {(other, "u1")}
    assert where(hits(repo, "élan\\PATH")) == {(other, "u1")}
    assert where(hits(repo, "ÉLAN", "-s")) == set()


def test_ids_keys_and_types_are_not_text(repo: Path, sessions: dict[str, str]) -> None:
    """A hit is in what was said or done, not in the JSON around it."""
    assert hits(repo, "tool_result") == []
    assert hits(repo, "role") == []
    assert hits(repo, sessions["login"]) == []
    assert hits(repo, "k1") == []  # a call_id
    result = run_cli(repo, "search", "nowhere to be found")
    assert (result.code, result.out) == (1, "")


def test_regex_anchors_at_lines_and_needs_no_literal(repo: Path, sessions: dict[str, str]) -> None:
    other, login = sessions["other"], sessions["login"]
    assert where(hits(repo, "-E", "^fix")) == {(other, "a1"), (login, None)}
    assert where(hits(repo, "--regex", r"\d{4}")) == {(login, "a1")}
    assert where(hits(repo, "--regex", "hello|csrf_exp")) == {
        (other, "u1"),
        (login, "c1"),
        (login, "t1"),
    }
    bad = run_cli(repo, "search", "-E", "(unclosed")
    assert bad.code == 2 and bad.err.startswith("gitsess: not a valid regular expression")
    assert "Traceback" not in bad.err


def test_filters(repo: Path, sessions: dict[str, str]) -> None:
    login, other = sessions["login"], sessions["other"]
    assert where(hits(repo, "csrf", "--type", "tool_call", "--type", "reasoning")) == {
        (login, "c1"),
        (login, "r1"),
    }
    assert where(hits(repo, "e", "--type", "user", "--session", "Dark mode")) == {(other, "u1")}
    assert where(hits(repo, "login", "--type", "title")) == {(login, None)}
    record(
        repo,
        other,
        {
            "id": "old",
            "ts": "2020-01-02T00:00:00Z",
            "type": "message",
            "role": "user",
            "content": "ancient expiry",
        },
    )
    assert (other, "old") in where(hits(repo, "expiry"))
    assert (other, "old") not in where(hits(repo, "expiry", "--since", "2021-01-01"))
    assert (other, "old") not in where(hits(repo, "expiry", "--since", "3 days ago"))
    assert (other, "old") in where(hits(repo, "expiry", "--since", "2019-12-31"))
    assert where(hits(repo, "expiry", "--author", "nobody")) == set()
    assert len(hits(repo, "expiry", "--author", "ADA@example")) == 4
    for args in (["--type", "nope"], ["--since", "last blue moon"], ["--session", "zzzzzz"]):
        bad = run_cli(repo, "search", "x", *args)
        assert bad.code == 2 and len(bad.err.splitlines()) == 1, (args, bad.err)
    assert run_cli(repo, "search", "").code == 2


def test_archived_sessions_need_all(repo: Path, sessions: dict[str, str]) -> None:
    assert run_cli(repo, "archive", sessions["other"]).code == 0
    assert hits(repo, "hello") == []
    assert where(hits(repo, "hello", "--all")) == {(sessions["other"], "u1")}
    assert where(hits(repo, "hello", "--session", sessions["other"])) == {(sessions["other"], "u1")}


def test_most_recent_session_first(repo: Path, sessions: dict[str, str]) -> None:
    time.sleep(1.1)  # log commits' times are in seconds: the next one is later
    record(repo, sessions["login"], {"type": "message", "role": "user", "content": "two"})
    found = hits(repo, "e")
    order = list(dict.fromkeys(hit["session"] for hit in found))
    assert order == [sessions["login"], sessions["other"]]


def test_pipe_gives_one_line_a_hit(repo: Path, sessions: dict[str, str]) -> None:
    result = run_cli(repo, "search", "expiry")
    lines = result.out.splitlines()
    assert len(lines) == 3 and all(line.count("\t") == 5 for line in lines)
    session, entry, label, _ts, title, snippet = lines[-1].split("\t")
    assert (session, entry, label, title) == (
        sessions["login"],
        "a1",
        "assistant",
        "Fix the login bug",
    )
    assert snippet == "Raised the expiry to 3600 seconds."
    # a multi-line entry stays on one line
    line = run_cli(repo, "search", "fix two").out
    assert line.count("\n") == 1 and line.rstrip().endswith("line one fix two")


def test_terminal_at_40_columns(repo: Path, sessions: dict[str, str]) -> None:
    long = "padding words " * 20 + "needle in the middle " + "more words " * 20
    record(
        repo, sessions["other"], {"id": "long", "type": "message", "role": "user", "content": long}
    )
    screen = at_terminal(repo, ["search", "needle"], columns=40)
    plain = re.sub("\x1b\\[[0-9;]*m", "", screen)
    lines = [line for line in plain.replace("\r\n", "\n").split("\n") if line]
    assert all(len(line) <= 40 for line in lines), lines
    assert "Dark mode" in plain and "needle" in plain and "long" in plain


def test_a_hostile_log_is_data(repo: Path) -> None:
    """Escape codes in what matches are made visible; a line nested 200,000 deep, or not
    JSON at all, neither crashes the search nor hides the other hits."""
    sid = new(repo, "hostile")
    deep = (
        '{"id":"deep","ts":"2026-01-01T00:00:00Z","type":"message","content":'
        + "[" * 200_000
        + '"needle"'
        + "]" * 200_000
        + "}"
    )
    forge(
        repo,
        sid,
        {},
        [
            {"type": "message", "role": "user", "content": "needle \x1b]0;pwned\x07 \x1b[2J end"},
        ],
    )
    ref = f"refs/sessions/{sid}"
    # one more log commit whose segment holds a deep line and a line that is not JSON
    old_log = git(repo, "cat-file", "-p", f"{ref}:log/00000000.jsonl")
    blob = git(
        repo, "hash-object", "-w", "--stdin", input=old_log + "\n" + deep + "\nneedle, not json\n"
    )
    tree = git(repo, "mktree", input=f"100644 blob {blob}\t00000000.jsonl\n")
    meta = git(repo, "rev-parse", f"{ref}:session.json")
    root = git(repo, "mktree", input=f"100644 blob {meta}\tsession.json\n040000 tree {tree}\tlog\n")
    tip = git(repo, "commit-tree", root, "-p", ref, input=f"append\n\nSession: {sid}\n")
    git(repo, "update-ref", ref, tip)
    result = run_cli(repo, "search", "needle", "--json")
    assert result.code == 0, result.err
    assert len(json.loads(result.out)) >= 1
    for output in (in_pipe(repo, ["search", "needle"]), at_terminal(repo, ["search", "needle"])):
        assert "Traceback" not in output
        assert_inert(output, "search")
    assert "end" in in_pipe(repo, ["search", "needle"])


def test_an_unreadable_session_is_skipped_with_a_warning(
    repo: Path, sessions: dict[str, str]
) -> None:
    broken = new(repo, "broken")
    record(repo, broken, {"type": "message", "role": "user", "content": "expiry lost"})
    segment = git(repo, "rev-parse", f"refs/sessions/{broken}:log/00000000.jsonl")
    path = repo / ".git" / "objects" / segment[:2] / segment[2:]
    path.chmod(0o644)
    path.unlink()
    result = run_cli(repo, "search", "expiry", "--json")
    assert result.code == 0
    assert {hit["session"] for hit in json.loads(result.out)} == {sessions["login"]}
    assert f"not searched: session {broken} is unreadable" in result.err
    git(repo, "update-ref", "-d", f"refs/sessions/{broken}")  # leave the repository fsck-clean


def test_the_quick_route_and_click_print_the_same(repo: Path, sessions: dict[str, str]) -> None:
    """`search TEXT` into a pipe is answered without click (quick.py); any other form by the
    full command line: the same hits, the same lines, the same exit codes."""
    for args in (["expiry"], ["-E", "^fix", "--json"], ["CSRF", "-s"], ["zzz-none"]):
        quick = run_cli(repo, "search", *args)
        full = run_cli(repo, "search", *args, "--since", "2000-01-01")
        assert (quick.code, quick.out, quick.err) == (full.code, full.out, full.err), args
    assert run_cli(repo, "search", "zzz-none").code == 1


def test_a_plain_git_fetch_is_merged_before_the_search(repo: Path, tmp_path: Path) -> None:
    """The quick route has git list and grep the logs while gitsess opens the repository;
    when opening merges what a plain `git fetch` brought, that early listing is stale and
    the search must use the merged logs instead."""
    served = tmp_path / "served.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(served))
    git(repo, "remote", "add", "origin", str(served))
    shared = new(repo, "Shared work")
    record(repo, shared, {"type": "message", "role": "user", "content": "an early flamingo"})
    assert run_cli(repo, "push", "origin", shared).code == 0
    bob = tmp_path / "bob"
    git(tmp_path, "clone", "-q", str(served), str(bob))
    assert run_cli(bob, "remote", "setup").code == 0
    mine = new(bob, "Bob's own")
    record(bob, mine, {"type": "message", "role": "user", "content": "a flamingo of bob's"})
    git(bob, "fetch", "-q")
    record(repo, shared, {"type": "message", "role": "user", "content": "a late flamingo"})
    assert run_cli(repo, "push", "origin", shared).code == 0
    git(bob, "fetch", "-q")  # nothing of this is in bob's refs/sessions/ yet
    result = run_cli(bob, "search", "flamingo")  # into a pipe: the quick route
    assert result.code == 0, result.err
    snippets = [line.split("\t")[-1] for line in result.out.splitlines()]
    assert sorted(snippets) == ["a flamingo of bob's", "a late flamingo", "an early flamingo"]


def test_from_a_subdirectory_with_c_and_outside_a_repository(
    repo: Path, sessions: dict[str, str], tmp_path: Path
) -> None:
    (repo / "src").mkdir()
    inside = run_cli(repo / "src", "search", "expiry")
    assert inside.code == 0 and sessions["login"] in inside.out
    assert run_cli(tmp_path, "-C", str(repo / "src"), "search", "expiry").out == inside.out
    literal = subprocess.run(
        [gitsess_exe(), "search", "expiry"],
        cwd=repo / "src",
        env={**os.environ, "GIT_LITERAL_PATHSPECS": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert literal.stdout == inside.out
    outside = tmp_path / "plain"
    outside.mkdir()
    for where, args in ((outside, ()), (tmp_path, ("-C", str(tmp_path / "missing")))):
        result = run_cli(where, *args, "search", "expiry")
        assert result.code == 2 and len(result.err.splitlines()) == 1, result.err
        assert "Traceback" not in result.err and result.out == ""


def test_a_reader_that_stops_early_ends_the_search_quietly(repo: Path) -> None:
    """`gitsess search x | head -1` over many hits: no traceback, no git left running."""
    sid = new(repo, "Many hits")
    record(
        repo,
        sid,
        *({"type": "message", "role": "user", "content": f"kiwi {n}"} for n in range(3000)),
    )
    proc = subprocess.run(
        f"'{gitsess_exe()}' search kiwi | head -1; echo done",
        shell=True,
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and "kiwi" in lines[0] and lines[1] == "done"
    assert "Traceback" not in proc.stderr
    left = subprocess.run(["pgrep", "-f", "grep .*kiwi"], capture_output=True, text=True)
    assert left.stdout == ""
