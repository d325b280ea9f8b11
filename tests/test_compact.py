"""`gitsess compact`: a summary entry appended, nothing removed; the summarizer command path
with real external processes; files and commits from every agent's tool calls."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import CORPUS, git, gitsess_exe, log_lines, run_cli

LONG_OTHER = "Please tidy the logging setup in the worker " + "and its handlers " * 40
LONG_FOCUS = "Now the database migrations: add a column for the theme " + "with a default " * 40

CONVERSATION: list[dict[str, Any]] = [
    {"type": "message", "role": "user", "content": "Add a dark mode toggle to the settings page"},
    {
        "type": "tool_call",
        "name": "Read",
        "input": {"file_path": "/w/src/app.css"},
        "call_id": "c1",
    },
    {"type": "tool_result", "call_id": "c1", "output": "body { color: black }"},
    {
        "type": "tool_call",
        "name": "Edit",
        "input": {"file_path": "/w/src/app.css", "old_string": "a", "new_string": "b"},
        "call_id": "c2",
    },
    {"type": "tool_result", "call_id": "c2", "output": "ok"},
    {
        "type": "tool_call",
        "name": "Write",
        "input": {"file_path": "/w/src/theme.ts"},
        "call_id": "c3",
    },
    {"type": "tool_result", "call_id": "c3", "output": "ok"},
    {
        "type": "tool_call",
        "name": "MultiEdit",
        "input": {"file_path": "/w/src/main.ts", "edits": []},
        "call_id": "c4",
    },
    {"type": "tool_result", "call_id": "c4", "output": "ok"},
    {
        "type": "tool_call",
        "name": "Edit",
        "input": {"file_path": "/w/src/broken.ts"},
        "call_id": "c5",
    },
    {"type": "tool_result", "call_id": "c5", "output": "no such file", "is_error": True},
    {
        "type": "tool_call",
        "name": "Bash",
        "input": {"command": "cat README.md | head -5"},
        "call_id": "c6",
    },
    {"type": "tool_result", "call_id": "c6", "output": "hello"},
    {
        "type": "commit",
        "sha": "82aebeb0257c3d1e9f4a6b8c0d2e4f6a8b0c2d4e",
        "subject": "Dark mode toggle",
    },
    {
        "type": "message",
        "role": "assistant",
        "content": "Added the toggle; it follows the system theme.",
    },
    {"type": "message", "role": "user", "content": LONG_OTHER},
    {"type": "message", "role": "user", "content": LONG_FOCUS},
    {
        "type": "tool_call",
        "name": "TodoWrite",
        "input": {
            "todos": [
                {"content": "Write the migration", "status": "completed"},
                {"content": "Backfill existing users", "status": "in_progress"},
            ]
        },
        "call_id": "c7",
    },
    {"type": "tool_result", "call_id": "c7", "output": "ok"},
    {"type": "message", "role": "assistant", "content": "The migration is written; backfill next."},
]


def jsonl(entries: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(e) for e in entries).encode()


def new_session(repo: Path, entries: list[dict[str, Any]] = CONVERSATION) -> str:
    made = run_cli(repo, "new", "Dark mode", "--no-checkout", "--json")
    assert made.code == 0, made.err
    sid = str(made.json()["id"])
    recorded = run_cli(repo, "record", sid, "--jsonl", "-", stdin=jsonl(entries))
    assert recorded.code == 0, recorded.err
    return sid


def log_ref(repo: Path, sid: str) -> str:
    return git(repo, "rev-parse", f"refs/sessions/{sid}")


def script(folder: Path, name: str, body: str) -> str:
    """A real summarizer program: a shell script the test writes."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_compact_appends_one_summary_and_removes_nothing(repo: Path) -> None:
    sid = new_session(repo)
    before = log_lines(repo, sid)
    result = run_cli(repo, "compact", sid)
    assert result.code == 0, result.err
    assert "Appended a summary of 20 entries" in result.out
    after = log_lines(repo, sid)
    assert after[:-1] == before  # every entry kept as it was
    summary = after[-1]
    assert summary["type"] == "summary"
    assert summary["first"] == before[0]["id"] and summary["last"] == before[-1]["id"]
    assert summary["covers"] == 20 and summary["previous"] is None
    assert summary["summarizer"] == "builtin" and summary["focus"] is None
    # The failed Edit touched nothing; what was read and modified is not listed as read.
    assert summary["files"] == {
        "read": ["README.md"],
        "modified": ["/w/src/app.css", "/w/src/theme.ts", "/w/src/main.ts"],
    }
    assert summary["commits"] == [
        {"sha": "82aebeb0257c3d1e9f4a6b8c0d2e4f6a8b0c2d4e", "subject": "Dark mode toggle"}
    ]
    text = summary["content"]
    # The requests in order, what the assistant reported last, files, commits, what is open.
    assert text.index("1. Add a dark mode toggle") < text.index("2. Please tidy")
    assert "The migration is written; backfill next." in text
    assert "82aebeb0257c Dark mode toggle" in text
    assert "Modified (3): /w/src/app.css, /w/src/theme.ts, /w/src/main.ts" in text
    assert "Not done in the plan: Backfill existing users (in_progress)" in text
    assert "Write the migration" not in text.split("## Still open")[1]


def test_compact_again_with_nothing_new_changes_nothing(repo: Path) -> None:
    sid = new_session(repo)
    assert run_cli(repo, "compact", sid).code == 0
    ref = log_ref(repo, sid)
    again = run_cli(repo, "compact", sid, "--json")
    assert again.code == 0, again.err
    assert again.json()["written"] is False and again.json()["summary"] is None
    plain = run_cli(repo, "compact", sid)
    assert plain.code == 0 and "Nothing new since the latest summary" in plain.out
    assert log_ref(repo, sid) == ref


def test_a_later_summary_covers_the_earlier_one(repo: Path) -> None:
    sid = new_session(repo)
    first = run_cli(repo, "compact", sid, "--json").json()["summary"]
    more = [
        {"type": "message", "role": "user", "content": "Also a high-contrast theme"},
        {
            "type": "tool_call",
            "name": "Write",
            "input": {"file_path": "/w/hc.css"},
            "call_id": "d1",
        },
        {"type": "tool_result", "call_id": "d1", "output": "ok"},
        {"type": "message", "role": "assistant", "content": "High contrast added."},
    ]
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=jsonl(more)).code == 0
    second = run_cli(repo, "compact", sid, "--json").json()["summary"]
    log = log_lines(repo, sid)
    assert [e["type"] for e in log].count("summary") == 2
    assert second["previous"] == first["id"] and second["covers"] == len(log) - 1
    assert second["first"] == log[0]["id"] and second["last"] == log[-2]["id"]
    assert (
        "/w/hc.css" in second["files"]["modified"]
        and "/w/src/app.css" in second["files"]["modified"]
    )
    assert "Also a high-contrast theme" in second["content"]


def test_a_focus_keeps_what_matches_it_whole(repo: Path) -> None:
    sid = new_session(repo)
    result = run_cli(repo, "compact", sid, "--focus", "Keep the database migrations", "--json")
    assert result.code == 0, result.err
    summary = result.json()["summary"]
    assert summary["focus"] == "Keep the database migrations"
    text = summary["content"]
    assert LONG_FOCUS.strip() in text  # matches the focus: whole
    assert LONG_OTHER.strip() not in text and "Please tidy the logging setup" in text  # shortened
    # A different focus is something new; the same one again is not.
    assert run_cli(repo, "compact", sid, "--focus", "logging", "--json").json()["written"] is True
    assert run_cli(repo, "compact", sid, "--focus", "logging", "--json").json()["written"] is False


def test_show_marks_what_a_summary_covers(repo: Path) -> None:
    sid = new_session(repo)
    run_cli(repo, "compact", sid, "--focus", "migrations")
    shown = run_cli(repo, "show", sid)
    assert shown.code == 0, shown.err
    assert "entries #1–#20 are summarized below (focus: migrations)" in shown.out
    assert "summary [covers #1–#20]" in shown.out
    full = run_cli(repo, "show", sid, "--full")
    assert "## What the user asked, in order" in full.out


def test_hostile_summary_fields_are_shown_as_data(repo: Path) -> None:
    sid = new_session(repo, CONVERSATION[:1])
    odd = {
        "type": "summary",
        "content": "\x1b]0;pwned\x07 text",
        "first": "x",
        "last": "\x1b[2J",
        "meta": {"covers": "nope"},
    }
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=jsonl([odd])).code == 0
    shown = run_cli(repo, "show", sid)
    assert shown.code == 0 and "\x1b" not in shown.out
    bad = {"type": "summary", "content": "x", "covers": "many"}
    refused = run_cli(repo, "record", sid, "--jsonl", "-", stdin=jsonl([bad]))
    assert refused.code == 2 and "covers" in refused.err


def test_compact_an_empty_session_writes_nothing(repo: Path) -> None:
    sid = run_cli(repo, "new", "Empty", "--no-checkout", "--json").json()["id"]
    result = run_cli(repo, "compact", sid)
    assert result.code == 0 and "Nothing to compact" in result.out
    assert log_lines(repo, sid) == []


# -- the summarizer command: real processes ---------------------------------------------


def test_a_summarizer_command_reads_markdown_and_its_output_is_the_summary(
    repo: Path, tmp_path: Path
) -> None:
    sid = new_session(repo)
    seen = tmp_path / "stdin.md"
    command = script(
        tmp_path, "summarize", f'cat > "{seen}"\necho "SUMMARY focus=$GITSESS_FOCUS"\n'
    )
    result = run_cli(repo, "compact", sid, "--with", command, "--focus", "migrations", "--json")
    assert result.code == 0, result.err
    summary = result.json()["summary"]
    assert summary["content"] == "SUMMARY focus=migrations\n"
    assert summary["summarizer"] == "command" and summary["files"]["modified"]
    markdown = seen.read_text()
    assert "Focus: migrations" in markdown
    assert "### user\n\nAdd a dark mode toggle to the settings page" in markdown
    assert "**Tool call** `Edit`" in markdown and "**Commit** 82aebeb0257c" in markdown
    # A later run gets the earlier summary and only what came after it.
    more = [{"type": "message", "role": "user", "content": "And the print styles"}]
    run_cli(repo, "record", sid, "--jsonl", "-", stdin=jsonl(more))
    assert run_cli(repo, "compact", sid, "--with", command).code == 0
    markdown = seen.read_text()
    assert (
        "## Summary of the conversation before this point\n\nSUMMARY focus=migrations" in markdown
    )
    assert "And the print styles" in markdown and "Add a dark mode toggle" not in markdown


def test_the_summarizer_from_git_config(repo: Path, tmp_path: Path) -> None:
    sid = new_session(repo)
    git(
        repo,
        "config",
        "gitsess.summarizer",
        script(tmp_path, "s", "cat >/dev/null; echo configured\n"),
    )
    result = run_cli(repo, "compact", sid, "--json")
    assert result.code == 0, result.err
    assert result.json()["summary"]["content"] == "configured\n"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            "cat >/dev/null\necho 'model unavailable' >&2\nexit 3\n",
            "failed (exit status 3: model unavailable)",
        ),
        ("cat >/dev/null\necho '   '\n", "printed nothing"),
        ("exit 0\n", "printed nothing"),  # reads nothing: the input it refused is no failure
    ],
)
def test_a_failing_or_empty_summarizer_writes_nothing(
    repo: Path, tmp_path: Path, body: str, said: str
) -> None:
    sid = new_session(repo)
    ref = log_ref(repo, sid)
    result = run_cli(repo, "compact", sid, "--with", script(tmp_path, "s", body))
    assert result.code == 1
    assert said in result.err and "nothing was written" in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert log_ref(repo, sid) == ref


def test_a_hanging_summarizer_is_stopped_with_everything_it_started(
    repo: Path, tmp_path: Path
) -> None:
    sid = new_session(repo)
    ref = log_ref(repo, sid)
    pids = tmp_path / "pids"
    # The child keeps stdout open: only killing the whole group lets gitsess return.
    hang = script(tmp_path, "hang", f'sleep 300 &\necho $! > "{pids}"\nwait\n')
    git(repo, "config", "gitsess.summarizerTimeout", "1")
    proc = subprocess.run(
        [gitsess_exe(), "compact", sid, "--with", hang],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,  # a guard for the test run, not a measurement
        check=False,
    )
    assert proc.returncode == 1
    assert (
        "took longer than 1 seconds" in proc.stderr and "gitsess.summarizerTimeout" in proc.stderr
    )
    assert log_ref(repo, sid) == ref
    child = int(pids.read_text())
    state = Path(f"/proc/{child}/stat")
    assert not state.exists() or state.read_text().split()[2] == "Z"


def test_bad_compact_input_is_refused(repo: Path) -> None:
    sid = new_session(repo)
    for args, said in (
        (["--with", " "], "--with needs a command"),
        (["--focus", "  "], "--focus needs some text"),
        (["--timeout", "0"], "--timeout"),
    ):
        result = run_cli(repo, "compact", sid, *args)
        assert result.code == 2 and said in result.err, (args, result.err)
    git(repo, "config", "gitsess.summarizerTimeout", "soon")
    result = run_cli(repo, "compact", sid, "--with", "cat")
    assert result.code == 2 and "gitsess.summarizerTimeout must be a number" in result.err


# -- files and commits from every agent's transcripts ------------------------------------

CORPUS_FILES = [
    (
        "codex/rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
        [
            "src/agents/plugins/codemie-code.plugin.ts",
            "src/agents/plugins/opencode/opencode.plugin.ts",
        ],
        ["src/utils/config.ts", "package.json"],
    ),
    (
        "claude-code/sidechain-old-layout/4c2ddfdc-b619-4525-8d03-1950fb1b0257.jsonl",
        ["hello.py", "hello.js"],
        [],
    ),
    (
        "claude-code/incremental-subagents/turn-2.jsonl",
        ["SPEC-NEW-CLI-COMMANDS.md"],
        ["src/cli/index.ts", "README.md"],
    ),
    (
        "gemini/session-2025-12-01T21-45-5b959dae.json",
        ["/Users/Jane_Smith/Documents/projects/epm-cdme/assistants/lead_gemini.txt"],
        ["/Users/Jane_Smith/Documents/projects/epm-cdme/assistants/lead.txt"],
    ),
    ("kimi/sample-wire.jsonl", ["/Users/alice/project/src/index.ts"], []),
]


@pytest.mark.parametrize(("source", "modified", "read"), CORPUS_FILES)
def test_files_touched_from_each_agents_tool_calls(
    repo: Path, source: str, modified: list[str], read: list[str]
) -> None:
    if not CORPUS.exists():
        pytest.skip("no corpus beside this checkout")
    imported = run_cli(repo, "import", str(CORPUS / source), "--no-checkout", "--json")
    assert imported.code == 0, imported.err
    sid = imported.json()["id"]
    result = run_cli(repo, "compact", sid, "--json")
    assert result.code == 0, result.err
    files = result.json()["summary"]["files"]
    assert set(modified) <= set(files["modified"]), files
    assert set(read) <= set(files["read"]), files
    assert not set(files["read"]) & set(files["modified"])
    for path in modified:
        assert path in result.json()["summary"]["content"]


def test_the_format_pages_example_summary_is_what_compact_writes(repo: Path) -> None:
    from gitsess.model import normalize_entry

    doc = (Path(__file__).resolve().parents[1] / "docs" / "format.md").read_text()
    example = json.loads(re.search(r'```json\n(\{"id":"fes1e9xg.*?)\n```', doc, re.S).group(1))
    assert normalize_entry(example) == example
    sid = new_session(repo)
    written = run_cli(repo, "compact", sid, "--json").json()["summary"]
    assert set(example) == set(written) - {"head"}


@pytest.mark.parametrize(
    ("name", "tool_input", "read", "modified"),
    [
        (
            "shell",
            {"command": ["bash", "-lc", "sed -n '1,80p' src/a.py && nl b.py"]},
            ["src/a.py", "b.py"],
            [],
        ),
        (
            "shell",
            {"command": ["apply_patch", "*** Begin Patch\n*** Add File: new.py\n"]},
            [],
            ["new.py"],
        ),
        ("local_shell", {"type": "exec", "command": ["cat", "x.txt"]}, ["x.txt"], []),
        (
            "exec_command",
            {"cmd": "cat > out.txt <<'EOF'\ncat secret\nEOF\ntail -n 5 log.txt"},
            ["log.txt"],
            ["out.txt"],
        ),
        (
            "Bash",
            {"command": "sed -i 's/a/b/' c.py; cp a.txt b.txt; mv d e; echo hi >> f 2>/dev/null"},
            ["a.txt"],
            ["c.py", "b.txt", "d", "e", "f"],
        ),
        ("Bash", {"command": "grep -r foo src | head -3 > /dev/null; rm *.tmp"}, [], []),
        ("run_shell_command", {"command": "touch made.txt"}, [], ["made.txt"]),
        (
            "Bash",
            {"command": "wc -l < in.txt > count.txt; cat <<< 'x y'"},
            ["in.txt"],
            ["count.txt"],
        ),
        ("read_many_files", {"paths": ["a.md", "b.md"]}, ["a.md", "b.md"], []),
        ("StrReplaceFile", {"path": "k.py"}, [], ["k.py"]),
        ("NotebookEdit", {"notebook_path": "n.ipynb"}, [], ["n.ipynb"]),
        (
            "apply_patch",
            {"input": "*** Update File: u.py\n*** Move to: v.py\n*** Delete File: w.py"},
            [],
            ["u.py", "v.py", "w.py"],
        ),
        ("mcp__fs__read_file", {"path": "m.py"}, ["m.py"], []),
        ("WebFetch", {"url": "https://example.com"}, [], []),
    ],
)
def test_what_each_tool_call_reads_and_modifies(
    name: str, tool_input: Any, read: list[str], modified: list[str]
) -> None:
    from gitsess.agents.files import call_files

    assert call_files(name, tool_input) == (read, modified)
