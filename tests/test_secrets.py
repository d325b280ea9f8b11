"""Secrets never leave: every token format, in every place a session can hold it.

Every token here is built at run time from a prefix and filler: format-valid, obviously
fake, and never written out whole in the repository (other scanners stay quiet on it).
Each case pushes to a real bare remote, is blocked, is redacted, pushes, and then no
object and no ref on the remote holds the secret.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitsess import secrets

from .conftest import CORPUS, git, log_lines, meta, remote_objects

ALNUM = "Fak3T0kenN0tRea1Xq9y8W7v6u5"
HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
UPPER = "FAKE0TOKEN1NOT2REAL3X9"
LETTERS = "FakeTokenNotRealXqywvu"
B64 = "Fak3/T0ken+N0tRea1Xq9y8W7v6u5"


def fill(length: int, chars: str = ALNUM) -> str:
    return (chars * (length // len(chars) + 1))[:length]


def jwt() -> str:
    def part(value: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': 'fake-user'})}.{fill(43)}"


# (id, the text an agent saw, the secret that must not reach the remote, the kinds that
# may report it). Free text, not quoted values: the way tokens appear in prompts and output.
FORMATS: list[tuple[str, str, str, set[str]]] = []


def _format(name: str, secret: str, kinds: set[str], text: str = "") -> None:
    FORMATS.append((name, text or f"use {secret} for the deploy", secret, kinds))


for _prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"):
    _format(f"github-{_prefix[:3]}", _prefix + fill(36), {"GitHub Token"})
_format("github-pat", "github_pat_" + fill(82, ALNUM + "_"), {"GitHub Fine-Grained Token"})
_format("openai-proj", "sk-proj-" + fill(48, ALNUM + "_-"), {"OpenAI API Key"})
_format("openai-legacy", "sk-" + fill(48), {"OpenAI API Key"})
_format("anthropic", "sk-ant-api03-" + fill(93, ALNUM + "_-") + "AA", {"Anthropic API Key"})
_format("google", "AIza" + fill(35), {"Google API Key"})
_aws_id = "AKIA" + fill(16, UPPER)
_aws_secret = fill(40, B64)
_format(
    "aws-pair",
    _aws_secret,
    {"AWS Secret Access Key"},
    f"$ cat credentials.csv\nUser,{_aws_id},{_aws_secret}\n",
)
_format(
    "aws-pair-lines",
    _aws_secret,
    {"AWS Secret Access Key"},
    f"$ aws configure get aws_access_key_id\n{_aws_id}\n"
    f"$ aws configure get aws_secret_access_key\n{_aws_secret}\n",
)
_format("aws-access-key", _aws_id, {"AWS Access Key"})
_format(
    "export-token",
    "Fq8" + fill(21),
    {"Secret Assignment"},
    f"export DEPLOY_TOKEN={'Fq8' + fill(21)}",
)
_format(
    "colon-secret", "Zr5" + fill(25), {"Secret Assignment"}, f"CLIENT_SECRET: {'Zr5' + fill(25)}"
)
_format("env-key", "Kp2" + fill(29), {"Secret Assignment"}, f"STRIPE_API_KEY={'Kp2' + fill(29)}")
_format("posthog", "phc_" + fill(43), {"PostHog Key"})
_format("slack-bot", "xoxb-123456789012-1234567890123-" + fill(24).lower(), {"Slack Token"})
_format(
    "slack-webhook",
    "https://hooks.slack.com/services/T" + fill(8, UPPER) + "/B" + fill(8, UPPER) + "/" + fill(24),
    {"Slack Token"},
)
_format(
    "slack-app",
    "xapp-1-A" + fill(10, UPPER) + "-1234567890123-" + fill(64, HEX),
    {"Slack App Token"},
)
_format("stripe-live", "sk_live_" + fill(24), {"Stripe Access Key", "Stripe Key"})
_format("stripe-restricted", "rk_live_" + fill(30), {"Stripe Access Key", "Stripe Key"})
_format("gitlab", "glpat-" + fill(20), {"GitLab Token"})
_format("npm", "npm_" + fill(36), {"npm Token"})
_format("pypi", "pypi-AgEIcHlwaS5vcmc" + fill(70), {"PyPI Token"})
_format("huggingface", "hf_" + fill(34, LETTERS), {"Hugging Face Token"})
_format("sendgrid", "SG." + fill(22) + "." + fill(43), {"SendGrid API Key"})
_format("twilio", "SK" + fill(32, HEX), {"Twilio API Key"})
_format("shopify", "shpat_" + fill(32, HEX), {"Shopify Token"})
_format("digitalocean", "dop_v1_" + fill(64, HEX), {"DigitalOcean Token"})
_format("doppler", "dp.pt." + fill(43), {"Doppler Token"})
_format("databricks", "dapi" + fill(32, HEX), {"Databricks Token"})
_format("linear", "lin_api_" + fill(40), {"Linear API Key"})
_format("postman", "PMAK-" + fill(24, HEX) + "-" + fill(34, HEX), {"Postman API Key"})
_format("grafana-sa", "glsa_" + fill(32) + "_" + fill(8, HEX), {"Grafana Token"})
_format("grafana-cloud", "glc_" + fill(48), {"Grafana Token"})
_format("jwt", jwt(), {"JSON Web Token"})
_format("azure-client-secret", "Fak8Q~" + fill(34), {"Azure AD Client Secret"})
_format("atlassian", "ATATT3" + fill(186), {"Atlassian API Token"})
_format("groq", "gsk_" + fill(52), {"Groq API Key"})
_format("vault", "hvs." + fill(90), {"HashiCorp Vault Token"})
_format(
    "age", "AGE-SECRET-KEY-1" + fill(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), {"Age Secret Key"}
)
_format("pulumi", "pul-" + fill(40, HEX), {"Pulumi Token"})
_format("sentry", "sntrys_" + fill(60), {"Sentry Token"})

GITHUB = "ghp_" + fill(36)


def remote_bytes(bare: Path) -> bytes:
    """Every object the remote holds, raw, and the names of its refs."""
    return remote_objects(bare) + git(bare, "for-each-ref", "--format=%(refname)").encode()


def assert_never_sent(bare: Path, secret: str) -> None:
    data = remote_bytes(bare)
    assert secret.encode() not in data
    assert secret.lower().encode() not in data.lower()  # nor as a branch slug
    assert b"refs/sessions/" in data  # the push did happen


def blocked_kinds(result: Any) -> dict[str, set[str]]:
    report = result.json()
    return {
        entry: {f["type"] for f in found}
        for b in report["blocked"]
        for entry, found in b["entries"].items()
    }


def push_redact_push(gs: Any, work: Path, origin: Path, sid: str, secret: str) -> Any:
    """Blocked, redacted, pushed, and the remote never saw ``secret``: the redact output."""
    blocked = gs("push", sid, "--json", cwd=work)
    assert blocked.code == 1, blocked.out
    assert blocked_kinds(blocked), blocked.out
    assert git(origin, "for-each-ref", "refs/sessions/") == ""
    redacted = gs("redact", sid, cwd=work)
    assert redacted.code == 0, redacted.err
    assert "Nothing to redact" not in redacted.out
    pushed = gs("push", sid, cwd=work)
    assert pushed.code == 0, pushed.err
    assert_never_sent(origin, secret)
    return redacted


def record(gs: Any, work: Path, *entries: dict[str, Any]) -> None:
    lines = "".join(json.dumps(e) + "\n" for e in entries)
    result = gs("record", "--jsonl", "-", stdin=lines, cwd=work)
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    ("text", "secret", "kinds"),
    [pytest.param(text, secret, kinds, id=name) for name, text, secret, kinds in FORMATS],
)
def test_every_token_format_is_blocked_and_redacted(
    gs: Any, work: Path, origin: Path, text: str, secret: str, kinds: set[str]
) -> None:
    sid = gs("new", "Deploy", "--json", cwd=work).json()["id"]
    record(gs, work, {"id": "leak", "type": "tool_result", "call_id": "c1", "output": text})
    blocked = gs("push", sid, "--json", cwd=work)
    assert blocked.code == 1
    found = blocked_kinds(blocked)
    assert kinds & found.get("leak", set()), found
    redacted = gs("redact", sid, cwd=work)
    assert redacted.code == 0 and "entry leak (output)" in redacted.out, redacted.out
    pushed = gs("push", sid, cwd=work)
    assert pushed.code == 0, pushed.err
    assert_never_sent(origin, secret)
    output = next(e for e in log_lines(work, sid) if e["id"] == "leak")["output"]
    assert "[REDACTED:" in output


# Where a token can sit in an entry: (id, the entry, the field redact names).
PLACEMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("message", {"type": "message", "role": "user", "content": f"deploy with {GITHUB}"}, "content"),
    (
        "content-part",
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": f"t={GITHUB}"}],
        },
        "content[1].text",
    ),
    (
        "tool-input",
        {
            "type": "tool_call",
            "name": "Bash",
            "call_id": "c1",
            "input": {"command": f"curl -H 'Authorization: token {GITHUB}' https://api.github.com"},
        },
        "input.command",
    ),
    (
        "tool-output",
        {
            "type": "tool_result",
            "call_id": "c1",
            "output": f"$ env\nHOME=/home/ada\nGH_TOKEN={GITHUB}\nSHELL=/bin/sh\n",
        },
        "output",
    ),
    ("reasoning", {"type": "reasoning", "content": f"The user's token is {GITHUB}."}, "content"),
    (
        "meta",
        {"type": "message", "role": "user", "content": "hi", "meta": {"env": {"GH": GITHUB}}},
        "meta.env.GH",
    ),
    (
        "dict-key",
        {"type": "tool_result", "call_id": "c1", "output": {GITHUB: "scopes: repo"}},
        "output.(key)",
    ),
    (
        "deep-list",
        {"type": "tool_result", "call_id": "c1", "output": [[[[[{"v": [f"x {GITHUB}"]}]]]]]},
        "output[0][0][0][0][0].v[0]",
    ),
]


@pytest.mark.parametrize(
    ("entry", "field"), [pytest.param(e, f, id=name) for name, e, f in PLACEMENTS]
)
def test_every_placement_in_an_entry_is_found(
    gs: Any, work: Path, origin: Path, entry: dict[str, Any], field: str
) -> None:
    sid = gs("new", "Placement", "--json", cwd=work).json()["id"]
    record(gs, work, {"id": "leak", **entry}, {"type": "message", "role": "user", "content": "ok"})
    redacted = push_redact_push(gs, work, origin, sid, GITHUB)
    assert f"Redacted GitHub Token in entry leak ({field})." in redacted.out
    assert len(log_lines(work, sid)) == 2


@pytest.mark.parametrize("secret", [GITHUB, "xoxb-123456789012-1234567890123-" + fill(24)])
def test_a_secret_in_the_title_is_redacted_and_the_branch_renamed(
    gs: Any, work: Path, origin: Path, secret: str
) -> None:
    """capture titles sessions from the first prompt: a token in it is in the branch too."""
    sid = gs("new", f"deploy with {secret} today", "--json", cwd=work).json()["id"]
    old_branch = git(work, "branch", "--show-current")
    slug = secret.lower().replace("_", "-")[:20]
    assert slug in old_branch
    git(work, "config", f"branch.{old_branch}.remote", "origin")
    gs("record", "--role", "user", "hello", cwd=work)
    redacted = push_redact_push(gs, work, origin, sid, secret)
    assert "in session.json (title)" in redacted.out
    data = meta(work, sid)
    assert "[REDACTED:" in data["title"] and secret not in data["title"]
    new_branch = data["branch"]
    assert new_branch.startswith("session/") and new_branch.endswith(f"-{sid}")
    assert f"Renamed the branch to {new_branch}" in redacted.out
    assert slug not in new_branch
    assert slug.encode() not in remote_bytes(origin)
    # Still on the session's branch, the old name gone, its settings carried over.
    assert git(work, "branch", "--show-current") == new_branch
    assert git(work, "branch", "--list", old_branch) == ""
    assert git(work, "config", f"branch.{new_branch}.remote") == "origin"
    resumed = gs("resume", sid, cwd=work)
    assert resumed.code == 0, resumed.err
    status = gs("status", "--json", cwd=work).json()
    assert json.dumps(status).count(sid) >= 1
    assert f"refs/heads/{new_branch}" in git(origin, "for-each-ref", "--format=%(refname)")


def test_a_secret_in_the_title_of_a_session_not_checked_out(
    gs: Any, work: Path, origin: Path
) -> None:
    sid = gs("new", f"use {GITHUB}", "--no-checkout", "--json", cwd=work).json()["id"]
    old_branch = meta(work, sid)["branch"]
    redacted = push_redact_push(gs, work, origin, sid, GITHUB)
    assert git(work, "branch", "--show-current") == "main"
    assert git(work, "branch", "--list", old_branch) == ""
    assert git(work, "rev-parse", meta(work, sid)["branch"]) == git(work, "rev-parse", "main")
    assert "Renamed the branch" in redacted.out


def test_redact_keeps_every_structural_field(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", f"token {GITHUB}", "--json", cwd=work).json()["id"]
    record(gs, work, {"id": "leak", "type": "message", "role": "user", "content": GITHUB})
    before, entry_before = meta(work, sid), log_lines(work, sid)[0]
    push_redact_push(gs, work, origin, sid, GITHUB)
    after, entry_after = meta(work, sid), log_lines(work, sid)[0]
    # ("updated" and "visibility" change with the push, which shares the session.)
    for key in ("id", "base", "created", "format", "status", "parent", "author", "agent"):
        assert after[key] == before[key], key
    for key in ("id", "ts", "type", "role", "head"):
        assert entry_after.get(key) == entry_before.get(key), key


def test_dotenv_inside_a_json_string_is_redacted_in_one_pass(
    gs: Any, work: Path, origin: Path
) -> None:
    secret = "Dj4" + fill(40)
    document = json.dumps({"path": ".env", "content": f"A=1\nSECRET_KEY={secret}\nB=2\n"})
    sid = gs("new", "Read the env", "--json", cwd=work).json()["id"]
    record(gs, work, {"id": "leak", "type": "tool_result", "call_id": "c", "output": document})
    push_redact_push(gs, work, origin, sid, secret)  # one redact was enough
    output = json.loads(next(e for e in log_lines(work, sid) if e["id"] == "leak")["output"])
    lines = output["content"].splitlines()
    assert lines[0] == "A=1" and lines[2] == "B=2"
    assert lines[1].startswith("SECRET_KEY=[REDACTED:")
    assert output["path"] == ".env"


def test_a_codex_repository_url_in_session_json_never_leaves(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    """An imported Codex session keeps session_meta's git info in session.json's source."""
    url = f"https://x-access-token:{GITHUB}@github.com/acme/app.git"
    rollout = tmp_path / "rollout-2026-01-01T00-00-00-0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee.jsonl"
    lines = [
        {
            "timestamp": "2026-01-01T00:00:00.000Z",
            "type": "session_meta",
            "payload": {
                "id": "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee",
                "timestamp": "2026-01-01T00:00:00.000Z",
                "cwd": "/tmp/app",
                "originator": "codex_cli_rs",
                "cli_version": "0.125.0",
                "git": {"commit_hash": "a" * 40, "branch": "main", "repository_url": url},
            },
        },
        {
            "timestamp": "2026-01-01T00:00:01.000Z",
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "fix the build"}],
            },
        },
    ]
    rollout.write_text("".join(json.dumps(line) + "\n" for line in lines))
    sid = gs("import", str(rollout), "--no-checkout", "--json", cwd=work).json()["id"]
    assert GITHUB in json.dumps(meta(work, sid))
    redacted = push_redact_push(gs, work, origin, sid, GITHUB)
    assert "source.git.repository_url" in redacted.out
    assert meta(work, sid)["source"]["git"]["commit_hash"] == "a" * 40


def write_log(
    work: Path, sid: str, line: bytes | None = None, meta_bytes: bytes | None = None
) -> None:
    """Append a raw line to the log, or replace session.json, with git itself: what a
    teammate's tool (or a hostile one) could have pushed, past gitsess's checks."""
    ref = f"refs/sessions/{sid}"
    tip = git(work, "rev-parse", ref)
    env = {**os.environ, "GIT_INDEX_FILE": str(work / ".git" / "test-index")}

    def run(*args: str, data: bytes | None = None) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=work, env=env, input=data, capture_output=True, check=True
        )
        return proc.stdout.decode().strip()

    run("read-tree", tip)
    if line is not None:
        names = git(work, "ls-tree", "--name-only", tip, "log/").splitlines()
        last = names[-1] if names else "log/00000000.jsonl"
        data = subprocess.run(
            ["git", "cat-file", "blob", f"{tip}:{last}"], cwd=work, capture_output=True
        ).stdout
        blob = run("hash-object", "-w", "--stdin", data=data + line + b"\n")
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{last}")
    if meta_bytes is not None:
        blob = run("hash-object", "-w", "--stdin", data=meta_bytes)
        run("update-index", "--cacheinfo", f"100644,{blob},session.json")
    tree = run("write-tree")
    commit = run("commit-tree", tree, "-p", tip, "-m", f"append 1 entry\n\nSession: {sid}")
    git(work, "update-ref", ref, commit, tip)
    os.unlink(work / ".git" / "test-index")


def test_a_tag_and_a_nested_session_json_field_are_found(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", "Tagged", "--json", cwd=work).json()["id"]
    data = meta(work, sid)
    data["tags"] = ["deploy", f"key-{GITHUB}"]
    data["extra"] = {"notes": [{"text": f"token {GITHUB}"}]}
    write_log(work, sid, meta_bytes=json.dumps(data, indent=2).encode())
    redacted = push_redact_push(gs, work, origin, sid, GITHUB)
    assert "in session.json (" in redacted.out
    assert "tags[1]" in redacted.out and "extra.notes[0].text" in redacted.out
    assert meta(work, sid)["tags"][0] == "deploy"


def test_json_nested_100000_deep_is_scanned_without_recursion_error(
    gs: Any, work: Path, origin: Path
) -> None:
    sid = gs("new", "Deep", "--json", cwd=work).json()["id"]
    depth = 100_000
    deep = '{"id":"deep","ts":"2026-01-01T00:00:00Z","type":"tool_result","output":'
    deep += "[" * depth + json.dumps(f"x {GITHUB}") + "]" * depth + "}"
    write_log(work, sid, line=deep.encode())
    blocked = gs("push", sid, cwd=work)
    assert blocked.code == 1 and "GitHub Token" in blocked.err
    assert "Traceback" not in blocked.err and "RecursionError" not in blocked.err
    redacted = gs("redact", sid, cwd=work)
    assert redacted.code == 0, redacted.err
    pushed = gs("push", sid, cwd=work)
    assert pushed.code == 0, pushed.err
    assert_never_sent(origin, GITHUB)


def test_json_nested_100000_deep_without_a_secret_pushes(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", "Deep and clean", "--json", cwd=work).json()["id"]
    deep = '{"id":"deep","ts":"2026-01-01T00:00:00Z","type":"tool_result","output":'
    deep += "[" * 100_000 + "1" + "]" * 100_000 + "}"
    write_log(work, sid, line=deep.encode())
    pushed = gs("push", sid, cwd=work)
    assert pushed.code == 0, pushed.err


def test_a_token_cannot_hide_in_a_structural_field(gs: Any, work: Path, origin: Path) -> None:
    """A value with an id's format is skipped only when it has no token prefix either."""
    sid = gs("new", "Ids", "--json", cwd=work).json()["id"]
    entry = {"id": "e1", "type": "message", "role": "user", "content": "hi"}
    record(gs, work, {**entry, "source": {"format": "claude-code", "id": GITHUB}})
    blocked = gs("push", sid, "--json", cwd=work)
    assert blocked.code == 1 and "GitHub Token" in blocked_kinds(blocked)["e1"]
    # redact never rewrites an id: it says so, and the push stays blocked.
    redacted = gs("redact", sid, cwd=work)
    assert redacted.code == 1
    assert "GitHub Token in e1 is in a field redact never rewrites" in redacted.err
    assert gs("push", sid, cwd=work).code == 1
    assert git(origin, "for-each-ref", "refs/sessions/") == ""


def test_a_structural_position_without_its_format_is_scanned(
    gs: Any, work: Path, origin: Path
) -> None:
    sid = gs("new", "Odd head", "--json", cwd=work).json()["id"]
    secret = "Hq7" + fill(30)
    record(
        gs,
        work,
        {
            "id": "e1",
            "type": "message",
            "role": "user",
            "content": "hi",
            "head": f"password={secret}",
        },
    )
    blocked = gs("push", sid, "--json", cwd=work)
    assert blocked.code == 1 and "e1" in blocked_kinds(blocked)


# Opaque provider fields as importers store them: random by design, not credentials.
SIGNATURE = "Ev" + fill(600, B64)
ENCRYPTED = "gAAAAA" + fill(800, B64)
REQUEST_ID = "req_011C" + fill(22)


def opaque_entries(secret_in_content: str = "") -> list[dict[str, Any]]:
    return [
        {
            "id": "think",
            "type": "reasoning",
            "content": f"Let me think. {secret_in_content}",
            "meta": {"block": {"signature": SIGNATURE}, "requestId": REQUEST_ID},
        },
        {
            "id": "hidden",
            "type": "reasoning",
            "content": "",
            "meta": {"block": {"type": "redacted_thinking", "data": ENCRYPTED}},
        },
        {
            "id": "codex",
            "type": "reasoning",
            "content": "plan",
            "meta": {"encrypted_content": ENCRYPTED},
        },
    ]


def test_opaque_provider_fields_are_not_findings(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", "Thinking", "--json", cwd=work).json()["id"]
    record(gs, work, *opaque_entries())
    pushed = gs("push", sid, cwd=work)
    assert pushed.code == 0, pushed.err


def test_the_same_values_elsewhere_are_still_scanned(gs: Any, work: Path, origin: Path) -> None:
    """Skipping is by exact path, not by key name: a `signature` anywhere else is scanned."""
    sid = gs("new", "Not opaque", "--json", cwd=work).json()["id"]
    record(
        gs,
        work,
        {"id": "e1", "type": "tool_result", "call_id": "c", "output": {"signature": GITHUB}},
    )
    assert gs("push", sid, cwd=work).code == 1


def test_redact_never_alters_opaque_fields(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", "Thinking", "--json", cwd=work).json()["id"]
    record(gs, work, *opaque_entries(GITHUB))
    push_redact_push(gs, work, origin, sid, GITHUB)
    entries = {e["id"]: e for e in log_lines(work, sid)}
    assert entries["think"]["meta"]["block"]["signature"] == SIGNATURE
    assert entries["think"]["meta"]["requestId"] == REQUEST_ID
    assert entries["hidden"]["meta"]["block"]["data"] == ENCRYPTED
    assert entries["codex"]["meta"]["encrypted_content"] == ENCRYPTED
    assert "[REDACTED:GitHub Token]" in entries["think"]["content"]


def test_entries_without_findings_keep_their_bytes(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", "Bytes", "--json", cwd=work).json()["id"]
    record(gs, work, {"id": "e1", "type": "message", "role": "user", "content": "caf\u00e9 \u2603"})
    record(gs, work, {"id": "leak", "type": "message", "role": "user", "content": GITHUB})
    first = git(work, "cat-file", "blob", f"refs/sessions/{sid}:log/00000000.jsonl").splitlines()[0]
    push_redact_push(gs, work, origin, sid, GITHUB)
    after = git(work, "cat-file", "blob", f"refs/sessions/{sid}:log/00000000.jsonl").splitlines()[0]
    assert after == first


def test_nothing_to_redact_only_when_nothing_is_written(gs: Any, work: Path) -> None:
    sid = gs("new", "Clean", "--json", cwd=work).json()["id"]
    gs("record", "--role", "user", "nothing secret here", cwd=work)
    tip = git(work, "rev-parse", f"refs/sessions/{sid}")
    result = gs("redact", sid, cwd=work)
    assert result.code == 0 and result.out.startswith("Nothing to redact")
    assert git(work, "rev-parse", f"refs/sessions/{sid}") == tip


CODE_LINES = [
    "      const apiKey = await clack.password({",
    "      env.apiKey = process.env.CODEMIE_API_KEY;",
    "    env.CODEMIE_API_KEY = apiKeyValue;",
    "      jwtToken: env.CODEMIE_JWT_TOKEN || undefined,",
    "      env.CODEMIE_API_KEY = 'proxy-handled';",
    "        apiKey: 'REDACTED_API_KEY',",
    "  litellmApiKey: string | undefined;",
    '    "validate:secrets": "node scripts/validate-secrets.js",',
    "export GITHUB_TOKEN=$(gh auth token)",
    "DB_PASSWORD=${DB_PASSWORD}",
    "api_key: <your-api-key>",
    '{"id":"toolu_bdrk_01HJA22cJkbnyh36WjEK1xxn","type":"tool_use"}',
]


def test_code_an_agent_reads_is_not_a_secret(gs: Any, work: Path, origin: Path) -> None:
    sid = gs("new", "Read code", "--json", cwd=work).json()["id"]
    output = "\n".join(CODE_LINES) + "\n"
    record(gs, work, {"id": "src", "type": "tool_result", "call_id": "c", "output": output})
    pushed = gs("push", sid, "--json", cwd=work)
    assert pushed.code == 0, pushed.out


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix in (".jsonl", ".json") and p.parent.name != "subagents"
    )


@pytest.mark.skipif(not corpus_files(), reason="no real-transcript corpus")
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_real_transcripts_push_without_allow_secrets(
    gs: Any, work: Path, origin: Path, path: Path
) -> None:
    imported = gs("import", str(path), "--no-checkout", "--json", cwd=work)
    assert imported.code == 0, imported.err
    sid = imported.json()["id"]
    pushed = gs("push", sid, "--json", cwd=work)
    assert pushed.code == 0, pushed.out
    assert f"refs/sessions/{sid}" in git(origin, "for-each-ref", "--format=%(refname)")


def test_a_branch_checked_out_in_another_worktree_is_kept_and_said_so(
    gs: Any, work: Path, origin: Path, tmp_path: Path
) -> None:
    sid = gs("new", f"use {GITHUB}", "--no-checkout", "--json", cwd=work).json()["id"]
    old_branch = meta(work, sid)["branch"]
    git(work, "worktree", "add", "-q", str(tmp_path / "elsewhere"), old_branch)
    redacted = gs("redact", sid, cwd=work)
    assert redacted.code == 0, redacted.err
    new_branch = meta(work, sid)["branch"]
    assert new_branch != old_branch and f"Renamed the branch to {new_branch}" in redacted.out
    assert "the old branch was kept" in redacted.err
    assert git(tmp_path / "elsewhere", "branch", "--show-current") == old_branch
    assert git(work, "rev-parse", new_branch) == git(work, "rev-parse", old_branch)


def test_a_secret_first_pushed_in_a_big_push_all_is_caught(
    gs: Any, work: Path, origin: Path
) -> None:
    """`push --all` finds what is new for all its sessions in one pass: a secret first
    pushed there, in a session's newest entry or only in its history (a title renamed
    since), still holds that session back, and only that one."""
    ids = [
        gs("new", f"bulk {n}", "--no-checkout", "--json", cwd=work).json()["id"] for n in range(40)
    ]
    assert gs("push", *ids, cwd=work).code == 0  # shared, and on the remote
    in_entry, in_history, clean = ids[5], ids[23], ids[31]
    assert gs("record", in_entry, "--role", "user", f"the token: {GITHUB}", cwd=work).code == 0
    assert gs("rename", in_history, f"deploy with {GITHUB}", cwd=work).code == 0
    assert gs("rename", in_history, "deploy", cwd=work).code == 0
    assert GITHUB not in json.dumps(meta(work, in_history))  # only its history holds it
    assert gs("record", clean, "--role", "user", "nothing to hide", cwd=work).code == 0
    pushed = gs("push", "--all", "--json", cwd=work)
    assert pushed.code == 1, pushed.out
    report = pushed.json()
    assert {b["session"] for b in report["blocked"]} == {in_entry, in_history}
    assert report["pushed"] == [clean]
    assert_never_sent(origin, GITHUB)
    assert "nothing to hide" in git(origin, "log", "-p", f"refs/sessions/{clean}")


def test_a_scan_split_across_processes_finds_what_one_pass_finds(
    gs: Any, work: Path, origin: Path
) -> None:
    """A large scan is split across one process per core: a secret in the first lines,
    in the last, and one repeated in both halves, are all found, each where it is."""
    assert secrets.PARALLEL_FROM < 2400
    google = "AIza" + fill(35)
    plants = {3: GITHUB, 1200: google, 2000: GITHUB, 2397: google}
    entries = [
        {"type": "message", "role": "user", "content": f"note {n}: {plants.get(n, 'fine')}"}
        for n in range(2400)
    ]
    sid = gs("new", "big scan", "--no-checkout", "--json", cwd=work).json()["id"]
    lines = "".join(json.dumps(e) + "\n" for e in entries)
    assert gs("record", sid, "--jsonl", "-", stdin=lines, cwd=work).code == 0
    planted = {e["id"]: plants[n] for n, e in enumerate(log_lines(work, sid)) if n in plants}
    blocked = gs("push", sid, "--json", cwd=work)
    assert blocked.code == 1, blocked.out
    kinds = blocked_kinds(blocked)
    assert set(kinds) == set(planted)
    for entry_id, secret in planted.items():
        assert kinds[entry_id] == ({"GitHub Token"} if secret == GITHUB else {"Google API Key"})
    assert git(origin, "for-each-ref", "refs/sessions/") == ""
