"""What a person sees: the pager, `show`'s numbers and filters, tables at every width,
times, counts. Run as the real command, at a real terminal (a pty of a set size) and in
a pipe, with real pagers (small scripts that record what they are given, and less).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Result, git, gitsess_exe, run_cli

STYLES = re.compile("\x1b\\[[0-9;]*m")
LONG_TITLE = "Teach the settings page a dark mode that follows the system theme"
PROSE = " ".join(f"word{n}" for n in range(120))  # one line of 800+ characters
ENTRIES = [
    {"id": "aaaa1111bbbb", "ts": "2020-01-02T03:04:05Z", "type": "message", "role": "user"},
    {"id": "cccc2222dddd", "ts": "2020-01-02T03:05:00Z", "type": "message", "role": "assistant"},
    {"id": "eeee3333ffff", "ts": "2020-01-02T03:06:00Z", "type": "tool_call", "name": "bash"},
    {"id": "gggg4444hhhh", "ts": "2020-01-02T03:07:00Z", "type": "tool_result"},
    {"id": "jjjj5555kkkk", "ts": "2020-01-02T03:08:00Z", "type": "reasoning"},
]


def entries() -> list[dict[str, Any]]:
    made = [dict(e) for e in ENTRIES]
    made[0]["content"] = "Please add a dark mode"
    made[1]["content"] = PROSE
    made[2].update(input={"cmd": "ls"}, call_id="c1")
    made[3].update(call_id="c1", output="a.txt\nb.txt")
    made[4]["content"] = "thinking about colours"
    return made


def env_without(*names: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in names}
    return {**env, **extra}


@pytest.fixture
def sessions(repo: Path) -> dict[str, str]:
    """Three sessions: a long-titled current one with five entries of every kind, a short
    one, and an archived one."""
    ids = {}
    for name, title in (("short", "Fix it"), ("old", "Old idea"), ("long", LONG_TITLE)):
        made = run_cli(repo, "new", title, "--json", *(["--no-checkout"] if name != "long" else []))
        assert made.code == 0, made.err
        ids[name] = json.loads(made.out)["id"]
    lines = "".join(json.dumps(e) + "\n" for e in entries()).encode()
    assert run_cli(repo, "record", "--jsonl", "-", stdin=lines).code == 0
    assert run_cli(repo, "archive", ids["old"]).code == 0
    return ids


# -- a real terminal -------------------------------------------------------------------


class Terminal:
    """gitsess at a pty of ``columns`` columns that is its controlling terminal, as in a
    shell: Ctrl-C typed here interrupts it and everything it started."""

    def __init__(
        self, cwd: Path, args: list[str], columns: int = 80, env: dict[str, str] | None = None
    ) -> None:
        self.main, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.modes = termios.tcgetattr(self.main)
        env = {**(env or os.environ), "TERM": "xterm-256color"}
        env.pop("COLUMNS", None)  # the terminal's own size, as a shell would give it
        self.proc = subprocess.Popen(
            [gitsess_exe(), *args],
            cwd=cwd,
            stdin=child,
            stdout=child,
            stderr=child,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(child)
        self.output = b""

    def read_until(self, done: Callable[[], bool], limit: float = 120) -> None:
        """Read what the terminal shows until ``done()`` or the child closes it; ``limit``
        seconds guard against a hang (no assertion is timed)."""
        deadline = time.monotonic() + limit
        while not done() and time.monotonic() < deadline:
            ready, _, _ = select.select([self.main], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.main, 65536)
            except OSError:  # EIO: every process closed the terminal
                return
            if not data:
                return
            self.output += data

    def type(self, keys: bytes) -> None:
        os.write(self.main, keys)

    def finish(self) -> tuple[int, str]:
        self.read_until(lambda: self.proc.poll() is not None)
        self.final_modes = termios.tcgetattr(self.main)  # as gitsess left the terminal
        self.read_until(lambda: False)
        code = self.proc.wait(timeout=60)
        os.close(self.main)
        return code, self.text

    @property
    def text(self) -> str:
        """What the terminal shows, without the styles (bold, dim: NO_COLOR keeps them)."""
        text = self.output.decode("utf-8", "replace").replace("\r\n", "\n")
        return STYLES.sub("", text)


def at_terminal(
    cwd: Path, args: list[str], columns: int = 80, env: dict[str, str] | None = None
) -> tuple[int, str]:
    return Terminal(cwd, args, columns, env).finish()


def recorder(tmp_path: Path, name: str) -> Path:
    """A pager that keeps what it is given in NAME.out, and $LESS and $LV in NAME.env."""
    script = tmp_path / f"{name}-pager"
    script.write_text(
        "#!/bin/sh\n"
        f"cat > '{tmp_path}/{name}.out'\n"
        f"printf 'LESS=%s LV=%s\\n' \"$LESS\" \"$LV\" > '{tmp_path}/{name}.env'\n"
    )
    script.chmod(0o755)
    return script


# -- the pager -------------------------------------------------------------------------


def test_show_at_a_terminal_goes_through_the_pager(
    repo: Path, sessions: dict[str, str], tmp_path: Path
) -> None:
    pager = recorder(tmp_path, "pager")
    env = env_without("GIT_PAGER", "LESS", "LV", PAGER=str(pager))
    code, screen = at_terminal(repo, ["show", sessions["long"]], env=env)
    assert code == 0, screen
    paged = (tmp_path / "pager.out").read_text()
    assert "Please add a dark mode" in paged and "word119" in paged
    assert "Please add a dark mode" not in screen  # the pager showed it, not gitsess
    # As git sets them for less, unless the user has.
    assert (tmp_path / "pager.env").read_text().strip() == "LESS=FRX LV=-c"


def test_the_pager_is_chosen_as_git_chooses(
    repo: Path, sessions: dict[str, str], tmp_path: Path
) -> None:
    pagers = {name: str(recorder(tmp_path, name)) for name in ("git", "core", "plain")}
    git(repo, "config", "core.pager", pagers["core"])
    show = ["show", sessions["long"]]

    def used(**env: str) -> set[str]:
        for name in pagers:
            (tmp_path / f"{name}.out").unlink(missing_ok=True)
        code, screen = at_terminal(repo, show, env=env_without("GIT_PAGER", "PAGER", **env))
        assert code == 0, screen
        return {name for name in pagers if (tmp_path / f"{name}.out").exists()}

    assert used(GIT_PAGER=pagers["git"], PAGER=pagers["plain"]) == {"git"}
    assert used(PAGER=pagers["plain"]) == {"core"}
    git(repo, "config", "--unset", "core.pager")
    assert used(PAGER=pagers["plain"]) == {"plain"}
    # An explicit pager keeps the user's LESS.
    assert used(PAGER=pagers["plain"], LESS="-S") == {"plain"}
    assert (tmp_path / "plain.env").read_text().startswith("LESS=-S ")


@pytest.mark.parametrize("value", ["", "cat"])
def test_an_empty_pager_or_cat_means_none(
    repo: Path, sessions: dict[str, str], tmp_path: Path, value: str
) -> None:
    pager = recorder(tmp_path, "pager")
    env = env_without("PAGER", GIT_PAGER=value)
    git(repo, "config", "core.pager", str(pager))
    code, screen = at_terminal(repo, ["show", sessions["long"]], env=env)
    assert code == 0 and "Please add a dark mode" in screen
    assert not (tmp_path / "pager.out").exists()


@pytest.mark.parametrize("option", ["-P", "--no-pager"])
def test_no_pager_option(repo: Path, sessions: dict[str, str], tmp_path: Path, option: str) -> None:
    pager = recorder(tmp_path, "pager")
    env = env_without("GIT_PAGER", PAGER=str(pager))
    code, screen = at_terminal(repo, [option, "show", sessions["long"]], env=env)
    assert code == 0 and "Please add a dark mode" in screen
    assert not (tmp_path / "pager.out").exists()


def test_never_a_pager_in_a_pipe(repo: Path, sessions: dict[str, str], tmp_path: Path) -> None:
    pager = recorder(tmp_path, "pager")
    for args in (["show", sessions["long"]], ["list"], ["log"]):
        proc = subprocess.run(
            [gitsess_exe(), *args],
            cwd=repo,
            capture_output=True,
            env=env_without("GIT_PAGER", PAGER=str(pager)),
            check=False,
        )
        assert proc.returncode == 0 and proc.stdout
        assert not (tmp_path / "pager.out").exists()


def test_list_log_and_why_are_paged_too(
    repo: Path, sessions: dict[str, str], tmp_path: Path
) -> None:
    pager = recorder(tmp_path, "pager")
    env = env_without("GIT_PAGER", PAGER=str(pager))
    cases = ((["list"], sessions["long"]), (["log"], "initial"), (["why", "HEAD"], "initial"))
    for args, seen in cases:
        code, screen = at_terminal(repo, args, env=env)
        assert code == 0, screen
        assert seen in (tmp_path / "pager.out").read_text()
        (tmp_path / "pager.out").unlink()


def big_session(repo: Path) -> str:
    made = run_cli(repo, "new", "Big", "--no-checkout", "--json")
    sid = json.loads(made.out)["id"]
    lines = "".join(
        json.dumps({"type": "message", "role": "user", "content": f"line {n} " * 40}) + "\n"
        for n in range(400)
    )
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=lines.encode()).code == 0
    return sid


def test_quitting_the_pager_early_is_quiet(repo: Path, tmp_path: Path) -> None:
    sid = big_session(repo)
    pager = tmp_path / "quits"
    pager.write_text("#!/bin/sh\nhead -c 100 > /dev/null\n")  # reads a little, then quits
    pager.chmod(0o755)
    code, screen = at_terminal(repo, ["show", sid], env=env_without("GIT_PAGER", PAGER=str(pager)))
    assert code == 0
    assert screen.strip() == ""  # no traceback, no "Exception ignored", no broken pipe


def test_ctrl_c_waits_for_the_pager(repo: Path, tmp_path: Path) -> None:
    """Ctrl-C reaches gitsess and its pager alike; gitsess stops writing but waits for the
    pager to end (less keeps the terminal until the user quits it) before its last line."""
    sid = big_session(repo)
    started, release = tmp_path / "started", tmp_path / "release"
    pager = tmp_path / "slow"
    pager.write_text(
        "#!/bin/sh\n"
        "trap '' INT\n"  # as less: Ctrl-C does not end it
        f"touch '{started}'\n"
        f"while [ ! -e '{release}' ]; do sleep 0.05; done\n"
        "cat > /dev/null\n"
        "echo PAGER-DONE\n"
    )
    pager.chmod(0o755)
    term = Terminal(repo, ["show", sid], env=env_without("GIT_PAGER", PAGER=str(pager)))
    term.read_until(started.exists, limit=30)
    assert started.exists(), term.text
    before = termios.tcgetattr(term.main)
    term.type(b"\x03")
    # Time for a gitsess that did not wait to print its last line (a bound, not a test).
    term.read_until(lambda: "gitsess:" in term.text, limit=3)
    release.touch()
    code, screen = term.finish()
    assert code == 130
    assert "PAGER-DONE" in screen and "Traceback" not in screen
    assert screen.index("PAGER-DONE") < screen.index("gitsess: aborted")
    assert term.final_modes == before


@pytest.mark.skipif(shutil.which("less") is None, reason="needs less")
@pytest.mark.parametrize("keys", [b"q", b"\x03q"])
def test_real_less_gives_the_terminal_back(repo: Path, keys: bytes) -> None:
    """With less (the default pager): quitting it, or Ctrl-C then quitting, ends gitsess
    and leaves the terminal's modes as they were before."""
    sid = big_session(repo)
    env = env_without("GIT_PAGER", "PAGER", "LESS", "LV")
    term = Terminal(repo, ["show", sid], columns=80, env=env)
    term.read_until(lambda: "line 2 " in term.text)  # less is showing the first screen
    for key in keys:
        term.type(bytes([key]))
        term.read_until(lambda: False, limit=0.5)  # let less take each key in turn
    code, screen = term.finish()
    assert code in (0, 130), screen
    assert "Traceback" not in screen
    assert "line 399" not in screen  # less showed the first screens only
    # gitsess ended after less, which gave the terminal its modes back.
    assert term.final_modes == term.modes


# -- show: numbers, -n, --type ------------------------------------------------------------


def test_show_numbers_each_entry_for_fork_at(repo: Path, sessions: dict[str, str]) -> None:
    shown = run_cli(repo, "show", sessions["long"])
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    head = next(line for line in lines if line.startswith("user "))
    assert head.endswith("#1 aaaa1111")  # the number in the log, the id's first 8
    assert any(line.startswith("assistant ") and line.endswith("#2 cccc2222") for line in lines)
    call = next(line for line in lines if "⚙ bash" in line)
    assert call.endswith("#3 eeee3333")
    assert any("↳ a.txt b.txt" in line and line.endswith("#4 gggg4444") for line in lines)
    assert any("∴ reasoning" in line and line.endswith("#5 jjjj5555") for line in lines)


def test_show_last_and_type_keep_the_numbers_of_the_whole_log(
    repo: Path, sessions: dict[str, str]
) -> None:
    sid = sessions["long"]
    last = run_cli(repo, "show", sid, "-n", "2")
    assert "#4 gggg4444" in last.out and "#5 jjjj5555" in last.out
    assert "#3 " not in last.out and "dark mode" not in last.out.split("\n", 2)[2]
    assert "(2 entries of 5 shown)" in last.out
    typed = run_cli(repo, "show", sid, "--type", "tool_call", "--type", "reasoning")
    assert "#3 eeee3333" in typed.out and "#5 jjjj5555" in typed.out
    assert "#1 " not in typed.out and "#4 " not in typed.out
    both = run_cli(repo, "show", sid, "--type", "message", "--last", "1")
    assert "#2 cccc2222" in both.out and "#1 " not in both.out
    assert "(1 entry of 5 shown)" in both.out
    user = run_cli(repo, "show", sid, "--type", "user")
    assert "#1 aaaa1111" in user.out and "#2 " not in user.out
    none = run_cli(repo, "show", sid, "--type", "commit")
    assert none.code == 0 and "(no entries match)" in none.out
    full = run_cli(repo, "show", sid)
    assert "shown)" not in full.out


def test_show_json_is_filtered_alike_and_otherwise_unchanged(
    repo: Path, sessions: dict[str, str]
) -> None:
    sid = sessions["long"]
    whole = json.loads(run_cli(repo, "show", sid, "--json").out)
    assert [e["id"] for e in whole["entries"]] == [e["id"] for e in ENTRIES]
    assert whole["entries"][0]["ts"] == "2020-01-02T03:04:05Z"  # ISO UTC, as stored
    assert set(whole) == {"session", "entries"}
    picked = json.loads(run_cli(repo, "show", sid, "--json", "--type", "tool_call").out)
    assert picked["entries"] == [whole["entries"][2]]
    assert picked["session"]["entries"] == 5
    last = json.loads(run_cli(repo, "show", sid, "--json", "-n", "1").out)
    assert last["entries"] == whole["entries"][-1:]


@pytest.mark.parametrize("args", [["-n", "-1"], ["-n", "x"], ["--type", "bogus"], ["--last"]])
def test_show_bad_filters_are_bad_input(
    repo: Path, sessions: dict[str, str], args: list[str]
) -> None:
    shown = run_cli(repo, "show", sessions["long"], *args)
    assert shown.code == 2 and shown.out == ""
    assert shown.err.startswith("gitsess: ") and len(shown.err.strip().splitlines()) == 1


# -- tables at every width --------------------------------------------------------------


def table_lines(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if line.strip()]


def test_list_at_40_columns_keeps_one_readable_line_per_session(
    repo: Path, sessions: dict[str, str]
) -> None:
    code, screen = at_terminal(repo, ["list", "--all"], columns=40)
    assert code == 0, screen
    lines = table_lines(screen)
    assert len(lines) == 1 + 3, screen  # the heading and one line a session
    assert all(len(line) <= 40 for line in lines), screen
    for name, start in (("long", "Teach the"), ("short", "Fix it"), ("old", "Old")):
        row = next(line for line in lines if sessions[name] in line)
        assert start in row, screen
    assert "…" in next(line for line in lines if sessions["long"] in line)  # cut, not folded
    assert "(archived)" in next(line for line in lines if sessions["old"] in line)
    assert "session/" not in screen  # the branch column went first


def test_list_at_200_columns_shows_everything(repo: Path, sessions: dict[str, str]) -> None:
    code, screen = at_terminal(repo, ["list"], columns=200)
    assert code == 0, screen
    branch = json.loads(run_cli(repo, "status", "--json").out)["branch"]
    row = next(line for line in table_lines(screen) if sessions["long"] in line)
    assert LONG_TITLE in row and branch in row and "just now" in row and row.startswith("*")


@pytest.mark.parametrize("columns", ["40", "200"])
def test_list_in_a_pipe_is_one_whole_line_per_session(
    repo: Path, sessions: dict[str, str], columns: str
) -> None:
    proc = subprocess.run(
        [gitsess_exe(), "list", "--all"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": columns},
        check=True,
    )
    branch = json.loads(run_cli(repo, "status", "--json").out)["branch"]
    rows = [line for line in proc.stdout.splitlines() if sessions["long"] in line]
    assert len(rows) == 1 and LONG_TITLE in rows[0] and branch in rows[0]
    assert "…" not in proc.stdout
    assert len(proc.stdout.splitlines()) == 1 + 3
    grep = subprocess.run(
        f"'{gitsess_exe()}' list | grep 'dark mode'",
        shell=True,
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": columns},
        check=True,
    )
    assert grep.stdout.count("\n") == 1 and sessions["long"] in grep.stdout


def test_prose_is_never_wrapped_in_a_pipe(repo: Path, sessions: dict[str, str]) -> None:
    proc = subprocess.run(
        [gitsess_exe(), "show", sessions["long"]],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "40"},
        check=True,
    )
    assert PROSE in proc.stdout.splitlines()


def test_status_and_show_at_40_columns_stay_words(repo: Path, sessions: dict[str, str]) -> None:
    """Nothing folds a character to a line: every line keeps whole words."""
    for args in (["status"], ["show", sessions["long"]], ["list"], ["doctor"], ["log"]):
        code, screen = at_terminal(repo, args, columns=40)
        assert code == 0, screen
        short = [line for line in screen.splitlines() if 0 < len(line.strip()) <= 2]
        assert not [s for s in short if s.strip() not in ("*", "…")], (args, screen)


# -- times and counts -----------------------------------------------------------------------


def test_times_are_local(repo: Path, sessions: dict[str, str]) -> None:
    sid = sessions["long"]
    east = run_cli_env(repo, {"TZ": "UTC-9"}, "show", sid)  # POSIX: nine hours ahead
    assert "user  2020-01-02 12:04" in east.out
    utc = run_cli_env(repo, {"TZ": "UTC"}, "show", sid)
    assert "user  2020-01-02 03:04" in utc.out
    west = run_cli_env(repo, {"TZ": "UTC+5"}, "show", sid)
    assert "user  2020-01-01 22:04" in west.out
    shown = json.loads(run_cli_env(repo, {"TZ": "UTC-9"}, "show", sid, "--json").out)
    assert shown["entries"][0]["ts"] == "2020-01-02T03:04:05Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", shown["session"]["updated"])
    for args in (["list", "--json"], ["status", "--json"]):
        document = json.loads(run_cli_env(repo, {"TZ": "UTC-9"}, *args).out)
        first = document[0] if isinstance(document, list) else document
        assert first["updated"].endswith("Z") and "T" in first["updated"]


def test_recent_times_are_relative(repo: Path, sessions: dict[str, str]) -> None:
    recent = re.compile(r"just now|\d+ minutes? ago")
    status = run_cli(repo, "status")
    assert recent.search(status.out.splitlines()[1]), status.out
    listed = run_cli(repo, "list")
    row = next(line for line in listed.out.splitlines() if sessions["long"] in line)
    assert recent.search(row), listed.out
    shown = run_cli(repo, "show", sessions["long"])
    assert recent.search(shown.out.splitlines()[1]), shown.out  # updated, in the header


def run_cli_env(cwd: Path, env: dict[str, str], *args: str) -> Result:
    proc = subprocess.run(
        [gitsess_exe(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_one_entry_not_one_entries(repo: Path) -> None:
    made = json.loads(run_cli(repo, "new", "Single", "--json").out)
    assert run_cli(repo, "record", "--role", "user", "only this").code == 0
    outputs = [
        run_cli(repo, "show", made["id"]).out,
        run_cli(repo, "status").out,
        run_cli(repo, "fork", made["id"], "--no-checkout").out,
    ]
    for out in outputs:
        assert "1 entry" in out and "1 entries" not in out, out


def test_resume_numbers_the_last_entries_as_show_does(repo: Path, sessions: dict[str, str]) -> None:
    resumed = run_cli(repo, "resume", sessions["long"])
    assert resumed.code == 0, resumed.err
    assert "#1 aaaa1111" in resumed.out and "#5 jjjj5555" in resumed.out


def test_fork_at_what_show_prints(repo: Path, sessions: dict[str, str]) -> None:
    """The number and the short id beside an entry are what `fork --at` takes."""
    shown = run_cli(repo, "show", sessions["long"], "--type", "tool_call")
    number, short = re.findall(r"#(\d+) (\S+)$", shown.out, re.MULTILINE)[0]
    for at in (number, f"#{number}", short):
        forked = run_cli(repo, "fork", sessions["long"], "--at", at, "--no-checkout", "--json")
        assert forked.code == 0, forked.err
        assert json.loads(forked.out)["entries"] == int(number) == 3
