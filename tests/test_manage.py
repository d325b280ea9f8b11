"""Session references, list/status, rename, archive, delete and undelete, resume."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import branches, git, gitsess_exe, run_cli, session_ids


@pytest.fixture
def two(repo: Path, gs) -> tuple[dict, dict]:
    a = gs("new", "Add dark mode", "--no-checkout", "--json").json()
    b = gs("new", "Fix login", "--no-checkout", "--json").json()
    return a, b


def test_references_by_id_prefix_branch_and_title(repo: Path, gs, two) -> None:
    a, _ = two
    for reference in (
        a["id"],
        a["id"][:4],
        a["branch"],
        f"refs/heads/{a['branch']}",
        "Add dark mode",
    ):
        shown = gs("show", reference, "--json")
        assert shown.code == 0, (reference, shown.err)
        assert shown.json()["session"]["id"] == a["id"]


def test_unknown_reference_is_exit_2(repo: Path, gs, two) -> None:
    for reference in ("nothing-like-it", "zzzz"):
        result = gs("show", reference)
        assert result.code == 2 and "no session matches" in result.err
    # Too short to be a prefix: it says so (tests/test_names.py has the rest).
    result = gs("show", "abc")
    assert result.code == 2 and "a prefix needs at least 4 characters" in result.err


def test_ambiguous_reference_lists_candidates(repo: Path, gs, two) -> None:
    a, b = two
    gs("rename", b["id"], "Add dark mode")
    result = gs("show", "Add dark mode")
    assert result.code == 2 and "ambiguous" in result.err
    assert a["id"] in result.err and b["id"] in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_ambiguous_prefix(repo: Path, gs) -> None:
    made = [gs("new", f"s{i}", "--no-checkout", "--json").json()["id"] for i in range(40)]
    # 40 random ids over 32 first characters: some first four characters may collide; find a
    # shared prefix of length 4 if any, else check a 4-char prefix resolves uniquely.
    by_prefix: dict[str, list[str]] = {}
    for sid in made:
        by_prefix.setdefault(sid[:4], []).append(sid)
    for prefix, ids in by_prefix.items():
        result = gs("show", prefix, "--json")
        if len(ids) == 1:
            assert result.json()["session"]["id"] == ids[0]
        else:
            assert result.code == 2 and all(sid in result.err for sid in ids)


def test_list_newest_first_and_archive_hides(repo: Path, gs, two) -> None:
    a, b = two
    assert [r["id"] for r in gs("list", "--json").json()] == [b["id"], a["id"]]
    gs("record", a["id"], "--role", "user", "bump")
    assert [r["id"] for r in gs("list", "--json").json()] == [a["id"], b["id"]]
    assert gs("archive", a["id"]).code == 0
    assert [r["id"] for r in gs("list", "--json").json()] == [b["id"]]
    everything = gs("list", "--all", "--json").json()
    assert {r["id"]: r["status"] for r in everything} == {a["id"]: "archived", b["id"]: "active"}
    text = gs("list", "--all").out
    assert "Add dark mode" in text and "(archived)" in text and "Fix login" in text
    gs("unarchive", a["id"])
    assert len(gs("list", "--json").json()) == 2


def test_list_when_empty(repo: Path, gs) -> None:
    assert gs("list").out.startswith("No sessions yet")
    assert gs("list", "--json").json() == []


def test_status(repo: Path, gs) -> None:
    none = gs("status")
    assert none.code == 0 and "No current session (on branch main)" in none.out
    assert gs("status", "--json").json() is None
    made = gs("new", "Here", "--json").json()
    gs("record", "--role", "user", "the last thing said")
    assert gs("status", "--json").json()["id"] == made["id"]
    text = gs("status").out
    assert "Here" in text and made["id"] in text and "the last thing said" in text
    assert f"branch {made['branch']} · 1 entry" in text


def test_status_fast_path_matches_the_full_cli(repo: Path, gs) -> None:
    """`status` skips click and rich; `--debug status` goes through click: same output."""
    gs("new", "Same either way")
    gs("record", "--role", "assistant", "done")
    for form in (["status"], ["status", "--json"]):
        fast, full = gs(*form), gs("--debug", *form)
        assert fast.code == full.code == 0
        assert fast.out == full.out and fast.err == full.err == ""
    assert gs("status", "--bogus").code == 2  # unusual forms still get click's usage error


def test_list_json_fast_path_matches_the_full_cli(repo: Path, gs, two) -> None:
    a, _ = two
    gs("archive", a["id"])
    for form in (["list", "--json"], ["list", "--all", "--json"], ["list", "--json", "--all"]):
        fast, full = gs(*form), gs("--debug", *form)
        assert fast.code == full.code == 0 and fast.out == full.out
    assert len(gs("list", "--json").json()) == 1
    assert len(gs("list", "--json", "--all").json()) == 2
    assert gs("list", "--json", "--bogus").code == 2


def test_rename_keeps_branch(repo: Path, gs, two) -> None:
    a, _ = two
    assert gs("rename", a["id"][:5], "Dark theme").code == 0
    renamed = gs("show", "Dark theme", "--json").json()["session"]
    assert renamed["id"] == a["id"] and renamed["branch"] == a["branch"]
    assert gs("rename", a["id"], "").code == 2


def test_delete_and_undelete(repo: Path, gs, two) -> None:
    a, b = two
    gs("record", a["id"], "--role", "user", "remember me")
    log = git(repo, "rev-parse", f"refs/sessions/{a['id']}")
    result = gs("delete", a["id"])
    assert result.code == 0 and f"gitsess undelete {a['id']}" in result.out
    assert session_ids(repo) == [b["id"]]
    assert a["branch"] in branches(repo)  # the code is never deleted with the log
    missing = gs("show", a["id"])
    assert missing.code == 2 and "undelete" in missing.err
    listed = gs("undelete", "--json").json()
    assert listed == [{"id": a["id"], "log": log, "title": "Add dark mode"}]
    # Objects survive a gc: the trash reflog keeps them reachable.
    git(repo, "gc", "--quiet", "--prune=now")
    assert gs("undelete", a["id"][:6]).code == 0
    assert git(repo, "rev-parse", f"refs/sessions/{a['id']}") == log
    assert gs("show", a["id"], "--json").json()["entries"][0]["content"] == "remember me"
    assert gs("undelete", "--json").json() == []
    assert gs("undelete", a["id"]).code == 2  # not deleted any more


def test_resume_switches_and_shows_where_it_stands(repo: Path, gs, two) -> None:
    a, _ = two
    for i in range(7):
        gs("record", a["id"], "--role", "user" if i % 2 == 0 else "assistant", f"turn {i}")
    (repo / "README.md").write_text("uncommitted\n")
    result = gs("resume", a["id"][:6])
    assert result.code == 0, result.err
    assert git(repo, "symbolic-ref", "--short", "HEAD") == a["branch"]
    assert "Switched to" in result.out and "Add dark mode" in result.out
    assert "turn 6" in result.out and "turn 2" in result.out and "turn 1" not in result.out
    assert "1 uncommitted change" in result.out and "README.md" in result.out
    assert (repo / "README.md").read_text() == "uncommitted\n"
    again = gs("resume", a["id"], "--json").json()
    assert again["switched"] is False and again["session"]["current"] is True
    assert [e["content"] for e in again["recent"]] == [f"turn {i}" for i in range(2, 7)]


def test_resume_last_picks_most_recently_updated(repo: Path, gs, two) -> None:
    a, b = two
    gs("record", a["id"], "--role", "user", "latest")
    assert gs("resume", "--last", "--json").json()["session"]["id"] == a["id"]
    gs("record", b["id"], "--role", "user", "later still")
    assert gs("resume", "--json").json()["session"]["id"] == b["id"]


def test_resume_refuses_when_local_changes_would_be_lost(repo: Path, gs, two) -> None:
    a, _ = two
    gs("resume", a["id"])
    (repo / "README.md").write_text("session version\n")
    git(repo, "commit", "-q", "-am", "session work")
    git(repo, "switch", "-q", "main")
    (repo / "README.md").write_text("unsaved edit on main\n")
    result = gs("resume", a["id"])
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    assert "local changes" in result.err
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"
    assert (repo / "README.md").read_text() == "unsaved edit on main\n"


def test_resume_recreates_a_missing_branch(repo: Path, gs, two) -> None:
    a, _ = two
    git(repo, "branch", "-D", a["branch"])
    result = gs("resume", a["id"])
    assert result.code == 0 and "re-created" in result.out
    assert git(repo, "symbolic-ref", "--short", "HEAD") == a["branch"]


def test_resume_without_sessions(repo: Path, gs) -> None:
    result = gs("resume")
    assert result.code == 2 and "no sessions yet" in result.err


def cache_file(repo: Path) -> Path:
    return repo / ".git" / "gitsess" / "listing"


def test_list_remembers_summaries_by_log_commit(repo: Path, gs) -> None:
    made = gs("new", "Counted", "--json").json()
    gs("record", "--role", "user", "one")
    assert gs("list", "--json").json()[0]["entries"] == 1
    log = git(repo, "rev-parse", f"refs/sessions/{made['id']}")
    assert f"{log}\t{made['id']}\t1\t" in cache_file(repo).read_text()
    gs("record", "--role", "assistant", "two")
    assert gs("list", "--json").json()[0]["entries"] == 2  # a new commit, a new row
    assert log not in cache_file(repo).read_text()  # rows of logs no ref names are dropped


@pytest.mark.parametrize(
    "damage",
    [
        b"\xff garbage \x00\n",
        b"",
        b"gitsess-listing 3\nrefs x\nnames 00000000 0\nbody 00000000 0\n\n",  # stale refs
        "truncated",
        "flipped",
    ],
)
def test_a_damaged_listing_cache_is_ignored_and_rebuilt(repo: Path, gs, damage) -> None:
    gs("new", "Counted", "--json")
    gs("record", "--role", "user", "one")
    expected = gs("list", "--json").json()
    text = cache_file(repo).read_bytes()
    if damage == "truncated":
        damage = text[: len(text) - 40]
    elif damage == "flipped":  # a title changed, the checksum not
        damage = text.replace(b'"Counted"', b'"Cxunted"')
    cache_file(repo).write_bytes(damage)
    assert gs("list", "--json").json() == expected
    assert run_cli(repo, "show", "counted").code == 0
    assert gs("list", "--json").json() == expected  # rebuilt: the same again
    assert cache_file(repo).read_bytes().startswith(b"gitsess-listing 3\n")


def test_list_sees_a_log_moved_by_plain_git(repo: Path, gs) -> None:
    """The cache knows the refs changed without listing them: a ref git itself moved
    (a fetch, a reset, update-ref) is listed as it is now."""
    made = gs("new", "Moved", "--json").json()
    gs("record", "--role", "user", "one")
    gs("rename", made["id"], "Renamed")
    assert gs("list", "--json").json()[0]["title"] == "Renamed"
    git(repo, "update-ref", f"refs/sessions/{made['id']}", f"refs/sessions/{made['id']}~1")
    listed = gs("list", "--json").json()
    assert [(r["title"], r["entries"]) for r in listed] == [("Moved", 1)]
    assert run_cli(repo, "show", "Renamed").code == 2
    git(repo, "pack-refs", "--all")
    assert gs("list", "--json").json() == listed
    git(repo, "update-ref", "-d", f"refs/sessions/{made['id']}")
    assert gs("list", "--json").json() == []


def test_two_gitsess_processes_writing_the_cache_never_tear_it(repo: Path) -> None:
    for number in range(30):
        git(repo, "update-ref", f"refs/sessions/x{number:09d}", "HEAD")  # broken: never cached
    made = [new_cli(repo, f"Session {n}") for n in range(6)]
    procs = [
        subprocess.Popen(
            [gitsess_exe(), "list", "--json"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(4)
    ]
    outputs = [json.loads(proc.communicate()[0]) for proc in procs]
    assert all(sorted(r["id"] for r in out) == sorted(made) for out in outputs)
    assert not list(cache_file(repo).parent.glob("*.tmp"))
    again = run_cli(repo, "list", "--json")
    assert sorted(r["id"] for r in again.json()) == sorted(made)


def new_cli(repo: Path, title: str) -> str:
    return str(run_cli(repo, "new", title, "--no-checkout", "--json").json()["id"])


def test_list_shows_a_page_and_says_how_to_see_the_rest(repo: Path) -> None:
    made = [new_cli(repo, f"Session {n}") for n in range(23)]
    pinned = made[0]  # the oldest
    assert run_cli(repo, "pin", pinned).code == 0
    shown = run_cli(repo, "list")
    lines = shown.out.splitlines()
    assert len(lines) == 1 + 20 and pinned in lines[1]  # the heading, pinned first
    assert made[-1] in lines[2] and made[2] not in shown.out
    assert "and 3 more sessions: `gitsess list -n 40` shows more" in shown.err
    assert "`gitsess list --all` all of them" in shown.err
    assert len(run_cli(repo, "list", "-n", "5").out.splitlines()) == 1 + 5
    assert len(run_cli(repo, "list", "--all").out.splitlines()) == 1 + 23
    assert run_cli(repo, "list", "--all").err == ""
    git(repo, "config", "gitsess.listCount", "7")
    assert len(run_cli(repo, "list").out.splitlines()) == 1 + 7
    assert "and 16 more sessions" in run_cli(repo, "list").err
    assert len(run_cli(repo, "list", "--json").json()) == 23  # a script gets every one
    assert [r["id"] for r in run_cli(repo, "list", "--json", "-n", "2").json()] == made[:-3:-1]
    git(repo, "config", "gitsess.listCount", "many")
    bad = run_cli(repo, "list")
    assert bad.code == 2 and "gitsess.listCount is 'many'" in bad.err
    assert run_cli(repo, "list", "-n", "0").code == 2


def test_undelete_still_lists_what_is_left_when_a_deleted_log_is_gone(tmp_path: Path, gs) -> None:
    """`git reflog` dies at the first missing object; the other deleted logs stay restorable."""
    from .conftest import make_repo

    repo = make_repo(tmp_path / "pruned")
    gone = gs("new", "Gone", "--no-checkout", "--json", cwd=repo).json()
    kept = gs("new", "Kept", "--no-checkout", "--json", cwd=repo).json()
    gone_log = git(repo, "rev-parse", f"refs/sessions/{gone['id']}")
    gs("delete", kept["id"], cwd=repo)
    gs("delete", gone["id"], cwd=repo)
    (repo / ".git" / "objects" / gone_log[:2] / gone_log[2:]).unlink()
    listed = gs("undelete", "--json", cwd=repo)
    assert listed.code == 0 and kept["id"] in listed.out
    assert gs("undelete", kept["id"], cwd=repo).code == 0
    assert session_ids(repo) == [kept["id"]]


def test_status_shows_a_lone_surrogate_escaped_not_a_crash(repo: Path) -> None:
    """An agent can write half an emoji; the fast `status` path prints it escaped."""
    from .conftest import run_cli

    sid = json.loads(run_cli(repo, "new", "Halves", "--json").out)["id"]
    line = b'{"type": "message", "role": "user", "content": "half \\ud83d emoji"}\n'
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=line).code == 0
    shown = run_cli(repo, "status")
    assert shown.code == 0 and shown.err == ""
    assert "last: user: half \\ud83d emoji" in shown.out


def test_metadata_changes_do_not_make_a_session_the_last(repo: Path, gs, two) -> None:
    # Renaming, archiving or unarchiving is no activity: a bare `resume` and `list` keep
    # going by the conversation, and the change time is kept apart in `changed`.
    a, b = two
    before = gs("show", a["id"], "--json").json()["session"]
    assert gs("rename", a["id"], "Dark theme").code == 0
    assert gs("archive", a["id"]).code == 0
    assert gs("unarchive", a["id"]).code == 0
    assert [r["id"] for r in gs("list", "--json").json()] == [b["id"], a["id"]]
    resumed = gs("resume", "--json").json()["session"]
    assert resumed["id"] == b["id"]
    after = gs("show", a["id"], "--json").json()["session"]
    assert after["title"] == "Dark theme" and after["updated"] == before["updated"]
    assert after["changed"] > before["updated"]
    # Activity still counts: an entry makes it the last again.
    gs("record", a["id"], "--role", "user", "back to it")
    assert gs("resume", "--json").json()["session"]["id"] == a["id"]
