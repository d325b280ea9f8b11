"""Sharing when things go wrong, at scale, and with secrets in the log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import git, log_lines, make_repo, session_ids, trash_logs

# Realistic shapes; none of these credentials is real.
AWS_PAIR = (
    "export AWS_ACCESS_KEY_ID=AKIAQX7H2PL9VR4MN8KW\n"
    "export AWS_SECRET_ACCESS_KEY=Qx7hT2pL9vR4mN8kW3jF6sD1aZ5cB0eY2uI7oP4t\n"
)
GITHUB_TOKEN = "ghp_" + "R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s12"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n"
    "-----END RSA PRIVATE KEY-----\n"
)
ENTROPY_JSON = json.dumps(
    {"service": {"api_key": "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbA"}}
)


def remote_refs(bare: Path) -> str:
    return git(bare, "for-each-ref", "--format=%(refname)")


def remote_text(bare: Path) -> str:
    """Every blob the remote holds, as text."""
    objects = git(bare, "rev-list", "--objects", "--all").splitlines()
    blobs = []
    for line in objects:
        oid = line.split()[0]
        if git(bare, "cat-file", "-t", oid) == "blob":
            blobs.append(git(bare, "cat-file", "blob", oid))
    return "\n".join(blobs)


def test_push_rejected_by_a_pre_receive_hook(gs, work: Path, origin: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no sessions here' >&2\nexit 1\n")
    hook.chmod(0o755)
    sid = gs("new", "Refused", "--json", cwd=work).json()["id"]
    result = gs("push", sid, cwd=work)
    assert result.code == 1 and f"gitsess: {sid}: log not pushed: remote rejected" in result.err
    assert "refs/sessions" not in remote_refs(origin)


def test_remote_that_does_not_exist(gs, work: Path, tmp_path: Path) -> None:
    sid = gs("new", "Nowhere", "--json", cwd=work).json()["id"]
    unknown = gs("push", sid, "--remote", "nosuch", cwd=work)
    assert unknown.code == 2 and "no remote named 'nosuch'" in unknown.err
    missing = gs("push", sid, "--remote", str(tmp_path / "missing.git"), cwd=work)
    assert missing.code == 1 and len(missing.err.strip().splitlines()) == 1
    assert "push to" in missing.err and "Traceback" not in missing.err
    fetch_missing = gs("fetch", str(tmp_path / "missing.git"), cwd=work)
    assert fetch_missing.code == 1 and "fetch from" in fetch_missing.err


def test_default_remote_from_config(gs, work: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    git(work, "remote", "add", "team", str(other))
    git(work, "config", "gitsess.remote", "team")
    sid = gs("new", "To the team", "--json", cwd=work).json()["id"]
    assert gs("push", sid, cwd=work).code == 0
    assert f"refs/sessions/{sid}" in remote_refs(other)


def test_push_to_a_url(gs, work: Path, tmp_path: Path) -> None:
    target = tmp_path / "by-url.git"
    git(tmp_path, "init", "-q", "--bare", str(target))
    sid = gs("new", "By URL", "--json", cwd=work).json()["id"]
    assert gs("push", sid, "--remote", str(target), cwd=work).code == 0
    fresh = make_repo(tmp_path / "fresh")
    result = gs("fetch", str(target), "--json", cwd=fresh)
    assert result.code == 0 and result.json()["sessions"] == {sid: "new"}
    assert gs("resume", sid, cwd=fresh).code == 0


def test_session_whose_branch_was_deleted_on_the_remote(
    gs, work: Path, origin: Path, tmp_path: Path
) -> None:
    made = gs("new", "Gone branch", "--json", cwd=work).json()
    (work / "only-here.txt").write_text("x\n")
    git(work, "add", "only-here.txt")
    git(work, "commit", "-q", "-m", "work on the branch")
    gs("record", "--role", "user", "did work", cwd=work)
    gs("push", made["id"], cwd=work)
    git(work, "push", "-q", "origin", "--delete", made["branch"])
    other = tmp_path / "other"
    # --no-local: only reachable objects travel, as over a network (the branch's commit doesn't).
    git(tmp_path, "clone", "-q", "--no-local", str(origin), str(other))
    fetched = gs("fetch", "origin", made["id"], cwd=other)
    assert fetched.code == 0
    assert f"branch {made['branch']} is not on" in fetched.err
    resumed = gs("resume", made["id"], cwd=other)
    assert resumed.code == 0
    assert "was gone; re-created at its base" in resumed.out
    assert "later commits are not in this repository" in resumed.out
    assert git(other, "rev-parse", "HEAD") == made["base"]
    # Pushing again from the clone that has the branch restores it.
    assert gs("push", made["id"], cwd=work).code == 0
    assert f"refs/heads/{made['branch']}" in remote_refs(origin)


def test_fetch_one_session_out_of_500(gs, work: Path, origin: Path, tmp_path: Path) -> None:
    from gitsess.sessions import Sessions
    from gitsess.storage.repo import Repository

    sessions = Sessions(Repository(work))
    made = [sessions.new(f"Session {i}", checkout=False).session_id for i in range(500)]
    sessions.repo.close()
    for sid in made[:3]:
        gs("record", sid, "--role", "user", f"in {sid}", cwd=work)
    git(
        work, "push", "-q", "origin", "refs/sessions/*:refs/sessions/*", "refs/heads/*:refs/heads/*"
    )
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    wanted = made[1]
    result = gs("fetch", "origin", wanted[:6], "--json", cwd=other)
    assert result.code == 0, result.err
    assert result.json()["sessions"] == {wanted: "new"}
    assert session_ids(other) == [wanted]
    tracking = git(other, "for-each-ref", "--format=%(refname)", "refs/gitsess/remotes/")
    assert tracking.splitlines() == [f"refs/gitsess/remotes/origin/sessions/{wanted}"]
    assert [e["content"] for e in log_lines(other, wanted)] == [f"in {wanted}"]
    everything = gs("fetch", "--json", cwd=other).json()["sessions"]
    assert len(everything) == 500 and sorted(session_ids(other)) == sorted(made)


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (
            {"type": "tool_result", "call_id": "c1", "output": "$ env\n" + AWS_PAIR},
            "AWS Access Key",
        ),
        (
            {"type": "message", "role": "user", "content": f"use {GITHUB_TOKEN} for the API"},
            "GitHub Token",
        ),
        (
            {
                "type": "tool_call",
                "name": "Bash",
                "call_id": "c2",
                "input": {
                    "command": f"curl -H 'Authorization: Bearer {SLACK_TOKEN}' https://slack"
                },
            },
            "Slack Token",
        ),
        (
            {"type": "tool_result", "call_id": "c3", "output": "$ cat id_rsa\n" + PRIVATE_KEY},
            "Private Key",
        ),
        (
            {"type": "tool_result", "call_id": "c4", "output": ENTROPY_JSON},
            "Base64 High Entropy String",
        ),
    ],
)
def test_secrets_block_the_push_until_redacted(
    gs, work: Path, origin: Path, entry: dict, kind: str
) -> None:
    sid = gs("new", "Leaky", "--json", cwd=work).json()["id"]
    gs("record", "--role", "user", "Set up the deploy", cwd=work)
    gs("record", "--jsonl", "-", stdin=json.dumps({"id": "leak-1", **entry}), cwd=work)
    gs("record", "--role", "assistant", "Done.", cwd=work)
    blocked = gs("push", sid, cwd=work)
    assert blocked.code == 1
    assert f"session {sid}" in blocked.err and kind in blocked.err and "leak-1" in blocked.err
    assert "refs/sessions" not in remote_refs(origin) and "session/" not in remote_refs(origin)
    as_json = gs("push", sid, "--json", cwd=work).json()
    assert as_json["blocked"][0]["session"] == sid and "leak-1" in as_json["blocked"][0]["entries"]

    before = git(work, "rev-parse", f"refs/sessions/{sid}")
    redacted = gs("redact", sid, cwd=work)
    assert redacted.code == 0 and "leak-1" in redacted.out
    leaked = next(e for e in log_lines(work, sid) if e["id"] == "leak-1")
    assert "[REDACTED:" in json.dumps(leaked)
    assert len(log_lines(work, sid)) == 3  # every entry is still there
    # The new history does not contain the old one; the old one is kept in the trash.
    assert git(work, "rev-list", "--count", f"refs/sessions/{sid}") == "1"
    assert before in trash_logs(work)
    pushed = gs("push", sid, cwd=work)
    assert pushed.code == 0, pushed.err
    text = remote_text(origin)
    for secret in (
        "AKIAQX7H2PL9VR4MN8KW",
        GITHUB_TOKEN,
        SLACK_TOKEN,
        "MIIEowIBAAKCAQEAu1SU1",
        "Zm9vYmFyYmF6cXV4MTIz",
    ):
        assert secret not in text
    assert "[REDACTED:" in text


def test_clean_sessions_are_not_blocked_by_commit_ids(gs, work: Path, origin: Path) -> None:
    sid = gs("new", "Ordinary", "--json", cwd=work).json()["id"]
    log = git(work, "log", "--format=commit %H%n%s")
    gs(
        "record",
        "--jsonl",
        "-",
        cwd=work,
        stdin=json.dumps({"type": "tool_result", "call_id": "c", "output": f"$ git log\n{log}\n"}),
    )
    gs("record", "--role", "assistant", "The password field is validated now.", cwd=work)
    assert gs("push", sid, cwd=work).code == 0
    assert gs("redact", sid, cwd=work).out.startswith("Nothing to redact")


def test_false_positives_can_be_allowed(gs, work: Path, origin: Path) -> None:
    sid = gs("new", "Test fixtures", "--json", cwd=work).json()["id"]
    gs("record", "--role", "user", f"the fixture token is {GITHUB_TOKEN}", cwd=work)
    blocked = gs("push", sid, "--json", cwd=work).json()["blocked"][0]["entries"]
    hashes = {f["hash"] for found in blocked.values() for f in found}
    for secret_hash in hashes:
        git(work, "config", "--add", "gitsess.allowSecret", secret_hash)
    assert gs("push", sid, cwd=work).code == 0
    other = gs("new", "Another", "--json", cwd=work).json()["id"]
    gs("record", "--role", "user", SLACK_TOKEN, cwd=work)
    assert gs("push", other, cwd=work).code == 1
    assert gs("push", other, "--allow-secrets", cwd=work).code == 0
    assert f"refs/sessions/{other}" in remote_refs(origin)


def test_only_what_the_remote_lacks_is_scanned(gs, work: Path, origin: Path) -> None:
    sid = gs("new", "Scanned once", "--json", cwd=work).json()["id"]
    gs("record", "--role", "user", "hello", cwd=work)
    assert gs("push", sid, cwd=work).code == 0
    cache = Path(git(work, "rev-parse", "--git-common-dir"))
    cache = (work / cache if not cache.is_absolute() else cache) / "gitsess" / "clean-blobs"
    first = cache.read_text().split()
    gs("record", "--role", "user", "more", cwd=work)
    assert gs("push", sid, cwd=work).code == 0
    second = cache.read_text().split()
    assert set(first) < set(second) and len(second) - len(first) <= 2


def test_transfers_are_quiet_when_piped_and_show_progress_on_a_terminal(
    work: Path, origin: Path
) -> None:
    import os
    import pty
    import subprocess

    from .conftest import gitsess_exe, run_cli

    sid = json.loads(run_cli(work, "new", "Progress", "--json").out)["id"]
    piped = run_cli(work, "push", sid)
    assert piped.code == 0 and piped.err == ""
    run_cli(work, "record", "--role", "user", "-", stdin=os.urandom(300_000).hex().encode())
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [gitsess_exe(), "push", sid],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=secondary,
            check=False,
            timeout=60,
        )
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"Writing objects" in shown


def test_pushing_many_sessions_never_sends_the_private_ones(gs, work: Path, origin: Path) -> None:
    """Past 32 refs git gets one wildcard and exclusions (git matches explicit refspecs
    one by one against every ref); the private sessions must stay home all the same."""
    from gitsess.sessions import Sessions
    from gitsess.storage.repo import Repository

    sessions = Sessions(Repository(work))
    made = [sessions.new(f"Session {i}", checkout=False) for i in range(42)]
    private = {made[3].session_id, made[17].session_id}
    for state in made:
        if state.session_id not in private:
            sessions.set_visibility(state.session_id, "shared")
    sessions.repo.close()
    result = gs("push", "--all", "--json", cwd=work)
    assert result.code == 0, result.err
    pushed = set(result.json()["pushed"])
    assert pushed == {s.session_id for s in made} - private
    on_remote = remote_refs(origin).splitlines()
    assert sorted(r for r in on_remote if r.startswith("refs/sessions/")) == sorted(
        f"refs/sessions/{sid}" for sid in pushed
    )
    branches = {s.meta["branch"] for s in made if s.session_id not in private}
    assert {r[len("refs/heads/") :] for r in on_remote if r.startswith("refs/heads/session/")} == (
        branches
    )
    for state in made:  # not even sent: the private logs' objects never reached the remote
        if state.session_id in private:
            assert git(origin, "cat-file", "-t", state.oid, check=False) == ""
    # Pushed again: everything is up to date, and still nothing private leaves.
    again = gs("push", "--all", "--json", cwd=work).json()
    assert again["pushed"] == [] and len(again["up_to_date"]) == 40
    assert not any(sid in remote_refs(origin) for sid in private)
