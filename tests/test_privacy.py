"""What must stay on this machine stays: the trash, private sessions, a fork's private source.

Every test pushes to a real bare remote and then reads every object the remote holds.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import git, git_proc, log_lines, make_repo, meta, remote_objects, session_ids

AWS_KEY = "AKIAQX7H2PL9VR4MN8KW"
AWS_PAIR = (
    f"export AWS_ACCESS_KEY_ID={AWS_KEY}\n"
    "export AWS_SECRET_ACCESS_KEY=Qx7hT2pL9vR4mN8kW3jF6sD1aZ5cB0eY2uI7oP4t\n"
)
PRIVATE_WORDS = "Quarterly-layoff-plan-7f3k"  # no secret, only private
TRASH = Path(".git") / "gitsess" / "trash.git"


def bare_repo(path: Path) -> Path:
    git(path.parent, "init", "-q", "--bare", str(path))
    return path


def trash_git(repo: Path, *args: str) -> str:
    return git(repo, "--git-dir", str(repo / TRASH), *args)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "work")
    git(repo, "remote", "add", "origin", str(bare_repo(tmp_path / "origin.git")))
    return repo


def new(gs, repo: Path, title: str, *texts: str) -> str:
    sid = gs("new", title, "--no-checkout", "--json", cwd=repo).json()["id"]
    for text in texts:
        assert gs("record", sid, "--role", "user", text, cwd=repo).code == 0
    return str(sid)


# -- the trash --------------------------------------------------------------------------


def test_mirror_pushes_send_no_redacted_secret_and_no_deleted_log(
    gs, work: Path, tmp_path: Path
) -> None:
    leaky = new(gs, work, "Deploy", "Set up the deploy", AWS_PAIR, "Done.")
    before_redact = git(work, "rev-parse", f"refs/sessions/{leaky}")
    assert gs("redact", leaky, cwd=work).code == 0
    assert AWS_KEY not in json.dumps(log_lines(work, leaky))
    gone = new(gs, work, "Private thoughts", f"about the {PRIVATE_WORDS}")
    deleted_log = git(work, "rev-parse", f"refs/sessions/{gone}")
    assert gs("delete", gone, cwd=work).code == 0

    for name, push in (("mirror", ["--mirror", "{}"]), ("all", ["{}", "refs/*:refs/*"])):
        remote = bare_repo(tmp_path / f"{name}.git")
        done = git_proc(work, "push", *(arg.format(remote) for arg in push))
        assert done.returncode == 0, done.stderr
        sent = remote_objects(remote)
        assert git(remote, "rev-parse", f"refs/sessions/{leaky}") == git(
            work, "rev-parse", f"refs/sessions/{leaky}"
        )  # the redacted log went: the push did send sessions
        assert AWS_KEY.encode() not in sent
        assert PRIVATE_WORDS.encode() not in sent
        assert git_proc(remote, "cat-file", "-e", deleted_log).returncode != 0
        assert git_proc(remote, "cat-file", "-e", before_redact).returncode != 0

    # No ref of the repository reaches the replaced history or the deleted log any more.
    for old in (before_redact, deleted_log):
        assert git(work, "for-each-ref", "--contains", old) == ""
    # The trash keeps both, even once the repository's own gc has pruned them.
    git(work, "reflog", "expire", "--expire=now", "--all")
    git(work, "gc", "--quiet", "--prune=now")
    assert git_proc(work, "cat-file", "-e", deleted_log).returncode != 0
    kept = trash_git(work, "for-each-ref", "--format=%(objectname) %(refname)")
    assert f"{deleted_log} refs/deleted/{gone}/" in kept
    assert f"{before_redact} refs/redacted/{leaky}/" in kept
    listed = gs("undelete", "--json", cwd=work).json()
    assert listed == [{"id": gone, "log": deleted_log, "title": "Private thoughts"}]
    assert gs("undelete", gone, cwd=work).code == 0
    assert git(work, "rev-parse", f"refs/sessions/{gone}") == deleted_log
    assert PRIVATE_WORDS in json.dumps(log_lines(work, gone))
    assert git(work, "fsck", "--strict", "--no-progress") == ""
    assert gs("delete", gone, cwd=work).code == 0  # the same log deleted again: listed once
    assert gs("undelete", "--json", cwd=work).json() == listed


def test_an_old_trash_ref_still_undeletes_and_is_moved_out_of_reach(
    gs, work: Path, tmp_path: Path
) -> None:
    """An earlier gitsess kept deleted logs in the reflog of refs/gitsess/trash."""
    first = new(gs, work, "Old one", f"older {PRIVATE_WORDS}")
    second = new(gs, work, "Old two", "second")
    redacted = new(gs, work, "Old leak", AWS_PAIR)
    logs = {sid: git(work, "rev-parse", f"refs/sessions/{sid}") for sid in (first, second)}
    leak_log = git(work, "rev-parse", f"refs/sessions/{redacted}")
    # The old layout, written the way the old gitsess wrote it.
    trash = "refs/gitsess/trash"
    git(work, "update-ref", "--create-reflog", "-m", f"delete {first} Old one", trash, logs[first])
    git(work, "update-ref", "-d", f"refs/sessions/{first}")
    git(work, "update-ref", "-m", f"redact {redacted} Old leak", trash, leak_log)
    git(work, "update-ref", "-m", f"delete {second} Old two", trash, logs[second])
    git(work, "update-ref", "-d", f"refs/sessions/{second}")

    listed = gs("undelete", "--json", cwd=work).json()
    assert [row["id"] for row in listed] == [second, first]
    assert listed[1] == {"id": first, "log": logs[first], "title": "Old one"}
    assert gs("undelete", second, cwd=work).code == 0
    assert git(work, "rev-parse", f"refs/sessions/{second}") == logs[second]

    # The next write to the trash moves the old store and deletes the ref.
    third = new(gs, work, "New one", "third")
    assert gs("delete", third, cwd=work).code == 0
    assert git_proc(work, "rev-parse", "--verify", "--quiet", trash).returncode != 0
    assert git(work, "for-each-ref", "refs/gitsess/") == ""
    kept = trash_git(work, "for-each-ref", "--format=%(objectname) %(refname)")
    assert f"{logs[first]} refs/deleted/{first}/" in kept
    assert f"{leak_log} refs/redacted/{redacted}/" in kept
    assert [row["id"] for row in gs("undelete", "--json", cwd=work).json()] == [third, first]

    done = git_proc(work, "push", "--mirror", "origin")
    assert done.returncode == 0, done.stderr
    sent = remote_objects(tmp_path / "origin.git")
    assert PRIVATE_WORDS.encode() not in sent
    git(work, "reflog", "expire", "--expire=now", "--all")
    git(work, "gc", "--quiet", "--prune=now")
    assert gs("undelete", first, cwd=work).code == 0
    assert PRIVATE_WORDS in json.dumps(log_lines(work, first))


def test_doctor_moves_an_old_trash_ref(gs, work: Path) -> None:
    sid = new(gs, work, "Old", "one")
    log = git(work, "rev-parse", f"refs/sessions/{sid}")
    git(work, "update-ref", "--create-reflog", "-m", f"delete {sid} Old", "refs/gitsess/trash", log)
    git(work, "update-ref", "-d", f"refs/sessions/{sid}")
    found = gs("doctor", "--json", cwd=work).json()["findings"]
    (trash,) = [f for f in found if f["check"] == "trash"]
    assert "git push --mirror" in trash["message"] and trash["severity"] == "warning"
    fixed = gs("doctor", "--fix", "--json", cwd=work).json()["findings"]
    (trash,) = [f for f in fixed if f["check"] == "trash"]
    assert trash["fixed"].startswith("moved 1 into ")
    assert git(work, "for-each-ref", "refs/gitsess/") == ""
    assert [
        f for f in gs("doctor", "--json", cwd=work).json()["findings"] if f["check"] == "trash"
    ] == []
    assert gs("undelete", sid, cwd=work).code == 0
    assert session_ids(work) == [sid]


def test_doctor_names_logs_gone_from_the_trash(gs, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "pruned")
    gone, kept = new(gs, repo, "Gone"), new(gs, repo, "Kept")
    lost = git(repo, "rev-parse", f"refs/sessions/{gone}")
    assert gs("delete", gone, cwd=repo).code == 0
    assert gs("delete", kept, cwd=repo).code == 0
    (repo / TRASH / "objects" / lost[:2] / lost[2:]).unlink()  # copied as a loose object
    result = gs("doctor", cwd=repo)
    assert result.code == 0  # a warning: what is gone is gone
    assert "1 of the 2 log commits kept in the trash" in result.out
    listed = gs("undelete", "--json", cwd=repo).json()
    assert {row["id"] for row in listed} == {gone, kept}
    assert gs("undelete", kept, cwd=repo).code == 0


# -- the pre-push hook ------------------------------------------------------------------


def remote_refs(bare: Path) -> str:
    return git(bare, "for-each-ref", "--format=%(objectname) %(refname)")


@pytest.fixture
def hooked(gs, work: Path, tmp_path: Path) -> dict[str, str]:
    """Hooks installed; a shared session (pushed), a private one, the code on origin."""
    assert gs("hooks", "install", cwd=work).code == 0
    assert git_proc(work, "push", "-q", "origin", "main").returncode == 0
    shared = new(gs, work, "Shared work", "we may all see this")
    assert gs("push", shared, cwd=work).code == 0
    private = new(gs, work, "Private work", f"only me: {PRIVATE_WORDS}")
    return {"shared": shared, "private": private}


def test_pre_push_refuses_mirror_pushes_of_private_sessions_and_internal_refs(
    gs, work: Path, tmp_path: Path, hooked: dict[str, str]
) -> None:
    origin = tmp_path / "origin.git"
    before = remote_refs(origin)
    assert "refs/gitsess/remotes/" in git(work, "for-each-ref", "--format=%(refname)")
    for args in (["--mirror", "origin"], ["origin", "refs/*:refs/*"]):
        refused = git_proc(work, "push", *args)
        assert refused.returncode != 0
        assert f"refs/sessions/{hooked['private']}" in refused.stderr
        assert 'private session "Private work"' in refused.stderr
        assert "refs/gitsess/remotes/origin/sessions/" in refused.stderr
        assert "gitsess push SESSION" in refused.stderr
        assert "'^refs/gitsess/*'" in refused.stderr
        assert f"refs/sessions/{hooked['shared']} " not in refused.stderr
        assert remote_refs(origin) == before
        assert PRIVATE_WORDS.encode() not in remote_objects(origin)
    # Naming the private log, or sending it under another name, is refused too.
    for spec in (f"refs/sessions/{hooked['private']}", f"refs/sessions/{hooked['private']}:refs/x"):
        assert git_proc(work, "push", "origin", spec).returncode != 0
    assert remote_refs(origin) == before

    # What gitsess does not keep private goes as usual; so do deletions.
    (work / "code.txt").write_text("code\n")
    git(work, "add", "code.txt")
    git(work, "commit", "-q", "-m", "code")
    assert git_proc(work, "push", "-q", "origin", "main").returncode == 0
    assert (
        git_proc(work, "push", "-q", "origin", f"refs/sessions/{hooked['shared']}").returncode == 0
    )
    assert (
        git_proc(work, "push", "-q", "origin", f":refs/sessions/{hooked['shared']}").returncode == 0
    )
    # The negative refspecs the message suggests make a mirror that leaves them home.
    mirror = git_proc(
        work, "push", "origin", "refs/*:refs/*", "^refs/sessions/*", "^refs/gitsess/*"
    )
    assert mirror.returncode == 0, mirror.stderr

    # Sharing on purpose works, and then the log may go by plain git too.
    shared = gs("push", hooked["private"], cwd=work)
    assert shared.code == 0, shared.err
    assert meta(work, hooked["private"])["visibility"] == "shared"
    assert f"refs/sessions/{hooked['private']}" in remote_refs(origin)
    assert (
        git_proc(work, "push", "-q", "origin", f"refs/sessions/{hooked['private']}").returncode == 0
    )


def test_pre_push_keeps_the_previous_hook_and_never_blocks_on_its_own_failure(
    gs, work: Path, tmp_path: Path
) -> None:
    hooks = work / ".git" / "hooks"
    previous = hooks / "pre-push"
    previous.write_text(
        '#!/bin/sh\necho ran >> "$(git rev-parse --git-dir)/ran"\nexit "${REFUSE:-0}"\n'
    )
    previous.chmod(0o755)
    assert gs("hooks", "install", cwd=work).code == 0
    private = new(gs, work, "Private work", "mine")
    ran = work / ".git" / "ran"

    assert git_proc(work, "push", "-q", "origin", "main").returncode == 0
    assert ran.read_text() == "ran\n"
    refused_by_previous = subprocess.run(
        ["git", "push", "-q", "origin", "HEAD:refs/heads/other"],
        cwd=work,
        env={**__import__("os").environ, "REFUSE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused_by_previous.returncode != 0 and ran.read_text() == "ran\nran\n"
    mirror = git_proc(work, "push", "--mirror", "origin")
    assert mirror.returncode != 0 and f"refs/sessions/{private}" in mirror.stderr
    assert ran.read_text() == "ran\nran\nran\n"

    # gitsess failing (here: not gitsess at all) never blocks a push.
    env = {**__import__("os").environ, "GITSESS": "false"}
    broken = subprocess.run(
        ["git", "push", "-q", "origin", "HEAD:refs/heads/third"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 0, broken.stderr


# -- forks of private sessions ----------------------------------------------------------


def test_a_shared_fork_of_a_private_session_sends_nothing_past_the_fork_point(
    gs, work: Path, tmp_path: Path
) -> None:
    source = gs("new", "Source", "--no-checkout", "--json", cwd=work).json()["id"]
    later = ["LATER-MARKER-e4-9q2w", "LATER-MARKER-e5-7z1x"]
    batch = [
        {"id": "e1", "type": "message", "role": "user", "content": "first words"},
        {"id": "e2", "type": "message", "role": "assistant", "content": "second words"},
        {"id": "e3", "type": "message", "role": "user", "content": "third words"},
        {"id": "e4", "type": "message", "role": "assistant", "content": later[0]},
        {"id": "e5", "type": "message", "role": "user", "content": later[1]},
    ]
    lines = "".join(json.dumps(e) + "\n" for e in batch)
    assert gs("record", source, "--jsonl", "-", stdin=lines, cwd=work).code == 0
    renamed = "RENAMED-MARKER-title-4h8v"
    assert gs("rename", source, renamed, cwd=work).code == 0

    # Titled on its own: by default a fork is titled "<the source's title> (fork)", which
    # the fork's own session.json then says openly.
    fork = gs(
        "fork", source, "--at", "e2", "--title", "Fork", "--no-checkout", "--json", cwd=work
    ).json()
    assert [e["id"] for e in log_lines(work, fork["id"])] == ["e1", "e2"]
    # The fork's first log commit stands on a commit holding exactly e1 and e2.
    parent = git(work, "rev-parse", f"refs/sessions/{fork['id']}^")
    held = git(work, "cat-file", "blob", f"{parent}:log/00000000.jsonl").splitlines()
    assert [json.loads(line)["id"] for line in held] == ["e1", "e2"]
    assert json.loads(git(work, "cat-file", "blob", f"{parent}:session.json")) == {
        "format": 1,
        "id": source,
    }
    pushed = gs("push", fork["id"], cwd=work)
    assert pushed.code == 0, pushed.err
    origin = tmp_path / "origin.git"
    sent = remote_objects(origin)
    for marker in [*later, renamed]:
        assert marker.encode() not in sent, marker
    assert b"first words" in sent and b"second words" in sent
    assert b"third words" not in sent
    assert meta(work, source)["visibility"] == "private"  # the source itself stays home
    assert f"refs/sessions/{source}" not in remote_refs(origin)


def test_a_fork_at_a_recorded_point_shares_the_source_history(gs, work: Path) -> None:
    source = new(gs, work, "Source", "one", "two", "three")
    at_two = git(work, "rev-parse", f"refs/sessions/{source}~1")
    assert gs("rename", source, "Renamed later", cwd=work).code == 0
    two = log_lines(work, source)[1]["id"]
    fork = gs("fork", source, "--at", two, "--no-checkout", "--json", cwd=work).json()
    assert git(work, "rev-parse", f"refs/sessions/{fork['id']}^") == at_two
    # At the last entry: the commit that appended it, not the later rename.
    last = gs("fork", source, "--no-checkout", "--json", cwd=work).json()
    parent = git(work, "rev-parse", f"refs/sessions/{last['id']}^")
    assert parent == git(work, "rev-parse", f"refs/sessions/{source}~1")
    assert json.loads(git(work, "cat-file", "blob", f"{parent}:session.json"))["title"] == "Source"
