"""`gitsess record`: appending entries, all or nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import git, log_lines


@pytest.fixture
def session(repo: Path, gs) -> str:
    return gs("new", "Recording", "--json").json()["id"]


def test_role_message_appends_one_entry_with_id_ts_and_head(repo: Path, gs, session: str) -> None:
    result = gs("record", "--role", "user", "Please add dark mode", "--json")
    assert result.code == 0, result.err
    assert result.json() == {
        "appended": 1,
        "log": git(repo, "rev-parse", f"refs/sessions/{session}"),
    }
    (entry,) = log_lines(repo, session)
    assert entry["type"] == "message" and entry["role"] == "user"
    assert entry["content"] == "Please add dark mode"
    assert entry["id"] and entry["ts"].endswith("Z")
    assert entry["head"] == git(repo, "rev-parse", "HEAD")


def test_head_follows_the_code(repo: Path, gs, session: str) -> None:
    gs("record", "--role", "user", "before")
    (repo / "f.txt").write_text("f\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", "work")
    gs("record", "--role", "assistant", "after")
    before, after = log_lines(repo, session)
    assert before["head"] == git(repo, "rev-parse", "HEAD~1")
    assert after["head"] == git(repo, "rev-parse", "HEAD")


def test_text_from_stdin(repo: Path, gs, session: str) -> None:
    assert gs("record", "--role", "assistant", "-", stdin="multi\nline ✓\n").code == 0
    assert log_lines(repo, session)[0]["content"] == "multi\nline ✓\n"


def test_jsonl_file_of_every_type(repo: Path, gs, session: str, tmp_path: Path) -> None:
    entries = [
        {"type": "message", "role": "user", "content": "hi"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "looking"}, {"type": "image", "source": "x"}],
        },
        {"type": "reasoning", "content": "think"},
        {"type": "tool_call", "name": "Bash", "input": {"command": "ls"}, "call_id": "c1"},
        {"type": "tool_result", "call_id": "c1", "output": "a\nb", "is_error": False},
        {"type": "summary", "content": "did things", "first": "e1", "last": "e2"},
        {"type": "commit", "sha": "a" * 40, "subject": "Add x"},
        {"type": "event", "name": "model_change", "data": {"model": "m2"}},
        {"type": "custom_thing", "whatever": [1, 2]},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n\n")
    result = gs("record", session, "--jsonl", str(path), "--json")
    assert result.code == 0, result.err
    assert result.json()["appended"] == len(entries)
    stored = log_lines(repo, session)
    assert [e["type"] for e in stored] == [e["type"] for e in entries]
    assert stored[-1]["whatever"] == [1, 2]  # unknown types are kept as they are
    assert len({e["id"] for e in stored}) == len(entries)


def test_jsonl_from_stdin_keeps_supplied_ids_and_unknown_fields(
    repo: Path, gs, session: str
) -> None:
    line = {
        "id": "native-1",
        "ts": "2026-01-02T03:04:05+02:00",
        "type": "message",
        "role": "user",
        "content": "x",
        "x-extra": {"nested": True},
    }
    assert gs("record", "--jsonl", "-", stdin=json.dumps(line) + "\n").code == 0
    (entry,) = log_lines(repo, session)
    assert entry["id"] == "native-1"
    assert entry["ts"] == "2026-01-02T01:04:05.000Z"  # RFC 3339 in UTC
    assert entry["x-extra"] == {"nested": True}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type":"message","role":"user","content":"ok"}\nnot json\n', "line 2: not JSON"),
        ('{"type":"message","role":"user","content":"ok"}\n[1,2]\n', "line 2: an entry must be"),
        (
            '{"type":"message","role":"user","content":"ok"}\n{"role":"user"}\n',
            "line 2: the entry has no 'type'",
        ),
        ('{"type":"message","role":"robot","content":"x"}\n', "line 1: message entry"),
        ('{"type":"tool_call","name":"x"}\n', "line 1: tool_call entry"),
        ('{"type":"message","role":"user","content":"x","ts":"yesterday"}\n', "line 1: invalid ts"),
        ('{"type":"message","role":"user","content":"x","id":"has space"}\n', "line 1: invalid id"),
        (
            '{"type":"event","name":"a","id":"d"}\n{"type":"event","name":"b","id":"d"}\n',
            "line 2: id 'd' repeats line 1",
        ),
    ],
)
def test_a_bad_line_appends_nothing_and_names_the_line(
    repo: Path, gs, session: str, content: str, message: str
) -> None:
    before = git(repo, "rev-parse", f"refs/sessions/{session}")
    result = gs("record", "--jsonl", "-", stdin=content)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert git(repo, "rev-parse", f"refs/sessions/{session}") == before


def test_non_utf8_input_is_rejected(repo: Path, gs, session: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        b'{"type":"message","role":"user","content":"ok"}\n'
        b'{"type":"message","role":"user","content":"caf\xe9"}\n'
    )
    result = gs("record", "--jsonl", str(path))
    assert result.code == 2 and "line 2: not valid UTF-8" in result.err
    assert log_lines(repo, session) == []


def test_an_id_already_in_the_log_is_rejected(repo: Path, gs, session: str) -> None:
    gs("record", "--jsonl", "-", stdin='{"id":"dup","type":"event","name":"a"}\n')
    result = gs("record", "--jsonl", "-", stdin='{"id":"dup","type":"event","name":"b"}\n')
    assert result.code == 2 and "already in the session" in result.err
    assert [e["name"] for e in log_lines(repo, session)] == ["a"]


def test_missing_file_is_bad_input(repo: Path, gs, session: str) -> None:
    result = gs("record", "--jsonl", "/no/such/file.jsonl")
    assert result.code == 2 and "no such file" in result.err


def test_record_needs_a_current_session_or_a_name(repo: Path, gs, session: str) -> None:
    git(repo, "switch", "-q", "main")
    result = gs("record", "--role", "user", "hello")
    assert result.code == 2 and "no current session" in result.err
    assert gs("record", session, "--role", "user", "hello").code == 0
    assert len(log_lines(repo, session)) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("record", "--role", "user"),
        ("record", "hello"),
        ("record", "--role", "user", "a", "b", "c"),
        ("record", "--role", "bot", "x"),
        ("record", "--role", "user", "x", "--jsonl", "-"),
    ],
)
def test_usage_errors_exit_2_on_one_line(
    repo: Path, gs, session: str, args: tuple[str, ...]
) -> None:
    result = gs(*args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and result.err.startswith("gitsess:")


def test_show_renders_conversation_with_folded_tools(repo: Path, gs, session: str) -> None:
    lines = [
        {"type": "message", "role": "user", "content": "List the files"},
        {"type": "tool_call", "name": "Bash", "input": {"command": "ls -la"}, "call_id": "c1"},
        {"type": "tool_result", "call_id": "c1", "output": "one\ntwo\nthree\nfour"},
        {"type": "message", "role": "assistant", "content": "There are four files."},
    ]
    gs("record", "--jsonl", "-", stdin="\n".join(json.dumps(x) for x in lines))
    shown = gs("show", session)
    assert shown.code == 0
    text = shown.out
    assert "List the files" in text and "There are four files." in text
    assert 'Bash {"command": "ls -la"}' in text
    assert "one two three four  (4 lines)" in text  # folded to a single line
    assert "\nfour\n" not in text
    doc = gs("show", session, "--json").json()
    assert doc["session"]["entries"] == 4 and doc["session"]["id"] == session
    assert [e["type"] for e in doc["entries"]] == [x["type"] for x in lines]


def test_record_role_fast_path_matches_the_full_cli(repo: Path, gs) -> None:
    """`record [SESSION] --role ROLE TEXT [--json]` skips click; `--debug` goes through it."""
    made = gs("new", "Fast", "--json").json()
    forms = [
        ["--role", "user", "one"],
        [made["id"], "--role", "assistant", "two"],
        ["--role", "system", "three", "--json"],
        [made["id"][:5], "--role", "user", "-"],
    ]
    for form in forms:
        fast = gs("record", *form, stdin="from stdin")
        full = gs("--debug", "record", *form, stdin="from stdin")
        assert fast.code == full.code == 0, (fast.err, full.err)
        if "--json" in form:
            assert fast.json()["appended"] == full.json()["appended"] == 1
        else:
            assert fast.out == full.out == f"Appended 1 entry to {made['id']}.\n"
    contents = [e["content"] for e in gs("show", made["id"], "--json").json()["entries"]]
    assert contents == ["one", "one", "two", "two", "three", "three", "from stdin", "from stdin"]
    for bad in (["--role", "robot", "x"], ["--role", "user"], ["a", "b", "--role", "user", "c"]):
        assert gs("record", *bad).code == 2  # click's usage errors, as before
    assert gs("record", "nosuch", "--role", "user", "x").code == 2


def test_record_jsonl_fast_path_matches_the_full_cli(repo: Path, gs, tmp_path: Path) -> None:
    """`record [SESSION] --jsonl FILE [--json]` (FILE `-`: stdin) skips click too; `--debug`
    goes through it: the same output, the same errors, the same entries."""
    made = gs("new", "Batch", "--json").json()
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"type": "message", "role": "user", "content": "a"}\n\n'
        '{"type": "event", "name": "x", "data": {"n": 1}}\n'
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "message", "role": "user", "content": "a"}\n{"type": \n')
    invalid = tmp_path / "invalid.jsonl"
    invalid.write_text('{"type": "message", "role": "robot", "content": 1}\n')
    forms = [
        ["--jsonl", str(good)],
        [made["id"][:5], "--jsonl", str(good), "--json"],
        ["--jsonl", "-"],
        ["--jsonl", str(bad)],
        ["--jsonl", str(invalid)],
        ["--jsonl", str(tmp_path / "nosuch")],
        ["nosuch", "--jsonl", str(good)],
        ["--jsonl", str(good), made["id"], "extra"],
    ]
    stdin = good.read_text()
    for form in forms:
        fast = gs("record", *form, stdin=stdin)
        full = gs("--debug", "record", *form, stdin=stdin)
        assert (fast.code, fast.err) == (full.code, full.err), form
        if "--json" in form:
            assert fast.json()["appended"] == full.json()["appended"] == 2
            assert fast.json()["log"] != full.json()["log"]  # each appended its own
        else:
            assert fast.out == full.out, form
    assert [gs("record", *form).code for form in forms[3:]] == [2, 2, 2, 2, 2]
    # The plain form really goes without click.
    probe = (
        "import sys; from gitsess.__main__ import main; sys.argv = ['gitsess', *sys.argv[1:]]\n"
        "code = main(); print('click' in sys.modules); sys.exit(code)"
    )
    argv = [sys.executable, "-c", probe, "record", "--jsonl", str(good)]
    proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "False"
    kinds = [e["type"] for e in gs("show", made["id"], "--json").json()["entries"]]
    assert kinds == ["message", "event"] * 7
