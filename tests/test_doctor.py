"""`gitsess doctor`: repositories broken the way real life breaks them, checked and repaired.

Tests that break objects use a repository of their own: the `repo` fixture's teardown
holds every repository it made to `git fsck --strict`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zlib
from pathlib import Path
from typing import Any

from .conftest import git, log_lines, make_repo, meta, run_cli

ZERO_IN = "1111111111111111111111111111111111111111"


def hash_object(repo: Path, data: bytes) -> str:
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=data, capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def segment(repo: Path, sid: str) -> list[bytes]:
    proc = subprocess.run(
        ["git", "cat-file", "blob", f"refs/sessions/{sid}:log/00000000.jsonl"],
        cwd=repo,
        capture_output=True,
        check=True,
    )
    return proc.stdout.splitlines(keepends=True)


def write_log(
    repo: Path,
    sid: str,
    *,
    meta_data: bytes | None = None,
    lines: list[bytes] | None = None,
    on_top: bool = True,
    message: str = "written by another tool",
) -> str:
    """A log commit written with plumbing, as another tool (or a bug) would, on top of the
    session's log unless ``on_top`` is False; the ref is moved to it."""
    ref = f"refs/sessions/{sid}"
    old = git(repo, "rev-parse", "-q", "--verify", ref, check=False)
    if meta_data is None:
        meta_blob = git(repo, "rev-parse", f"{old}:session.json")
    else:
        meta_blob = hash_object(repo, meta_data)
    if lines is None:
        log_tree = git(repo, "rev-parse", f"{old}:log")
    else:
        blob = hash_object(repo, b"".join(lines))
        log_tree = git(repo, "mktree", input=f"100644 blob {blob}\t00000000.jsonl\n")
    tree = git(
        repo,
        "mktree",
        input=f"100644 blob {meta_blob}\tsession.json\n040000 tree {log_tree}\tlog\n",
    )
    parents = ["-p", old] if old and on_top else []
    commit = git(repo, "commit-tree", *parents, "-m", message, tree)
    git(repo, "update-ref", ref, commit, *([old] if old else []))
    return commit


def write_commit(repo: Path, tree: str) -> str:
    """A commit of ``tree`` written as a loose object, for trees git refuses to commit."""
    body = f"tree {tree}\nauthor A <a@b> 0 +0000\ncommitter A <a@b> 0 +0000\n\ncorrupt\n"
    raw = f"commit {len(body)}\0{body}".encode()
    oid = hashlib.sha1(raw).hexdigest()
    (repo / ".git" / "objects" / oid[:2]).mkdir(exist_ok=True)
    (repo / ".git" / "objects" / oid[:2] / oid[2:]).write_bytes(zlib.compress(raw))
    return oid


def new_session(gs: Any, repo: Path, title: str, *messages: str) -> str:
    made = gs("new", title, "--no-checkout", "--json", cwd=repo)
    assert made.code == 0, made.err
    sid = str(made.json()["id"])
    for text in messages:
        assert gs("record", sid, "--role", "user", text, cwd=repo).code == 0
    return sid


def doctor(gs: Any, repo: Path, *args: str) -> Any:
    result = gs("doctor", *args, cwd=repo)
    assert "Traceback" not in result.err
    return result


def errors(result: Any) -> list[dict[str, Any]]:
    return [f for f in result.json()["findings"] if f["severity"] == "error"]


def contents(gs: Any, repo: Path, sid: str) -> list[Any]:
    shown = gs("show", sid, "--json", cwd=repo)
    assert shown.code == 0, shown.err
    return [e.get("content", e.get("data")) for e in shown.json()["entries"]]


def assert_clean(gs: Any, repo: Path) -> None:
    again = doctor(gs, repo, "--json")
    assert again.code == 0, again.out
    assert [f for f in again.json()["findings"] if f["severity"] != "advice"] == []


# -- a healthy repository ---------------------------------------------------------------


def test_healthy_repository_has_no_problems(gs: Any, repo: Path) -> None:
    new_session(gs, repo, "Add dark mode", "make it dark")
    result = doctor(gs, repo)
    assert result.code == 0, result.out
    assert result.out.endswith("Checked 1 session: no problems (1 advice above).\n")
    # Hooks are the user's choice: advice with the command, never installed by doctor.
    assert "advice" in result.out and "gitsess hooks install" in result.out
    assert doctor(gs, repo, "--fix").code == 0
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    assert gs("hooks", "install", cwd=repo).code == 0
    quiet = doctor(gs, repo, "--json")
    assert quiet.code == 0
    assert quiet.json() == {
        "ok": True,
        "fix": False,
        "sessions": 1,
        "errors": 0,
        "warnings": 0,
        "advice": 0,
        "fixed": 0,
        "remaining": 0,
        "findings": [],
    }


# -- refs -------------------------------------------------------------------------------


def test_ref_to_a_missing_object_goes_back_to_its_reflog(gs: Any, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "broken")
    sid = new_session(gs, repo, "Add dark mode", "one", "two")
    healthy = new_session(gs, repo, "Another", "fine")
    good = git(repo, "rev-parse", f"refs/sessions/{sid}")
    # What a crash, a bad copy or a pruned object leaves: a ref naming nothing.
    (repo / ".git" / "refs" / "sessions" / sid).write_text(ZERO_IN + "\n")

    found = doctor(gs, repo)
    assert found.code == 1
    assert f"error    {sid}  ref: refs/sessions/{sid}: 111111111111 is not in the repository" in (
        found.out
    )
    assert healthy not in found.out  # the other session is checked and fine
    assert "gitsess doctor --fix" in found.out

    fixed = doctor(gs, repo, "--fix")
    assert fixed.code == 0, fixed.out
    assert f"fixed: restored {good[:12]}, the newest complete log commit in its reflog" in (
        fixed.out
    )
    assert git(repo, "rev-parse", f"refs/sessions/{sid}") == good
    assert contents(gs, repo, sid) == ["one", "two"]
    reflog = git(repo, "log", "-g", "--format=%gs", f"refs/sessions/{sid}")
    assert f"was {ZERO_IN}, broken" in reflog.splitlines()[0]
    assert_clean(gs, repo)


def test_ref_to_a_blob_or_without_a_reflog(gs: Any, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "broken")
    blobbed = new_session(gs, repo, "Blobbed", "kept")
    lost = new_session(gs, repo, "Lost", "gone")
    fetched = new_session(gs, repo, "Lost here, fetched before", "theirs")
    corrupt = new_session(gs, repo, "Corrupt tree", "still in the reflog")
    blob = hash_object(repo, b"not a commit\n")
    (repo / ".git" / "refs" / "sessions" / blobbed).write_text(blob + "\n")
    for sid in (lost, fetched):
        copy = git(repo, "rev-parse", f"refs/sessions/{sid}")
        (repo / ".git" / "refs" / "sessions" / sid).write_text(ZERO_IN + "\n")
        (repo / ".git" / "logs" / "refs" / "sessions" / sid).unlink()
    git(repo, "update-ref", f"refs/gitsess/remotes/origin/sessions/{fetched}", copy)
    # A tree object that is not one (a disk error, a bad copy): git stores what it is given.
    raw = b"tree 7\0garbage"
    oid = hashlib.sha1(raw).hexdigest()
    (repo / ".git" / "objects" / oid[:2]).mkdir(exist_ok=True)
    (repo / ".git" / "objects" / oid[:2] / oid[2:]).write_bytes(zlib.compress(raw))
    bad_commit = write_commit(repo, oid)
    git(repo, "update-ref", f"refs/sessions/{corrupt}", bad_commit)
    # A ref gitsess did not write: reported, left alone.
    git(repo, "update-ref", "refs/sessions/notes", "HEAD")

    result = doctor(gs, repo, "--fix", "--json")
    assert result.code == 1  # one could not be fixed
    report = result.json()
    assert report["ok"] is False and report["remaining"] == 1
    by_session = {f["session"]: f for f in errors(result)}
    assert "is a blob, not a log commit" in by_session[blobbed]["message"]
    assert by_session[blobbed]["fixed"]
    assert by_session[lost]["fixed"] is None
    assert "no complete log commit in its reflog" in by_session[lost]["not_fixed"]
    assert contents(gs, repo, blobbed) == ["kept"]
    assert f"in refs/gitsess/remotes/origin/sessions/{fetched}" in by_session[fetched]["fixed"]
    assert contents(gs, repo, fetched) == ["theirs"]
    assert f"log commit {bad_commit[:12]} is corrupt" in by_session[corrupt]["message"]
    assert contents(gs, repo, corrupt) == ["still in the reflog"]
    warnings = [f for f in report["findings"] if f["severity"] == "warning"]
    assert [(w["session"], w["check"]) for w in warnings] == [("notes", "ref")]
    # The unfixable ref is left as it was, and stays reported.
    assert (repo / ".git" / "refs" / "sessions" / lost).read_text().strip() == ZERO_IN
    again = doctor(gs, repo)
    assert again.code == 1
    assert "not in the repository" in again.out


# -- session.json ----------------------------------------------------------------------


def test_garbage_session_json_is_rebuilt_on_top(gs: Any, repo: Path) -> None:
    sid = new_session(gs, repo, "Add dark mode", "make it dark")
    before = meta(repo, sid)
    broken = write_log(repo, sid, meta_data=b"{garbage\n")
    assert gs("list", "--json", cwd=repo).json() == []  # unreadable sessions are not listed

    found = doctor(gs, repo)
    assert found.code == 1
    assert f"error    {sid}  meta: session.json is not JSON" in found.out

    fixed = doctor(gs, repo, "--fix")
    assert fixed.code == 0, fixed.out
    assert "fixed: session.json rebuilt" in fixed.out
    shown = gs("show", sid, "--json", cwd=repo).json()
    session = shown["session"]
    for key in ("id", "title", "branch", "base", "created", "author"):
        assert session[key] == before[key]
    assert session["recovered"]["from"] == broken
    assert [e["content"] for e in shown["entries"]] == ["make it dark"]
    # Nothing lost: the broken commit is the new one's parent.
    assert git(repo, "rev-parse", f"refs/sessions/{sid}^") == broken
    assert git(repo, "cat-file", "blob", f"refs/sessions/{sid}^:session.json") == "{garbage"
    assert gs("record", sid, "--role", "user", "more", cwd=repo).code == 0
    assert_clean(gs, repo)


def test_session_json_missing_fields_salvaged_from_the_log(gs: Any, repo: Path) -> None:
    """A session written by another tool: its only log commit lacks most of the fields."""
    sid = new_session(gs, repo, "Placeholder")
    entry = {"id": "e1", "ts": "2026-01-02T03:04:05Z", "type": "message", "role": "user"}
    line = json.dumps({**entry, "content": "Fix the login bug\nplease"}).encode() + b"\n"
    write_log(
        repo,
        sid,
        meta_data=json.dumps({"id": sid, "tags": ["kept"], "custom": 1}).encode(),
        lines=[line],
        on_top=False,
    )
    found = doctor(gs, repo, "--json")
    assert found.code == 1
    [problem] = errors(found)
    assert problem["check"] == "meta"
    assert "title: field required" in problem["message"]

    assert doctor(gs, repo, "--fix").code == 0
    session = gs("show", sid, "--json", cwd=repo).json()["session"]
    assert session["title"] == "Fix the login bug"  # from the first user message
    assert session["created"] == "2026-01-02T03:04:05Z"
    assert session["branch"] == meta(repo, sid)["branch"]
    assert git(repo, "rev-parse", "--verify", f"refs/heads/{session['branch']}")
    assert session["tags"] == ["kept"] and session["custom"] == 1  # kept as they were
    assert_clean(gs, repo)


def test_log_commit_without_session_json_and_a_session_without_commits(
    gs: Any, tmp_path: Path
) -> None:
    """Another tool wrote a log with no session.json; a session started in an empty
    repository has no branch, and nothing to start one at."""
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(empty))
    sid = new_session(gs, empty, "Before any commit", "hello")
    blob = hash_object(empty, b'{"id":"e1","ts":"2026-01-01T00:00:00Z","type":"event"}\n')
    log_tree = git(empty, "mktree", input=f"100644 blob {blob}\t00000000.jsonl\n")
    tree = git(empty, "mktree", input=f"040000 tree {log_tree}\tlog\n")
    old = git(empty, "rev-parse", f"refs/sessions/{sid}")
    written = git(empty, "commit-tree", "-p", old, "-m", "no metadata", tree)
    git(empty, "update-ref", f"refs/sessions/{sid}", written, old)

    found = doctor(gs, empty)
    assert found.code == 1
    assert f"error    {sid}  meta: session.json is missing" in found.out
    fixed = doctor(gs, empty, "--fix")
    assert fixed.code == 0, fixed.out
    assert f"rebuilt from the last good one, in log commit {old[:12]}; new log commit" in fixed.out
    assert f"advice   {sid}  branch: branch" in fixed.out
    assert "records no commit to start it at" in fixed.out
    session = gs("show", sid, "--json", cwd=empty).json()["session"]
    assert session["title"] == "Before any commit" and session["entries"] == 1
    assert_clean(gs, empty)


# -- segments and ids ----------------------------------------------------------------------


def test_unreadable_lines_are_kept_as_events(gs: Any, repo: Path) -> None:
    sid = new_session(gs, repo, "Lines", "one", "two")
    lines = segment(repo, sid)
    bad = [lines[0], b"not json {\n", b'{"no":"type"}\n', lines[1], b"\xff\xfe binary\n"]
    # ... and the last line without its newline: the next append would join it.
    bad.append(b'{"id":"tail","ts":"2026-01-01T00:00:00Z","type":"event","name":"x"}')
    broken = write_log(repo, sid, lines=bad)

    found = doctor(gs, repo)
    assert found.code == 1
    assert "segments: 3 lines are not an entry (log/00000000.jsonl:2, log/00000000.jsonl:3" in (
        found.out
    )
    assert "log/00000000.jsonl does not end with a newline" in found.out

    assert doctor(gs, repo, "--fix").code == 0
    entries = gs("show", sid, "--json", cwd=repo).json()["entries"]
    assert [e.get("content") for e in entries if e["type"] == "message"] == ["one", "two"]
    unreadable = [e["data"] for e in entries if e.get("name") == "unreadable"]
    assert [u.get("raw") for u in unreadable] == ["not json {", '{"no":"type"}', None]
    assert unreadable[2]["raw_base64"] == "//4gYmluYXJ5"
    assert entries[-1]["id"] == "tail"
    assert len({e["id"] for e in entries}) == len(entries) == 6
    assert git(repo, "rev-parse", f"refs/sessions/{sid}^") == broken
    assert gs("record", sid, "--role", "user", "three", cwd=repo).code == 0
    assert contents(gs, repo, sid)[-1] == "three"
    assert [e["id"] for e in log_lines(repo, sid)][-2] == "tail"  # not joined to "three"
    assert_clean(gs, repo)


def test_duplicate_ids_folded_as_merges_fold_them(gs: Any, repo: Path) -> None:
    sid = new_session(gs, repo, "Dupes", "one", "two")
    first, second = segment(repo, sid)
    changed = json.loads(second)
    older = {**changed, "content": "two, edited earlier", "ts": "2000-01-01T00:00:00.000Z"}
    later = {**json.loads(first), "content": "one, edited later", "ts": "2099-01-01T00:00:00.000Z"}
    write_log(
        repo,
        sid,
        lines=[
            first,
            second,
            first,
            json.dumps(later).encode() + b"\n",
            json.dumps(older).encode() + b"\n",
        ],
    )
    found = doctor(gs, repo, "--json")
    assert found.code == 1
    [problem] = errors(found)
    assert problem["check"] == "ids" and problem["message"].startswith("2 entry ids appear")

    fixed = doctor(gs, repo, "--fix", "--json")
    assert fixed.code == 0
    assert errors(fixed)[0]["fixed"].startswith(
        "1 identical copy dropped, 2 differing versions kept in the winner's meta.conflicts"
    )
    entries = gs("show", sid, "--json", cwd=repo).json()["entries"]
    assert [e["content"] for e in entries] == ["one, edited later", "two"]
    assert entries[0]["meta"]["conflicts"][0]["content"] == "one"
    assert entries[1]["meta"]["conflicts"][0]["content"] == "two, edited earlier"
    assert_clean(gs, repo)


def test_wrong_entry_count_is_written_again(gs: Any, repo: Path) -> None:
    sid = new_session(gs, repo, "Counted", "one", "two")
    write_log(repo, sid, message=f"append\n\nSession: {sid}\nEntries: 7")
    assert gs("list", "--json", cwd=repo).json()[0]["entries"] == 7
    found = doctor(gs, repo)
    assert found.code == 0  # a warning: nothing is lost, `list` only miscounts
    assert "entries: the log commit says it holds 7 entries, but it holds 2" in found.out
    assert doctor(gs, repo, "--fix").code == 0
    assert gs("list", "--json", cwd=repo).json()[0]["entries"] == 2
    assert_clean(gs, repo)


# -- branches ------------------------------------------------------------------------------


def test_deleted_branch_recreated_at_the_last_commit_the_log_records(gs: Any, repo: Path) -> None:
    made = gs("new", "Branchy", "--json", cwd=repo).json()
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    tip = git(repo, "rev-parse", "HEAD")
    gs("record", "--role", "user", "after the commit", cwd=repo)
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", made["branch"])
    archived = new_session(gs, repo, "Done and merged")
    gs("archive", archived, cwd=repo)
    git(repo, "branch", "-q", "-D", meta(repo, archived)["branch"])

    found = doctor(gs, repo)
    assert found.code == 1
    assert f"error    {made['id']}  branch: branch {made['branch']} does not exist" in found.out
    assert f"advice   {archived}  branch: branch" in found.out  # archived: not a problem

    fixed = doctor(gs, repo, "--fix")
    assert fixed.code == 0
    assert f"fixed: Branch re-created at {tip[:12]}" in fixed.out
    assert git(repo, "rev-parse", f"refs/heads/{made['branch']}") == tip


# -- fetched copies --------------------------------------------------------------------------


def test_fetched_log_not_merged_and_teammate_branches(gs: Any, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    alice = make_repo(tmp_path / "alice")
    git(alice, "push", "-q", str(bare), "main")
    git(tmp_path, "clone", "-q", str(bare), str(tmp_path / "bob"))
    bob = tmp_path / "bob"
    git(alice, "remote", "add", "origin", str(bare))
    sid = new_session(gs, alice, "Alice's", "from alice")
    other = new_session(gs, alice, "No branch on the remote", "hello")
    assert gs("push", sid, other, cwd=alice).code == 0
    git(bare, "branch", "-q", "-D", meta(alice, other)["branch"])
    gs("remote", "setup", cwd=bob)
    git(bob, "fetch", "-q")  # a plain fetch: the logs wait in the tracking namespace

    found = doctor(gs, bob)
    assert found.code == 0  # warnings only
    for session in (sid, other):
        tracking = f"refs/gitsess/remotes/origin/sessions/{session}"
        assert f"warning  {session}  tracking: {tracking} is not merged yet" in found.out
    assert git(bob, "for-each-ref", "refs/sessions/") == ""  # doctor alone changes nothing

    fixed = doctor(gs, bob, "--fix")
    assert fixed.code == 0
    assert f"fixed: merged into refs/sessions/{sid} (new)" in fixed.out
    # Its branch was fetched beside it: `resume` makes the local branch, nothing to report.
    assert f"{sid}  branch" not in fixed.out
    assert gs("resume", sid, cwd=bob).code == 0
    branch = meta(bob, sid)["branch"]
    assert git(bob, "rev-parse", branch) == git(alice, "rev-parse", branch)
    assert f"not fixed: no copy of it here: `gitsess fetch origin {other}`" in fixed.out
    assert contents(gs, bob, sid) == ["from alice"]
    again = doctor(gs, bob, "--json")
    assert again.code == 0
    assert [
        (f["session"], f["check"]) for f in again.json()["findings"] if f["severity"] != "advice"
    ] == [(other, "branch")]


def test_a_redacted_log_is_not_merged_back(gs: Any, tmp_path: Path) -> None:
    """The pushed copy holds the secret that `redact` removed here: --fix leaves it out."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    work = make_repo(tmp_path / "work")
    git(work, "remote", "add", "origin", str(origin))
    token = "ghp_" + "R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s12"
    sid = new_session(gs, work, "Leaky", f"the token is {token}")
    assert gs("push", sid, "--allow-secrets", cwd=work).code == 0
    assert gs("redact", sid, cwd=work).code == 0
    result = doctor(gs, work, "--fix")
    assert result.code == 0
    tracking = f"refs/gitsess/remotes/origin/sessions/{sid}"
    assert f"advice   {sid}  tracking: {tracking} is left out on purpose" in result.out
    assert token not in json.dumps(log_lines(work, sid))


def test_partial_clone_whose_remote_is_gone_is_not_repaired(gs: Any, tmp_path: Path) -> None:
    src = make_repo(tmp_path / "src")
    git(src, "config", "uploadpack.allowFilter", "true")
    read = new_session(gs, src, "Read before", "seen here")
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{src}", str(clone))
    fetch = ["fetch", "-q", "--no-write-fetch-head", "origin", "+refs/sessions/*:refs/sessions/*"]
    git(clone, *fetch)
    assert contents(gs, clone, read) == ["seen here"]  # its blobs are fetched now
    late = new_session(gs, src, "Never read here", "not here")
    git(clone, *fetch)
    (tmp_path / "src").rename(tmp_path / "gone")

    result = doctor(gs, clone, "--fix", "--json")
    assert result.code == 1
    [problem] = errors(result)
    assert problem["session"] == late and "promisor remote" in problem["message"]
    assert problem["not_fixed"].startswith("its objects are on a remote git cannot reach now")
    assert git(clone, "rev-parse", f"refs/sessions/{late}") == git(
        tmp_path / "gone", "rev-parse", f"refs/sessions/{late}"
    )  # left as it was


# -- the repository -----------------------------------------------------------------------


def test_trash_with_a_pruned_log(gs: Any, tmp_path: Path) -> None:
    """The trash is a repository of its own (.git/gitsess/trash.git): a log gone from it
    is named; one gone from the repository itself is not a loss."""
    repo = make_repo(tmp_path / "broken")
    sid = new_session(gs, repo, "Deleted")
    keep = new_session(gs, repo, "Deleted too")
    gone = git(repo, "rev-parse", f"refs/sessions/{sid}")
    assert gs("delete", sid, cwd=repo).code == 0
    assert gs("delete", keep, cwd=repo).code == 0
    (repo / ".git" / "objects" / gone[:2] / gone[2:]).unlink()
    assert "trash" not in doctor(gs, repo).out
    trash = repo / ".git" / "gitsess" / "trash.git"
    (trash / "objects" / gone[:2] / gone[2:]).unlink()  # copied there as a loose object

    result = doctor(gs, repo, "--fix")
    assert result.code == 0  # a warning: nothing doctor can bring back
    assert "warning  -" in result.out
    assert "1 of the 2 log commits kept in the trash" in result.out


def test_installed_binary_reports_without_traceback(tmp_path: Path, gs: Any) -> None:
    repo = make_repo(tmp_path / "broken")
    sid = new_session(gs, repo, "Binary", "one")
    (repo / ".git" / "refs" / "sessions" / sid).write_text(ZERO_IN + "\n")
    (repo / ".git" / "logs" / "refs" / "sessions" / sid).unlink()
    result = run_cli(repo, "doctor", "--fix")
    assert result.code == 1
    assert "Traceback" not in result.err and result.err == ""
    assert "not fixed: no complete log commit in its reflog" in result.out
    outside = run_cli(tmp_path, "doctor")
    assert outside.code == 2 and len(outside.err.strip().splitlines()) == 1


def test_folding_duplicates_does_not_depend_on_their_order() -> None:
    from itertools import permutations

    from gitsess.merge import fold_duplicates

    versions = [
        {"id": "a", "ts": "2026-01-01T00:00:00Z", "type": "message", "content": "first"},
        {"id": "a", "ts": "2026-01-03T00:00:00Z", "type": "message", "content": "latest"},
        {"id": "a", "ts": "2026-01-02T00:00:00Z", "type": "message", "content": "middle"},
    ]
    other = {"id": "b", "ts": "2026-01-01T00:00:00Z", "type": "event", "name": "x"}
    results = set()
    for order in permutations(versions):
        folded, dropped, differing = fold_duplicates([*order, other, dict(other)])
        assert (dropped, differing) == (1, 2)
        results.add(json.dumps(folded, sort_keys=True))
    [only] = results
    winner = json.loads(only)[0]
    assert winner["content"] == "latest"
    assert [c["content"] for c in winner["meta"]["conflicts"]] == ["first", "middle"]


# -- incremental runs -------------------------------------------------------------------


VERIFIED = Path(".git") / "gitsess" / "doctor-verified"


def test_a_second_run_rechecks_what_changed_and_what_lies_outside_the_logs(
    gs: Any, repo: Path
) -> None:
    first = new_session(gs, repo, "First", "one")
    second = new_session(gs, repo, "Second", "two")
    assert run_cli(repo, "doctor").code == 0
    remembered = (repo / VERIFIED).read_text().splitlines()
    assert len(remembered) == 3  # the checks' version, then one line per log
    # A log changed since (another tool wrote a bad line): its new commit is checked.
    write_log(repo, second, lines=[*segment(repo, second), b"{not json\n"])
    # What no log commit holds is checked every time: the branch of a verified log.
    git(repo, "branch", "-D", meta(repo, first)["branch"])
    result = run_cli(repo, "doctor", "--json")
    assert result.code == 1
    found = {(f["session"], f["check"]) for f in json.loads(result.out)["findings"]}
    assert (second, "segments") in found and (first, "branch") in found
    fixed = run_cli(repo, "doctor", "--fix")
    assert fixed.code == 0, fixed.out
    assert run_cli(repo, "doctor").code == 0


def test_a_damaged_memory_is_ignored_and_rebuilt(gs: Any, repo: Path) -> None:
    sid = new_session(gs, repo, "Kept", "hello")
    path = repo / VERIFIED
    path.parent.mkdir(parents=True, exist_ok=True)
    # Garbage, and a forged verdict in an older checks' file: neither is trusted.
    for text in ("\x00\xff garbage\n", f"gitsess doctor verified 0\n{sid} {'0' * 40}\n"):
        path.write_bytes(text.encode("latin-1"))
        assert run_cli(repo, "doctor").code == 0
        assert path.read_text().splitlines()[1:] == [
            f"{sid} {git(repo, 'rev-parse', f'refs/sessions/{sid}')}"
        ]
    # A verdict remembered for a log that was verified, then broke on disk: --full sees it.
    segment_blob = git(repo, "rev-parse", f"refs/sessions/{sid}:log/00000000.jsonl")
    loose = repo / ".git" / "objects" / segment_blob[:2] / segment_blob[2:]
    saved = loose.read_bytes()
    loose.chmod(0o644)
    loose.unlink()
    try:
        result = run_cli(repo, "doctor", "--full", "--json")
        assert result.code == 1
        assert any("is missing" in f["message"] for f in json.loads(result.out)["findings"])
    finally:
        loose.write_bytes(saved)


def test_memory_that_cannot_be_written_is_done_without(gs: Any, repo: Path) -> None:
    new_session(gs, repo, "Unwritable", "hello")
    (repo / VERIFIED).mkdir(parents=True)  # in the way: neither read nor replaced
    for _ in range(2):
        result = run_cli(repo, "doctor")
        assert result.code == 0 and result.err == "", result.err
    assert (repo / VERIFIED).is_dir() and list((repo / VERIFIED.parent).glob("*.tmp")) == []
