"""Names as people use them: the current session by default, prefixes, titles in any case,
suggestions for a miss, deleted sessions by title, entries by number or short id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitsess.sessions import Sessions
from gitsess.storage.repo import Repository

from .conftest import Result, git, log_lines, meta, run_cli


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


def bad(result: Result, *words: str) -> str:
    """A one-line error, exit 2, saying each of ``words``."""
    assert result.code == 2, (result.code, result.out, result.err)
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert result.err.startswith("gitsess: "), result.err
    for word in words:
        assert word in result.err, (word, result.err)
    return result.err


def new(repo: Path, title: str, *options: str) -> dict:
    return ok(run_cli(repo, "new", title, "--json", *options)).json()


def refs(repo: Path) -> str:
    return git(repo, "for-each-ref")


# -- the current session by default ----------------------------------------------------


@pytest.fixture
def current(repo: Path) -> dict:
    """A checked-out session with two messages."""
    made = new(repo, "Dark mode")
    ok(run_cli(repo, "record", "--role", "user", "Add a dark mode"))
    ok(run_cli(repo, "record", "--role", "assistant", "Done"))
    return made


def test_show_and_export_default_to_the_current_session(repo: Path, current: dict) -> None:
    new(repo, "Another", "--no-checkout")  # not the current one, and the newer
    shown = ok(run_cli(repo, "show", "--json")).json()
    assert shown["session"]["id"] == current["id"]
    assert [e["content"] for e in shown["entries"]] == ["Add a dark mode", "Done"]
    assert "Add a dark mode" in ok(run_cli(repo, "show")).out
    exported = ok(run_cli(repo, "export", "--format", "jsonl")).out
    assert current["id"] in exported and "Add a dark mode" in exported


def test_fork_defaults_to_the_current_session(repo: Path, current: dict) -> None:
    forked = ok(run_cli(repo, "fork", "--at", "1", "--no-checkout", "--json")).json()
    assert forked["parent"]["session"] == current["id"]
    assert [e["content"] for e in log_lines(repo, forked["id"])] == ["Add a dark mode"]


def test_rename_with_only_a_title_renames_the_current_session(repo: Path, current: dict) -> None:
    other = new(repo, "Other", "--no-checkout")
    renamed = ok(run_cli(repo, "rename", "Dark theme"))
    assert renamed.out.strip() == f"Renamed {current['id']} to 'Dark theme'."
    assert meta(repo, current["id"])["title"] == "Dark theme"
    # Both arguments still work, and name the session as before.
    ok(run_cli(repo, "rename", other["id"], "Other, renamed"))
    assert meta(repo, other["id"])["title"] == "Other, renamed"
    assert meta(repo, current["id"])["title"] == "Dark theme"
    usage = run_cli(repo, "rename")
    assert usage.code == 2 and "NEW-TITLE" in usage.err


def test_archive_and_unarchive_default_to_the_current_session(repo: Path, current: dict) -> None:
    ok(run_cli(repo, "archive"))
    assert meta(repo, current["id"])["status"] == "archived"
    ok(run_cli(repo, "unarchive"))
    assert meta(repo, current["id"])["status"] == "active"


def test_an_empty_name_is_not_the_current_session(repo: Path, current: dict) -> None:
    """`gitsess show "$SESSION"` with the variable unset names nothing: an error."""
    for command in (("show", ""), ("archive", ""), ("rename", "", "New title")):
        bad(run_cli(repo, *command), "no session matches ''")
    assert meta(repo, current["id"])["title"] == "Dark mode"


def test_delete_still_needs_a_name(repo: Path, current: dict) -> None:
    result = run_cli(repo, "delete")
    assert result.code == 2 and "SESSION" in result.err
    assert git(repo, "rev-parse", "--verify", "-q", f"refs/sessions/{current['id']}")


@pytest.mark.parametrize(
    "command",
    [("show",), ("export",), ("fork",), ("rename", "New title"), ("archive",), ("unarchive",)],
)
def test_outside_a_session_branch_the_error_names_the_way_out(
    repo: Path, command: tuple[str, ...]
) -> None:
    new(repo, "Elsewhere", "--no-checkout")
    before = refs(repo)
    bad(
        run_cli(repo, *command),
        "no current session: HEAD is on main, not a session branch",
        "`gitsess list`",
        "check one out",
    )
    git(repo, "checkout", "-q", "--detach")
    bad(run_cli(repo, *command), "no current session: HEAD is detached", "`gitsess list`")
    assert refs(repo) == before


def test_usage_shows_session_as_optional(repo: Path) -> None:
    for command in ("show", "export", "fork", "rename", "archive", "unarchive"):
        usage = ok(run_cli(repo, command, "--help")).out.splitlines()[0]
        assert "[SESSION]" in usage, usage
    assert "[SESSION] NEW-TITLE" in run_cli(repo, "rename", "--help").out
    assert "[SESSION]" not in run_cli(repo, "delete", "--help").out.splitlines()[0]


# -- session names -----------------------------------------------------------------------


def test_a_short_prefix_says_how_long_a_prefix_must_be(repo: Path) -> None:
    made = new(repo, "Prefixes", "--no-checkout")
    for reference in (made["id"][:1], made["id"][:3], "zzz"):
        bad(run_cli(repo, "show", reference), "a prefix needs at least 4 characters")
    # ...and the session a short prefix starts is offered.
    assert made["id"] in run_cli(repo, "show", made["id"][:3]).err
    assert ok(run_cli(repo, "show", made["id"][:4], "--json")).json()["session"]["id"] == made["id"]


def test_titles_match_in_any_case_when_unambiguous(repo: Path) -> None:
    login = new(repo, "Fix the login bug", "--no-checkout")
    for reference in ("fix the login bug", "FIX THE LOGIN BUG", "Fix The Login Bug"):
        shown = ok(run_cli(repo, "show", reference, "--json")).json()
        assert shown["session"]["id"] == login["id"]
    ok(run_cli(repo, "rename", "fix THE login BUG", "Fix the login bug, again"))
    assert meta(repo, login["id"])["title"] == "Fix the login bug, again"


def test_an_exact_case_title_wins_and_case_alone_is_ambiguous(repo: Path) -> None:
    upper = new(repo, "Dark Mode", "--no-checkout")
    lower = new(repo, "dark mode", "--no-checkout")
    for reference, expected in (("Dark Mode", upper), ("dark mode", lower)):
        shown = ok(run_cli(repo, "show", reference, "--json")).json()
        assert shown["session"]["id"] == expected["id"]
    err = bad(run_cli(repo, "show", "DARK MODE"), "'DARK MODE' is ambiguous")
    assert upper["id"] in err and lower["id"] in err


def test_an_unknown_name_suggests_the_closest_titles(repo: Path) -> None:
    login = new(repo, "Fix the login bug", "--no-checkout")
    new(repo, "Add dark mode", "--no-checkout")
    err = bad(run_cli(repo, "show", "logn bug"), "no session matches 'logn bug'")
    assert err.strip().endswith(f"did you mean 'Fix the login bug' ({login['id']})?"), err
    # A word of the title is close enough to be offered, and is never taken on a guess.
    assert login["id"] in bad(run_cli(repo, "show", "login"), "no session matches 'login'")
    nothing = bad(run_cli(repo, "show", "quarterly report"), "no session matches")
    assert "did you mean" not in nothing


def test_suggestions_are_at_most_three(repo: Path) -> None:
    for number in range(5):
        new(repo, f"Refactor step {number}", "--no-checkout")
    err = bad(run_cli(repo, "show", "refactor stp"), "did you mean")
    assert err.count("'Refactor step") == 3


def test_a_full_id_is_resolved_without_reading_other_sessions(repo: Path) -> None:
    """`record SESSION` runs on every agent turn: a full id must cost the same with 1 or
    1,000 sessions, so it never lists them."""
    made = new(repo, "Fast", "--no-checkout")
    sessions = Sessions(Repository(str(repo)))

    def listing_everything() -> None:
        raise AssertionError("resolve read every session for a full id")

    sessions.store.read_all = listing_everything  # type: ignore[method-assign]
    try:
        assert sessions.resolve(made["id"]) == made["id"]
    finally:
        sessions.repo.close()


# -- undelete takes what its listing shows -----------------------------------------------


def test_undelete_by_title_in_any_case_and_by_prefix(repo: Path) -> None:
    first = new(repo, "Spike on caching", "--no-checkout")
    second = new(repo, "Try the new parser", "--no-checkout")
    for made in (first, second):
        ok(run_cli(repo, "delete", made["id"]))
    listing = ok(run_cli(repo, "undelete")).out
    assert "Spike on caching" in listing and "Try the new parser" in listing
    restored = ok(run_cli(repo, "undelete", "spike ON caching"))
    assert restored.out.strip() == f"Restored session {first['id']}."
    assert meta(repo, first["id"])["title"] == "Spike on caching"
    ok(run_cli(repo, "undelete", second["id"][:4]))
    assert meta(repo, second["id"])["title"] == "Try the new parser"
    bad(run_cli(repo, "undelete", "Spike on caching"), f"session {first['id']} is not deleted")


def test_undelete_by_the_title_of_an_earlier_deletion_restores_that_log(repo: Path) -> None:
    made = new(repo, "Old name", "--no-checkout")
    ok(run_cli(repo, "delete", made["id"]))
    ok(run_cli(repo, "undelete", made["id"]))
    ok(run_cli(repo, "rename", made["id"], "New name"))
    ok(run_cli(repo, "record", made["id"], "--role", "user", "later"))
    ok(run_cli(repo, "delete", made["id"]))
    listing = ok(run_cli(repo, "undelete")).out
    assert "Old name" in listing and "New name" in listing
    ok(run_cli(repo, "undelete", "old NAME"))
    assert meta(repo, made["id"])["title"] == "Old name"
    assert log_lines(repo, made["id"]) == []
    # The newer log is still in the trash, and its title names it.
    ok(run_cli(repo, "delete", made["id"]))
    ok(run_cli(repo, "undelete", "New name"))
    assert [e["content"] for e in log_lines(repo, made["id"])] == ["later"]


def test_undelete_ambiguous_short_and_unknown_names(repo: Path) -> None:
    one = new(repo, "Same title", "--no-checkout")
    two = new(repo, "same TITLE", "--no-checkout")
    for made in (one, two):
        ok(run_cli(repo, "delete", made["id"]))
    before = refs(repo)
    err = bad(run_cli(repo, "undelete", "SAME title"), "is ambiguous")
    assert one["id"] in err and two["id"] in err
    bad(run_cli(repo, "undelete", one["id"][:3]), "a prefix needs at least 4 characters")
    err = bad(run_cli(repo, "undelete", "sme title"), "no deleted session matches 'sme title'")
    assert "did you mean" in err
    assert refs(repo) == before
    # The exact-case title is not ambiguous.
    ok(run_cli(repo, "undelete", "same TITLE"))
    assert meta(repo, two["id"])["title"] == "same TITLE"


def test_a_deleted_session_named_by_id_says_how_to_restore_it(repo: Path) -> None:
    made = new(repo, "Gone", "--no-checkout")
    ok(run_cli(repo, "delete", made["id"]))
    bad(run_cli(repo, "show", made["id"]), f"`gitsess undelete {made['id']}` restores it")


# -- entries by number, short id or id -----------------------------------------------------


@pytest.fixture
def talk(repo: Path) -> dict:
    """A checked-out session of five entries with known ids, a commit after the second."""
    made = new(repo, "Talk")
    ids = ["a1b2c3d4e5f6", "a1b2ffff0000", "q9w8e7r6", "12", "zz-last"]
    for at, entry_id in enumerate(ids):
        line = {"id": entry_id, "type": "message", "role": "user", "content": f"turn {at + 1}"}
        ok(run_cli(repo, "record", "--jsonl", "-", stdin=json.dumps(line).encode()))
        if at == 1:
            (repo / "code.txt").write_text("code\n")
            git(repo, "add", "code.txt")
            git(repo, "commit", "-q", "-m", "code")
    return {**made, "ids": ids}


def forked_contents(repo: Path, at: str) -> list[str]:
    forked = ok(run_cli(repo, "fork", "--at", at, "--no-checkout", "--json")).json()
    return [e["content"] for e in log_lines(repo, forked["id"])]


@pytest.mark.parametrize(
    ("at", "count"),
    [
        ("1", 1),
        ("#1", 1),
        ("#3", 3),
        ("3", 3),
        ("#4", 4),
        ("q9w8", 3),  # a unique id prefix
        ("q9w8e7r6", 3),  # the whole id
        ("a1b2c3d4", 1),  # a short id as `show` prints it
        ("a1b2ff", 2),
        ("zz-last", 5),
        ("12", 4),  # an id, as there is no entry #12
    ],
)
def test_fork_at_a_number_a_prefix_or_an_id(repo: Path, talk: dict, at: str, count: int) -> None:
    assert forked_contents(repo, at) == [f"turn {n}" for n in range(1, count + 1)]


def test_fork_at_a_number_starts_at_that_entrys_code(repo: Path, talk: dict) -> None:
    first = ok(run_cli(repo, "fork", "--at", "#2", "--no-checkout", "--json")).json()
    later = ok(run_cli(repo, "fork", "--at", "3", "--no-checkout", "--json")).json()
    assert git(repo, "rev-parse", first["branch"]) == git(repo, "rev-parse", "HEAD~1")
    assert git(repo, "rev-parse", later["branch"]) == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("a1b2", ("'a1b2' is ambiguous", "#1 (a1b2c3d4e5f6)", "#2 (a1b2ffff0000)")),
        ("#6", ("no entry '#6'", "5 entries")),
        ("99", ("no entry '99'", "5 entries")),
        ("#0", ("no entry '#0'",)),
        ("#two", ("'#two' is not an entry number",)),
        ("abc", ("needs at least 4 characters",)),
        ("nope", ("no entry 'nope' in this session",)),
        ("", ("no entry ''",)),
    ],
)
def test_fork_at_an_entry_it_cannot_tell_is_a_one_line_error(
    repo: Path, talk: dict, at: str, words: tuple[str, ...]
) -> None:
    before = refs(repo)
    bad(run_cli(repo, "fork", "--at", at, "--no-checkout"), *words)
    assert refs(repo) == before


def test_a_number_that_is_also_an_entry_id_elsewhere_is_ambiguous(repo: Path, talk: dict) -> None:
    """`12` is entry #12 by number in a long enough log, and the id of entry #4 here."""
    more = [{"type": "message", "role": "user", "content": f"turn {n}"} for n in range(6, 13)]
    lines = "\n".join(json.dumps(line) for line in more).encode()
    ok(run_cli(repo, "record", "--jsonl", "-", stdin=lines))
    err = bad(run_cli(repo, "fork", "--at", "12", "--no-checkout"), "'12' is ambiguous")
    assert "#4 (12)" in err and "#12 (" in err
    assert forked_contents(repo, "#12")[-1] == "turn 12"
    assert forked_contents(repo, "#4")[-1] == "turn 4"


# -- empty text and titles -----------------------------------------------------------------


RECORD_ROUTES = {
    # Answered by gitsess/quick.py without click (the hot path)...
    "quick": ("record", "--role", "user"),
    # ...and by the click command, which the `--role=ROLE` spelling goes to.
    "click": ("record", "--role=user"),
}


def test_the_two_record_routes_are_both_taken(repo: Path) -> None:
    made = new(repo, "Routes")
    probe = (
        "import sys\n"
        "from gitsess.__main__ import main\n"
        "code = main(sys.argv[1:])\n"
        "print('CLICK', 'click' in sys.modules, file=sys.stderr)\n"
    )
    for route, command in RECORD_ROUTES.items():
        proc = subprocess.run(
            [sys.executable, "-c", probe, *command, "hello"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert f"CLICK {route == 'click'}" in proc.stderr, (route, proc.stderr)
    assert len(log_lines(repo, made["id"])) == 2


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_an_empty_message_is_bad_input_on_both_routes(repo: Path, text: str) -> None:
    made = new(repo, "Empty")
    before = refs(repo)
    errors = set()
    for command in RECORD_ROUTES.values():
        errors.add(bad(run_cli(repo, *command, text), "the message TEXT is empty"))
        errors.add(bad(run_cli(repo, *command, "-", stdin=text.encode()), "TEXT is empty"))
        errors.add(bad(run_cli(repo, *command[:1], made["id"], *command[1:], text), "empty"))
    assert len(errors) == 1, errors  # the same words whichever way it came
    assert refs(repo) == before and log_lines(repo, made["id"]) == []


@pytest.mark.parametrize("title", ["", "  "])
def test_every_command_taking_a_title_refuses_an_empty_one(
    repo: Path, tmp_path: Path, title: str
) -> None:
    made = new(repo, "Titled")
    ok(run_cli(repo, "record", "--role", "user", "hello"))
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(json.dumps({"type": "message", "role": "user", "content": "hi"}) + "\n")
    before = refs(repo)
    bad(run_cli(repo, "new", title), "the title is empty")
    bad(run_cli(repo, "rename", title), "the title is empty")
    bad(run_cli(repo, "rename", made["id"], title), "the title is empty")
    bad(run_cli(repo, "fork", "--title", title, "--no-checkout"), "the title is empty")
    bad(
        run_cli(repo, "import", str(transcript), "--format", "gitsess", "--title", title),
        "the title is empty",
    )
    assert refs(repo) == before


# -- lookups through the listing cache ---------------------------------------------------


def test_names_found_in_the_listing_cache_keep_every_rule(repo: Path) -> None:
    """Prefixes, titles and branch names are byte searches of .git/gitsess/listing: a
    title holding JSON's own escapes (quotes, backslashes, non-ASCII) is found exactly,
    a title that is another session's id prefix is still ambiguous, and a session git
    alone changed is found as it is now."""
    tricky = new(repo, 'say "hi" \\ to ünïcode', "--no-checkout")
    first = new(repo, "First", "--no-checkout")
    ok(run_cli(repo, "list", "--json"))  # the cache is written
    shown = ok(run_cli(repo, "show", 'say "hi" \\ to ünïcode', "--json")).json()
    assert shown["session"]["id"] == tricky["id"]
    assert (
        ok(run_cli(repo, "show", tricky["branch"], "--json")).json()["session"]["id"]
        == (tricky["id"])
    )
    bad(run_cli(repo, "show", "hi\\"), "no session matches")
    prefix = first["id"][:5]
    clash = new(repo, prefix, "--no-checkout")  # titled like First's id prefix
    bad(run_cli(repo, "show", prefix), "is ambiguous", first["id"], clash["id"])
    ok(run_cli(repo, "rename", clash["id"], "Renamed"))
    assert ok(run_cli(repo, "show", prefix, "--json")).json()["session"]["id"] == first["id"]
    git(repo, "update-ref", f"refs/sessions/{clash['id']}", f"refs/sessions/{clash['id']}~1")
    bad(run_cli(repo, "show", prefix), "is ambiguous")  # its title is the prefix again
    bad(run_cli(repo, "show", "Renamed"), "no session matches 'Renamed'")
