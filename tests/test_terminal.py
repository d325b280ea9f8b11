"""A hostile session cannot drive the terminal gitsess prints on.

A teammate's fetched session (or a transcript) can carry anything in its title, branch,
agent, entries, tool names and output, and the commits it links to. Every command's
output, at a real terminal (a pty, 40 columns) and in a pipe, shows that text with the
characters a terminal acts on made visible: no raw ESC, C1 control, overwrite trick or
bidirectional override reaches the terminal, and the words around them are still there.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import forge_log, git, gitsess_exe, run_cli

# Everything a terminal could act on, between words that must stay readable.
HOSTILE = (
    "KEEP-A \x1b]0;pwned-title\x07 \x1b[2J \x1b[10A "
    "\x1b]8;;https://evil.example/\x1b\\a link\x1b]8;;\x1b\\ \x1b[8mhidden\x1b[0m "
    "\x9b31mc1 \x9d0;osc\x9c over\rwrite back\x08\x08 \u202eabc\u202c \u2066iso\u2069 "
    "[bold]markup[/bold] [link=https://evil.example]x[/link] KEEP-Z"
)
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile("\x1b\\[([0-9;]*)m")
# The styles gitsess asks rich for (bold, dim, italic, reset) under NO_COLOR; never 8 (hidden).
OWN_SGR = {"", "0", "1", "2", "3", "22", "23"}


def forge(repo: Path, sid: str, change: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """What a teammate's push would bring: ``entries`` (ids and times filled in) as the log."""
    lines = [
        json.dumps({"id": f"e{n}", "ts": f"2026-01-01T00:00:{n:02}Z", **entry}).encode()
        for n, entry in enumerate(entries)
    ]
    forge_log(repo, sid, change, lines)


def hostile_entries(sha: str) -> list[dict[str, Any]]:
    return [
        {"type": "message", "role": "user", "content": HOSTILE},
        {"type": "message", "role": HOSTILE, "content": "role above"},
        {"type": "message", "role": "assistant", "content": HOSTILE, "model": HOSTILE},
        {"type": "reasoning", "content": HOSTILE},
        {"type": "tool_call", "name": HOSTILE, "input": {"cmd": HOSTILE}, "call_id": HOSTILE},
        {"type": "tool_result", "call_id": HOSTILE, "output": f"{HOSTILE}\n{HOSTILE}"},
        {"type": "event", "name": HOSTILE, "data": {"x": HOSTILE}},
        {"type": "commit", "sha": sha, "subject": HOSTILE},
        {"type": HOSTILE, "x": HOSTILE},
    ]


@pytest.fixture
def hostile(repo: Path) -> dict[str, str]:
    """Sessions whose every field a teammate chose: the current one (`main`... checked out
    on its branch, with a commit), one with a hostile branch name, one deleted."""

    def new(title: str, *args: str) -> str:
        result = run_cli(repo, "new", title, "--json", *args)
        assert result.code == 0, result.err
        return str(result.json()["id"])

    current = new("current")
    (repo / "f.txt").write_text("x\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", f"subject {HOSTILE}", "-m", f"Session: {current}")
    sha = git(repo, "rev-parse", "HEAD")
    forge(repo, current, {"title": HOSTILE, "agent": HOSTILE}, hostile_entries(sha))
    branchy = new("branchy", "--no-checkout")
    forge(repo, branchy, {"branch": f"session/{HOSTILE}", "title": HOSTILE}, [])
    deleted = new("deleted", "--no-checkout")
    forge(repo, deleted, {"title": HOSTILE}, [])
    assert run_cli(repo, "delete", deleted).code == 0
    return {"current": current, "branchy": branchy, "deleted": deleted, "sha": sha}


def commands(ids: dict[str, str]) -> list[list[str]]:
    return [
        ["list"],
        ["list", "--all"],
        ["show", ids["current"]],
        ["show", ids["branchy"]],
        ["status"],
        ["resume", ids["current"]],
        ["log"],
        ["why", ids["sha"]],
        ["pr", "HEAD~1"],
        ["doctor"],
        ["undelete"],
        ["show", f"nope{HOSTILE}"],
        ["fork", ids["current"], "--no-checkout"],
        ["rename", ids["branchy"], "renamed"],
        ["search", "KEEP"],
    ]


def at_terminal(cwd: Path, args: list[str], columns: int = 40) -> str:
    """What a person at a terminal `columns` wide sees from ``gitsess ARGS`` (out and err)."""
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [gitsess_exe(), *args], cwd=cwd, stdin=child, stdout=child, stderr=child, env=env
    )
    os.close(child)
    chunks = []
    deadline = time.monotonic() + 120  # a hang guard, not a performance assertion
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def in_pipe(cwd: Path, args: list[str], columns: int = 40) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    proc = subprocess.run(
        [gitsess_exe(), *args], cwd=cwd, capture_output=True, env=env, check=False, timeout=120
    )
    return proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")


def assert_inert(output: str, where: str) -> None:
    """No character a terminal would act on, but gitsess's own styling."""
    for params in SGR.findall(output):
        assert set(params.split(";")) <= OWN_SGR, f"{where}: SGR {params!r}\n{output}"
    rest = SGR.sub("", output)
    assert "\x1b" not in rest, f"{where}: raw ESC\n{output!r}"
    assert not re.search("[\x80-\x9f]", rest), f"{where}: raw C1 control\n{output!r}"
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", rest), f"{where}: control\n{output!r}"
    assert "\r" not in rest.replace("\r\n", ""), f"{where}: bare CR\n{output!r}"  # pty: \n->\r\n
    assert not BIDI.search(rest), f"{where}: bidi override\n{output!r}"
    assert "[/bold]" not in rest or "markup" in rest, where


def test_every_command_is_inert_at_a_terminal_and_in_a_pipe(
    repo: Path, hostile: dict[str, str]
) -> None:
    for args in commands(hostile):
        for name, output in (
            ("terminal", at_terminal(repo, args)),
            ("pipe", in_pipe(repo, args)),
        ):
            where = f"{' '.join(args)[:40]!r} at a {name}"
            assert_inert(output, where)
            if args[0] in ("list", "show", "status", "resume", "why", "undelete"):
                if args[0] == "list":  # 40 columns fold the table's cells into each other
                    output = in_pipe(repo, args, 200)
                # The text is still there to read, its controls as visible escapes.
                flat = re.sub(r"\s+", "", SGR.sub("", output))
                assert "KEEP-A" in flat and "pwned-title" in flat, f"{where}:\n{output}"
                assert "\\u001b" in flat or "\\x1b" in flat, f"{where}:\n{output}"


def test_markup_in_data_is_printed_as_it_is(repo: Path, hostile: dict[str, str]) -> None:
    """A guard (rich markup is only ever gitsess's own): text in brackets stays text."""
    for args in (["show", hostile["current"]], ["list"], ["resume", hostile["current"]]):
        output = in_pipe(repo, args, 400)
        assert "[bold]markup[/bold] [link=https://evil.example]x[/link]" in output, output


def test_json_stays_exact_json_of_the_same_value(repo: Path, hostile: dict[str, str]) -> None:
    for args in (["list", "--json"], ["show", hostile["current"], "--json"], ["status", "--json"]):
        for output in (at_terminal(repo, args, 200), in_pipe(repo, args)):
            assert_inert(output, " ".join(args))
            # A terminal shows stderr too: the warnings about the hostile session's branch
            # come first, one line each; the document follows, exact.
            lines = output.replace("\r\n", "\n").splitlines(keepends=True)
            warnings = [line for line in lines if line.startswith("gitsess: warning: ")]
            document = "".join(line for line in lines if line not in warnings)
            text = json.dumps(json.loads(document))
            assert json.dumps(HOSTILE) in text


def test_a_huge_message_is_shown_whole_in_a_pipe_and_cut_at_a_terminal(repo: Path) -> None:
    """`show` of a message of megabytes: a pipe gets it exactly, lines unwrapped (whatever
    their length: laying them out is what took time growing as the square of the size); a
    terminal gets its first part and how to see the rest. Neither is timed here (see
    bench/bench.py, figure show-big)."""
    result = run_cli(repo, "new", "big", "--json")
    sid = str(result.json()["id"])
    line = "word " * 100 + "\n"  # 500 characters: wider than any terminal or pipe width
    body = HOSTILE + "\n" + line * 4000  # 2 MB
    entry = json.dumps({"type": "message", "role": "user", "content": body})
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=entry.encode()).code == 0

    piped = in_pipe(repo, ["show", sid])
    assert_inert(piped, "huge message in a pipe")
    assert line * 3999 in piped  # the last one without its trailing blanks
    assert "KEEP-A \\u001b]0;pwned-title\\u0007" in piped
    assert "over\\u000dwrite back\\u0008\\u0008" in piped

    shown = at_terminal(repo, ["show", sid], 80)
    assert_inert(shown, "huge message at a terminal")
    assert len(shown) < 200_000, len(shown)
    note = re.sub(r"\s+", " ", SGR.sub("", shown))
    assert "more lines): `gitsess show --full` or `gitsess export` for all" in note, note[-500:]

    full = at_terminal(repo, ["show", "--full", sid], 80)
    assert_inert(full, "huge message at a terminal, --full")
    assert (line * 3999).replace("\n", "\r\n") in full
