"""`gitsess pr`, `why` and `log`: the sessions behind commits, with real commits and sessions.

The git hooks are not used here: the links they make are made by hand, as they
would be: commits carry a `Session: <id>` trailer, and `commit` entries go into
the session's log with `gitsess record`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitsess.storage.git import Git

from .conftest import git

# -- helpers ---------------------------------------------------------------------------


def new(gs: Any, title: str, *args: str) -> str:
    result = gs("new", title, *args, "--json")
    assert result.code == 0, result.err
    return str(result.json()["id"])


def record(gs: Any, sid: str, *entries: dict[str, Any]) -> None:
    result = gs("record", sid, "--jsonl", "-", stdin="\n".join(json.dumps(e) for e in entries))
    assert result.code == 0, result.err


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def assistant(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": text, **extra}


def call(name: str, tool_input: Any, call_id: str) -> dict[str, Any]:
    return {"type": "tool_call", "name": name, "input": tool_input, "call_id": call_id}


def result(call_id: str, output: Any, is_error: bool = False) -> dict[str, Any]:
    return {"type": "tool_result", "call_id": call_id, "output": output, "is_error": is_error}


def commit(repo: Path, name: str, text: str, subject: str, *sessions: str) -> str:
    """A real commit; ``sessions`` become `Session:` trailers, as prepare-commit-msg writes them."""
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)
    trailers = ["-m", "\n".join(f"Session: {s}" for s in sessions)] if sessions else []
    git(repo, "commit", "-q", "-m", subject, *trailers)
    return git(repo, "rev-parse", "HEAD")


def proof(repo: Path, sha: str) -> dict[str, Any]:
    """The commit's tree and parents, which the hooks record beside its sha."""
    tree = git(repo, "rev-parse", f"{sha}^{{tree}}")
    parents = git(repo, "rev-list", "--parents", "-n1", sha).split()[1:]
    return {"tree": tree, "parents": parents}


def record_commit(repo: Path, gs: Any, sid: str, sha: str, subject: str, **extra: Any) -> None:
    """What the post-commit hook appends: the sha with the commit's tree and parents."""
    entry = {"type": "commit", "sha": sha, "subject": subject, **proof(repo, sha), **extra}
    record(gs, sid, entry)


def by_sha(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["sha"]: c for c in doc["commits"]}


def git_env(repo: Path, *args: str, **env: str) -> None:
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **env}
    )
    assert proc.returncode == 0, proc.stderr


# -- pr ----------------------------------------------------------------------------------


def test_pr_describes_the_sessions_behind_the_branch(repo: Path, gs: Any) -> None:
    sid = new(gs, "Add dark mode", "--agent", "claude-code")
    long_prompt = "Add a dark mode that follows the system setting. " * 20
    record(
        gs,
        sid,
        user(long_prompt),
        call("Edit", {"file_path": str(repo / "theme.css"), "new_string": "dark"}, "c1"),
        result("c1", "ok"),
        call("Bash", {"command": "pytest"}, "c2"),
        result("c2", "FAILED " + "x" * 9000, is_error=True),
        assistant("Dark mode is in.", model="claude-opus-4"),
    )
    a = commit(repo, "theme.css", "dark\n", "Add dark theme", sid)
    record_commit(repo, gs, sid, a, "Add dark theme")
    record(
        gs,
        sid,
        user("Now a toggle"),
        call("Edit", {"file_path": "src/toggle.js"}, "c3"),
        result("c3", "ok"),
        call("Read", {"path": "`</details><script>x`"}, "c4"),
    )
    b = commit(repo, "src/toggle.js", "toggle\n", "Add toggle", sid)
    record_commit(repo, gs, sid, b, "Add toggle")
    c = commit(repo, "NOTES", "by hand\n", "Update notes")

    shown = gs("pr")
    assert shown.code == 0, shown.err
    md = shown.out
    assert md.startswith("## Agent sessions\n\n2 of 3 commits came from 1 agent session.")
    assert f"### Add dark mode (`{sid}`)" in md
    assert "**Author:** Ada Tester · **Agent:** claude-code · **Models:** `claude-opus-4`" in md
    # Prompts, each cut to a reasonable length.
    first = next(line for line in md.splitlines() if line.startswith("1. "))
    assert first.startswith("1. Add a dark mode that follows the system setting.")
    assert first.endswith("…") and len(first) < 320
    assert "\n2. Now a toggle\n" in md
    # What the agent did, counted from the entries.
    assert (
        "**What the agent did:** 4 tool calls (Edit ×2, Bash ×1, Read ×1), 1 of them failed. "
        "Files named in tool calls: `theme.css`, `src/toggle.js`, "
        "<code>&#96;&#60;/details&#62;&#60;script&#62;x&#96;</code>." in md
    )
    assert f"- ✓ {a[:12]} Add dark theme\n- ✓ {b[:12]} Add toggle" in md
    # The whole conversation, folded; long tool output cut with a note.
    assert "<details><summary>Conversation (12 entries)</summary>" in md
    assert "<script>" not in md.split("<details><summary>Conversation")[0]
    assert "Dark mode is in." in md and "more characters cut" in md and "x" * 9000 not in md
    outside_code = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1$", "", md)
    assert outside_code.count("<details>") == outside_code.count("</details>") == 5
    assert "<script>" not in outside_code
    assert f"### Commits without a session\n\n- {c[:12]} Update notes" in md
    assert "`main..HEAD`" in md

    assert "<details>" not in gs("pr", "--no-conversation").out

    doc = gs("pr", "--json").json()
    assert doc["range"] == "main..HEAD"
    assert [x["sha"] for x in doc["commits"]] == [a, b, c]
    assert by_sha(doc)[a]["sessions"] == [
        {
            "id": sid,
            "verified": True,
            "via": ["log", "trailer"],
            "matched_by": "sha",
            "entry": by_sha(doc)[a]["sessions"][0]["entry"],
            "recorded_sha": None,
        }
    ]
    (item,) = doc["sessions"]
    assert item["session"]["id"] == sid and item["session"]["agent"] == "claude-code"
    assert item["prompts"] == [long_prompt.strip(), "Now a toggle"]
    assert item["tools"] == {"Edit": 2, "Bash": 1, "Read": 1} and item["tool_errors"] == 1
    assert item["files"] == ["theme.css", "src/toggle.js", "`</details><script>x`"]
    assert [(x["sha"], x["subject"], x["verified"]) for x in item["commits"]] == [
        (a, "Add dark theme", True),
        (b, "Add toggle", True),
    ]
    assert len(item["entries"]) == 12 and item["entries"][0]["content"] == long_prompt
    assert doc["without_session"] == [{"sha": c, "subject": "Update notes", "unknown_sessions": []}]
    assert doc["unknown_sessions"] == []


def test_pr_range_defaults_and_errors(repo: Path, gs: Any, tmp_path: Path) -> None:
    sid = new(gs, "Ranged")
    a = commit(repo, "a.txt", "a\n", "Add a", sid)
    record_commit(repo, gs, sid, a, "Add a")
    assert gs("pr", "--json").json()["range"] == "main..HEAD"

    # Pushed with -u: the branch's own copy upstream is not what a pull request goes into.
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "push", "-q", "-u", "origin", "HEAD")
    doc = gs("pr", "--json").json()
    assert doc["range"] == "main..HEAD" and [x["sha"] for x in doc["commits"]] == [a]

    # A branch set to track another branch: that branch is its base.
    git(repo, "branch", "--set-upstream-to=origin/main")
    assert gs("pr", "--json").json()["range"] == "origin/main..HEAD"

    # A single revision is the base; a range is taken as given.
    assert gs("pr", "HEAD~1", "--json").json()["range"] == "HEAD~1..HEAD"
    assert [x["sha"] for x in gs("pr", "main..HEAD", "--json").json()["commits"]] == [a]

    bad = gs("pr", "nope..HEAD")
    assert bad.code == 2 and "not a revision or range" in bad.err
    assert gs("pr", "--", "--all").code == 2

    # Nothing to compare with.
    git(repo, "branch", "--unset-upstream")
    git(repo, "remote", "remove", "origin")
    git(repo, "branch", "-m", "main", "trunk")
    none = gs("pr")
    assert none.code == 2 and "give a RANGE" in none.err
    assert gs("pr", "trunk", "--json").json()["range"] == "trunk..HEAD"

    assert gs("why", "no-such").code == 2
    empty = gs("pr", "HEAD")
    assert empty.code == 0 and empty.out == "No commits in `HEAD..HEAD`.\n"


def test_no_commits_yet(tmp_path: Path, gs: Any) -> None:
    bare = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(bare))
    for args in [("pr",), ("log",), ("why", "HEAD")]:
        failed = gs(*args, cwd=bare)
        assert failed.code == 2, (args, failed.err)
    assert "no commits yet" in gs("pr", cwd=bare).err


def test_rebased_commits_are_found_by_trailer_and_unverified_until_the_log_follows(
    repo: Path, gs: Any
) -> None:
    sid = new(gs, "Parser and printer")
    branch = git(repo, "branch", "--show-current")
    record(gs, sid, user("Write the parser"), call("Write", {"path": "parser.py"}, "p1"))
    a = commit(repo, "parser.py", "parse\n", "Add parser", sid)
    record_commit(repo, gs, sid, a, "Add parser")
    record(
        gs,
        sid,
        user("Now the printer"),
        call("Write", {"path": "printer.py"}, "p2"),
        result("p2", "written"),
        assistant("The printer prints."),
    )
    b = commit(repo, "printer.py", "print\n", "Add printer", sid)
    record_commit(repo, gs, sid, b, "Add printer")

    git(repo, "checkout", "-q", "main")
    commit(repo, "README.md", "moved on\n", "Main moves on")
    git(repo, "checkout", "-q", branch)
    git(repo, "rebase", "-q", "main")
    a2, b2 = git(repo, "rev-list", "--reverse", "main..HEAD").splitlines()
    assert {a2, b2}.isdisjoint({a, b})

    doc = gs("pr", "--json").json()
    (item,) = doc["sessions"]
    assert [
        (x["sha"], x["verified"], x["via"], x["matched_by"], x["recorded_sha"])
        for x in item["commits"]
    ] == [
        (a2, False, ["trailer"], "subject", a),
        (b2, False, ["trailer"], "subject", b),
    ]
    assert doc["without_session"] == []
    md = gs("pr").out
    assert f"- ⚠ **unverified** {a2[:12]} Add parser: its `Session:` trailer names this" in md
    assert f"the log records {b[:12]} with the same subject" in md
    assert "2 links rest only on a `Session:` trailer" in md
    log = gs("log", "main..HEAD").out
    assert f"── Parser and printer  {sid}  ⚠ unverified: its log has {a[:12]} with this" in log

    why = gs("why", "HEAD")
    assert why.code == 0, why.err
    assert f"● {b2[:12]} Add printer" in why.out
    assert "⚠ unverified" in why.out and f"it records {b[:12]} with the same subject" in why.out
    assert "Now the printer" in why.out and "Write the parser" not in why.out

    # What the hooks append: the new commits, and events linking each to the one it replaces.
    record(
        gs,
        sid,
        {"type": "commit", "sha": a2, "subject": "Add parser", **proof(repo, a2)},
        {"type": "commit", "sha": b2, "subject": "Add printer", **proof(repo, b2)},
        {"type": "event", "name": "rewritten", "data": {"from": a, "to": a2, "kind": "rebase"}},
        {"type": "event", "name": "rewritten", "data": {"from": b, "to": b2, "kind": "rebase"}},
    )
    doc = gs("pr", "--json").json()
    assert [(x["verified"], x["via"]) for x in doc["sessions"][0]["commits"]] == [
        (True, ["log", "trailer"]),
        (True, ["log", "trailer"]),
    ]
    assert "unverified" not in gs("pr").out

    # The entries behind a rebased commit are those that led to the original one.
    explained = gs("why", "HEAD", "--json").json()
    (link,) = explained["sessions"]
    assert link["verified"] is True and link["prompt"]["content"] == "Now the printer"
    assert [(e["type"], e.get("sha")) for e in link["entries"]] == [
        ("message", None),
        ("tool_call", None),
        ("tool_result", None),
        ("message", None),
        ("commit", b),
        ("commit", b2),
    ]
    first = gs("why", "HEAD~1", "--json").json()["sessions"][0]
    assert first["prompt"]["content"] == "Write the parser"
    assert [(e["type"], e.get("sha")) for e in first["entries"]] == [
        ("message", None),
        ("tool_call", None),
        ("commit", a),
        ("commit", a2),
    ]
    shown = gs("why", "HEAD").out
    assert "✓ recorded in the session's log" in shown and "Write the parser" not in shown
    assert f"  ● commit {b[:12]} Add printer\n  ● commit {b2[:12]} Add printer" in shown
    assert "rewritten" not in shown


def test_an_amended_commit_keeps_the_work_before_and_after(repo: Path, gs: Any) -> None:
    sid = new(gs, "Amending")
    record(gs, sid, user("Write b"), call("Write", {"path": "b.txt"}, "w1"))
    old = commit(repo, "b.txt", "b\n", "Add b", sid)
    record_commit(repo, gs, sid, old, "Add b")
    record(gs, sid, user("Fix the typo in b"), call("Edit", {"path": "b.txt"}, "w2"))
    (repo / "b.txt").write_text("b fixed\n")
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    amended = git(repo, "rev-parse", "HEAD")
    record_commit(repo, gs, sid, amended, "Add b")
    record(
        gs,
        sid,
        {"type": "event", "name": "rewritten", "data": {"from": old, "to": amended}},
        user("Thanks"),
    )
    link = gs("why", "HEAD", "--json").json()["sessions"][0]
    assert link["prompt"]["content"] == "Write b"
    assert [e.get("content") or e.get("name") or e.get("sha") for e in link["entries"]] == [
        "Write b",
        "Write",
        old,
        "Fix the typo in b",
        "Edit",
        amended,
    ]


def test_forged_and_unknown_trailers_are_never_trusted(repo: Path, gs: Any) -> None:
    honest = new(gs, "Real work")
    record(gs, honest, user("Do the real work"))
    a = commit(repo, "work.txt", "work\n", "Real work", honest)
    record_commit(repo, gs, honest, a, "Real work")
    other = new(gs, "Unrelated", "--no-checkout")
    record(gs, other, user("Something else entirely"))
    forged = commit(repo, "evil.txt", "x\n", "Sneak <script>this</script> in", other)
    ghost = commit(repo, "ghost.txt", "x\n", "From elsewhere", "zzzzzzzzzz")

    doc = gs("pr", "--json").json()
    assert by_sha(doc)[forged]["sessions"] == [
        {
            "id": other,
            "verified": False,
            "via": ["trailer"],
            "matched_by": None,
            "entry": None,
            "recorded_sha": None,
        }
    ]
    assert by_sha(doc)[ghost]["sessions"] == []
    assert by_sha(doc)[ghost]["unknown_sessions"] == ["zzzzzzzzzz"]
    assert doc["unknown_sessions"] == [{"id": "zzzzzzzzzz", "commits": [ghost]}]
    assert doc["without_session"] == [
        {"sha": ghost, "subject": "From elsewhere", "unknown_sessions": ["zzzzzzzzzz"]}
    ]
    assert [s["session"]["id"] for s in doc["sessions"]] == [honest, other]

    md = gs("pr").out
    assert "1 link rests only on a `Session:` trailer that the session's log does not" in md
    assert (
        f"- ⚠ **unverified** {forged[:12]} Sneak &lt;script&gt;this&lt;/script&gt; in: "
        "its `Session:` trailer names this session, but the session's log does not record it" in md
    )
    assert "<script>" not in md
    assert (
        f"- {ghost[:12]} From elsewhere — its `Session:` trailer names `zzzzzzzzzz`, "
        "not in this repository (unknown)" in md
    )

    why = gs("why", forged)
    assert why.code == 0
    assert "⚠ unverified" in why.out and "nothing in its log records this commit" in why.out
    assert "Something else entirely" not in why.out
    link = gs("why", forged, "--json").json()["sessions"][0]
    assert link["verified"] is False and link["entries"] == [] and link["prompt"] is None

    unknown = gs("why", ghost)
    assert unknown.code == 0 and "⚠ unknown" in unknown.out and "zzzzzzzzzz" in unknown.out


def test_a_squash_of_two_sessions_commits_shows_both(repo: Path, gs: Any) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    one = new(gs, "Parser", "--no-checkout")
    two = new(gs, "Printer", "--no-checkout")
    record(gs, one, user("Write the parser"))
    a = commit(repo, "parser.py", "parse\n", "Add parser", one)
    record_commit(repo, gs, one, a, "Add parser")
    record(gs, two, user("Write the printer"))
    b = commit(repo, "printer.py", "print\n", "Add printer", two)
    record_commit(repo, gs, two, b, "Add printer")
    # An interactive rebase squashing the second into the first: each trailer stays in its
    # own paragraph, where git's trailer parser sees only the last one.
    git_env(
        repo,
        "rebase",
        "-q",
        "-i",
        "main",
        GIT_SEQUENCE_EDITOR="sed -i -e '2s/^pick/squash/'",
        GIT_EDITOR="true",
    )
    squashed = git(repo, "rev-parse", "HEAD")
    assert git(repo, "rev-list", "--count", "main..HEAD") == "1"

    doc = gs("pr", "--json").json()
    (only,) = doc["commits"]
    assert only["trailers"] == [one, two]
    assert [(s["id"], s["verified"], s["matched_by"]) for s in only["sessions"]] == [
        (one, False, "subject"),
        (two, False, None),
    ]
    assert [s["session"]["id"] for s in doc["sessions"]] == [one, two]
    md = gs("pr").out
    assert f"### Parser (`{one}`)" in md and f"### Printer (`{two}`)" in md
    assert md.count(f"⚠ **unverified** {squashed[:12]} Add parser") == 2

    # Once post-rewrite records the squash in both logs, both links are verified.
    # (Here in the form of an earlier hook: the commit entry names what it replaced.)
    record_commit(repo, gs, one, squashed, "Add parser", meta={"rewritten_from": a})
    record_commit(repo, gs, two, squashed, "Add parser", meta={"rewritten_from": b})
    links = gs("why", "HEAD", "--json").json()["sessions"]
    assert [(s["session"]["id"], s["verified"]) for s in links] == [(one, True), (two, True)]
    assert [s["prompt"]["content"] for s in links] == ["Write the parser", "Write the printer"]


def test_a_squash_within_one_session_keeps_the_work_of_each_commit(repo: Path, gs: Any) -> None:
    sid = new(gs, "Two steps")
    record(gs, sid, user("Step one"))
    a = commit(repo, "one.txt", "1\n", "Step one", sid)
    record_commit(repo, gs, sid, a, "Step one")
    record(gs, sid, user("Step two"))
    b = commit(repo, "two.txt", "2\n", "Step two", sid)
    record_commit(repo, gs, sid, b, "Step two")
    git(repo, "reset", "-q", "--soft", "main")
    squashed = commit(repo, "two.txt", "2\n", "Both steps", sid)
    record_commit(repo, gs, sid, squashed, "Both steps")
    record(
        gs,
        sid,
        {"type": "event", "name": "rewritten", "data": {"from": a, "to": squashed}},
        {"type": "event", "name": "rewritten", "data": {"from": b, "to": squashed}},
    )
    link = gs("why", "HEAD", "--json").json()["sessions"][0]
    assert link["verified"] is True and link["prompt"]["content"] == "Step one"
    assert [e.get("content") or e.get("sha") for e in link["entries"]] == [
        "Step one",
        a,
        "Step two",
        b,
        squashed,
    ]


def test_a_fork_does_not_claim_the_commits_it_inherited(repo: Path, gs: Any) -> None:
    sid = new(gs, "Original")
    record(gs, sid, user("Start"))
    a = commit(repo, "a.txt", "a\n", "Add a", sid)
    record_commit(repo, gs, sid, a, "Add a")
    fork = gs("fork", sid, "--json").json()["id"]  # checks out the fork's branch, at a
    assert [s["session"]["id"] for s in gs("pr", "--json").json()["sessions"]] == [sid]
    record(gs, fork, user("Try it another way"))
    b = commit(repo, "b.txt", "b\n", "Add b", fork)
    record_commit(repo, gs, fork, b, "Add b")
    doc = gs("pr", "--json").json()
    assert [[s["id"] for s in x["sessions"]] for x in doc["commits"]] == [[sid], [fork]]
    link = gs("why", "HEAD", "--json").json()["sessions"][0]
    assert link["prompt"]["content"] == "Try it another way"


# -- why ----------------------------------------------------------------------------------


def test_why_explains_a_commit_or_a_line(repo: Path, gs: Any) -> None:
    sid = new(gs, "Greeter", "--agent", "codex")
    record(
        gs,
        sid,
        user("Write a greeter"),
        call("apply_patch", {"input": "*** Begin Patch\n*** Add File: hello.py\n+print"}, "c1"),
        result("c1", "Done!"),
        {"type": "event", "name": "token_count", "data": {"n": 1}},
        assistant("hello.py greets."),
    )
    a = commit(repo, "hello.py", "import sys\nprint('hi')\n", "Add greeter", sid)
    record_commit(repo, gs, sid, a, "Add greeter")

    shown = gs("why", "hello.py:2")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == "hello.py:2  print('hi')"
    assert lines[1].startswith(f"● {a[:12]} Add greeter  Ada Tester · ")
    assert f"Greeter  {sid}" in shown.out and "agent codex" in shown.out
    assert "✓ recorded in the session's log" in shown.out
    assert "Write a greeter" in shown.out and "hello.py greets." in shown.out
    assert "  ⚙ apply_patch" in shown.out and "  ↳ Done!" in shown.out
    assert "token_count" not in shown.out  # bookkeeping events are not shown
    assert f"  ● commit {a[:12]} Add greeter" in shown.out

    # FILE:LINE is relative to where gitsess runs; -C moves that.
    (repo / "sub").mkdir()
    doc = gs("why", "../hello.py:1", "--json", cwd=repo / "sub").json()
    assert doc["line"] == {"file": "hello.py", "line": 1, "text": "import sys"}
    assert doc["commit"]["sha"] == a and doc["sessions"][0]["session"]["id"] == sid
    assert doc["sessions"][0]["prompt"]["content"] == "Write a greeter"
    assert gs("pr", "--json").json()["sessions"][0]["files"] == ["hello.py"]

    (repo / "hello.py").write_text("import sys\nprint('hi')\nprint('more')\n")
    uncommitted = gs("why", "hello.py:3")
    assert uncommitted.code == 2 and "not committed yet" in uncommitted.err
    assert gs("why", "hello.py:99").code == 2
    missing = gs("why", "no-such-commit")
    assert missing.code == 2 and "unknown revision" in missing.err

    plain = gs("why", "main")
    assert plain.code == 0 and "No session knows this commit." in plain.out
    assert gs("why", "main", "--json").json()["sessions"] == []


def test_why_shows_the_turn_that_made_the_commit_and_says_what_it_left_out(
    repo: Path, gs: Any
) -> None:
    sid = new(gs, "Parser", "--agent", "claude-code")
    reminder = "<system-reminder>\nThe todo list changed.\n</system-reminder>"
    record(
        gs,
        sid,
        user("Plan the parser first"),
        assistant("A recursive descent parser, then."),
        user("Write the parser"),
        call("Write", {"file_path": "parse.py"}, "c1"),
        result("c1", "written"),
        # Claude Code sends its reminders under the user's role, untagged: not a new turn.
        user(reminder),
        assistant("parse.py is written."),
    )
    a = commit(repo, "parse.py", "def parse(): ...\n", "Add parser", sid)
    record_commit(repo, gs, sid, a, "Add parser")
    record(gs, sid, assistant("And its tests."))
    b = commit(repo, "test_parse.py", "def test(): ...\n", "Test parser", sid)
    record_commit(repo, gs, sid, b, "Test parser")

    shown = gs("why", a[:12])
    assert shown.code == 0, shown.err
    assert "Write the parser" in shown.out and "parse.py is written." in shown.out
    assert "Plan the parser first" not in shown.out
    assert "recursive descent" not in shown.out
    assert f"… 2 earlier entries not shown: gitsess why {a[:12]} --full" in shown.out
    assert "· injected: system reminder (" in shown.out and "todo list" not in shown.out

    full = gs("why", a[:12], "--full")
    assert full.code == 0, full.err
    assert "Plan the parser first" in full.out and "recursive descent" in full.out
    assert "The todo list changed." in full.out and "earlier entr" not in full.out

    doc = gs("why", a, "--json").json()["sessions"][0]
    assert doc["earlier"] == 2 and doc["entries"][0]["content"] == "Write the parser"
    assert [e["type"] for e in doc["entries"]][-1] == "commit"
    assert len(gs("why", a, "--full", "--json").json()["sessions"][0]["entries"]) == 8

    # A second commit in the same turn: its work since the first, with the turn's prompt.
    second = gs("why", b)
    assert "And its tests." in second.out and "parse.py is written." not in second.out
    assert "Write the parser" in second.out  # the prompt, shown above a "…"
    assert f"… 8 earlier entries not shown: gitsess why {b[:12]} --full" in second.out


# -- log -----------------------------------------------------------------------------------


def test_log_puts_each_commit_after_the_conversation_that_produced_it(repo: Path, gs: Any) -> None:
    initial = git(repo, "rev-parse", "HEAD")
    sid = new(gs, "Parser")
    record(
        gs,
        sid,
        user("Start the parser"),
        call("Edit", {"file_path": "parser.py"}, "c1"),
        result("c1", "ok"),
    )
    a = commit(repo, "parser.py", "parse\n", "Add parser", sid)
    record_commit(repo, gs, sid, a, "Add parser")
    record(
        gs,
        sid,
        user("Add tests"),
        call("Bash", {"command": "pytest"}, "c2"),
        result("c2", "2 passed"),
        assistant("Tests pass."),
    )
    b = commit(repo, "test_parser.py", "test\n", "Add tests", sid)
    record_commit(repo, gs, sid, b, "Add tests")
    c = commit(repo, "NOTES", "by hand\n", "Update notes")

    shown = gs("log")
    assert shown.code == 0, shown.err
    out = shown.out
    order = [
        f"  {initial[:12]} initial",
        f"── Parser  {sid}  ✓",
        "Start the parser",
        '  ⚙ Edit {"file_path": "parser.py"}',
        f"● {a[:12]} Add parser",
        "Add tests",
        "  ↳ 2 passed  (1 line)",
        "Tests pass.",
        f"● {b[:12]} Add tests",
        f"  {c[:12]} Update notes",
    ]
    positions = [out.index(text) for text in order]
    assert positions == sorted(positions)
    assert out.count("Start the parser") == 1 and out.count("commit " + a[:12]) == 0

    doc = gs("log", "--json").json()
    assert [x["commit"]["sha"] for x in doc["commits"]] == [initial, a, b, c]
    assert [len(x["sessions"]) for x in doc["commits"]] == [0, 1, 1, 0]
    second = doc["commits"][2]["sessions"][0]
    assert second["prompt"]["content"] == "Add tests" and second["verified"] is True
    assert [e["type"] for e in second["entries"]] == [
        "message",
        "tool_call",
        "tool_result",
        "message",
        "commit",
    ]

    assert doc["range"] == "HEAD" and doc["max_count"] == 20
    last_two = gs("log", "-n", "2", "--json").json()
    assert [x["commit"]["sha"] for x in last_two["commits"]] == [b, c]
    assert gs("log", "-n", "2").out.startswith("The last 2 commits of HEAD:\n")
    ranged = gs("log", "main..HEAD", "--json").json()
    assert ranged["range"] == "main..HEAD" and ranged["max_count"] is None
    assert [x["commit"]["sha"] for x in ranged["commits"]] == [a, b, c]
    assert gs("log", "bogus..HEAD").code == 2
    assert gs("log", "main..main").out == "No commits in main..main.\n"


# -- cost ----------------------------------------------------------------------------------


def test_git_processes_do_not_grow_with_sessions_or_commits(
    repo: Path, gs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    original = Git.run

    def counted(self: Git, *args: str, **kwargs: Any) -> Any:
        calls.append(args)
        return original(self, *args, **kwargs)

    def cost(*args: str) -> int:
        # The listing cache brought up to date first: whether it was missing (one stream
        # read, not Git.run) or stale (a for-each-ref, then the new logs) is not the number
        # of sessions.
        assert gs("list", "--json").code == 0
        monkeypatch.setattr(Git, "run", counted)
        calls.clear()
        assert gs(*args).code == 0
        monkeypatch.setattr(Git, "run", original)
        return len(calls)

    sid = new(gs, "Busy")
    for n in range(2):
        record(gs, sid, user(f"step {n}"))
        sha = commit(repo, f"f{n}.txt", f"{n}\n", f"Step {n}", sid)
        record_commit(repo, gs, sid, sha, f"Step {n}")
    before = {args: cost(*args) for args in [("pr",), ("log",), ("why", "HEAD")]}
    for n in range(8):
        other = new(gs, f"Other {n}", "--no-checkout")
        record(gs, other, user(f"other {n}"), {"type": "commit", "sha": "f" * 40, "subject": "x"})
    for n in range(2, 8):
        record(gs, sid, user(f"step {n}"))
        sha = commit(repo, f"f{n}.txt", f"{n}\n", f"Step {n}", sid)
        record_commit(repo, gs, sid, sha, f"Step {n}")
    after = {args: cost(*args) for args in before}
    assert after == before
    assert max(after.values()) <= 7
