"""The session picker, driven by Textual's Pilot and, once, through tmux as a person would."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gitsess.picker.app import Outcome, Picker
from gitsess.picker.model import Catalog, fuzzy
from gitsess.sessions import Sessions
from gitsess.storage.repo import Repository

from .conftest import BIN_DIR, git, run_cli


def sid_of(result: Any) -> str:
    assert result.code == 0, result.err
    return str(result.json()["id"])


@pytest.fixture
def ids(repo: Path) -> dict[str, str]:
    made = {}
    for key, title in (
        ("login", "Fix the login bug"),
        ("dark", "Dark mode"),
        ("auth", "Refactor auth"),
    ):
        made[key] = sid_of(run_cli(repo, "new", title, "--no-checkout", "--json"))
        assert run_cli(repo, "record", made[key], "--role", "user", f"about {title}").code == 0
    assert (
        run_cli(repo, "record", made["auth"], "--role", "assistant", "the token rotates").code == 0
    )
    return made


def drive(
    repo: Path, steps: Callable[[Any, Picker], Awaitable[None]], size: tuple[int, int] = (120, 30)
) -> Outcome | None:
    """Open the picker on ``repo``, run ``steps`` with the Pilot, return what it chose."""
    sessions = Sessions(Repository(repo))
    app = Picker(Catalog(sessions))

    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(pilot, app)
            await pilot.pause()

    try:
        asyncio.run(run())
    finally:
        sessions.repo.close()
    return app.return_value


def shown(app: Picker) -> list[str]:
    return [row.title for row in app.shown]


def refs(repo: Path) -> str:
    return git(repo, "for-each-ref")


def test_typing_filters_and_enter_resumes(repo: Path, ids: dict[str, str]) -> None:
    seen: dict[str, list[str]] = {}

    async def steps(pilot: Any, app: Picker) -> None:
        seen["all"] = shown(app)
        await pilot.press(*"dkmd")  # fuzzy: D(ar)k m(o)d(e)
        seen["filtered"] = shown(app)
        await pilot.press("enter")

    outcome = drive(repo, steps)
    assert seen["all"] == ["Refactor auth", "Dark mode", "Fix the login bug"]  # most recent first
    assert seen["filtered"] == ["Dark mode"]
    assert outcome is not None and (outcome.action, outcome.session) == ("resume", ids["dark"])


def test_escape_leaves_everything_as_it_was(repo: Path, ids: dict[str, str]) -> None:
    before = refs(repo)

    async def steps(pilot: Any, app: Picker) -> None:
        await pilot.press("l", "o", "down", "escape")

    assert drive(repo, steps) is None
    assert refs(repo) == before


def test_pin_rename_archive_and_delete_from_the_keys(repo: Path, ids: dict[str, str]) -> None:
    seen: dict[str, Any] = {}

    async def steps(pilot: Any, app: Picker) -> None:
        await pilot.press("down", "down", "ctrl+p")  # pin "Fix the login bug"
        seen["pinned first"] = shown(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        answer = app.screen.query_one("#answer")
        answer.value = "Fix the login bug for good"
        await pilot.press("enter")
        await pilot.pause()
        seen["renamed"] = shown(app)
        await pilot.press("down", "ctrl+a")  # archive "Refactor auth"
        seen["after archive"] = shown(app)
        await pilot.press("tab", "tab")  # all -> family -> archived
        seen["archived"] = shown(app)
        await pilot.press("tab")
        await pilot.press("ctrl+d", "n")  # asked, and declined
        await pilot.pause()
        seen["declined"] = shown(app)
        await pilot.press("down", "ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        seen["deleted"] = shown(app)
        await pilot.press("escape")

    assert drive(repo, steps) is None
    assert seen["pinned first"][0] == "Fix the login bug"
    assert seen["renamed"][0] == "Fix the login bug for good"
    assert seen["after archive"] == ["Fix the login bug for good", "Dark mode"]
    assert seen["archived"] == ["Refactor auth"]
    assert seen["declined"] == ["Fix the login bug for good", "Dark mode"]
    assert seen["deleted"] == ["Fix the login bug for good"]
    assert git(repo, "config", "--get-all", "gitsess.pin") == ids["login"]
    meta = run_cli(repo, "list", "--all", "--json").json()
    assert {m["id"]: (m["title"], m["status"]) for m in meta} == {
        ids["login"]: ("Fix the login bug for good", "active"),
        ids["auth"]: ("Refactor auth", "archived"),
    }
    assert run_cli(repo, "undelete", ids["dark"]).code == 0  # deleted as `delete` does


def test_search_mode_finds_sessions_by_what_was_said(repo: Path, ids: dict[str, str]) -> None:
    seen: dict[str, Any] = {}

    async def steps(pilot: Any, app: Picker) -> None:
        await pilot.press("ctrl+s", *"rotates")
        await pilot.pause(0.6)  # the search runs once typing stops
        seen["hits"] = shown(app)
        seen["preview"] = str(app.query_one("#preview").render())
        await pilot.press("ctrl+f")

    outcome = drive(repo, steps)
    assert seen["hits"] == ["Refactor auth"]
    assert "rotates" in seen["preview"]
    assert outcome is not None and (outcome.action, outcome.session) == ("fork", ids["auth"])


def test_family_scope_and_a_narrow_terminal(repo: Path, ids: dict[str, str]) -> None:
    fork = sid_of(run_cli(repo, "fork", ids["login"], "--title", "Login, other way", "--json"))
    seen: dict[str, Any] = {}

    async def steps(pilot: Any, app: Picker) -> None:
        await pilot.press("tab")
        seen["family"] = shown(app)
        seen["preview shown"] = app.query_one("#preview").display
        await pilot.press("escape")

    drive(repo, steps, size=(40, 20))
    assert sorted(seen["family"]) == ["Fix the login bug", "Login, other way"]
    assert seen["preview shown"] is False
    assert fork


def test_a_hostile_title_is_text(repo: Path) -> None:
    sid = sid_of(run_cli(repo, "new", "plain", "--no-checkout", "--json"))
    ref = f"refs/sessions/{sid}"
    meta = json.loads(git(repo, "cat-file", "blob", f"{ref}:session.json"))
    meta["title"] = "[bold red]x[/] \x1b]0;pwned\x07 \u202eevil"
    meta["tags"] = ["[link=https://evil.example]t[/link]"]
    blob = git(repo, "hash-object", "-w", "--stdin", input=json.dumps(meta))
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tsession.json\n")
    tip = git(repo, "commit-tree", tree, "-p", ref, input=f"forged\n\nSession: {sid}\n")
    git(repo, "update-ref", ref, tip)
    seen: dict[str, Any] = {}

    async def steps(pilot: Any, app: Picker) -> None:
        seen["preview"] = str(app.query_one("#preview").render())
        await pilot.press("escape")

    drive(repo, steps)
    assert "[bold red]x[/]" in seen["preview"] and "\x1b" not in seen["preview"]


def test_fuzzy_prefers_tight_matches() -> None:
    assert fuzzy("dm", "dark mode") is not None
    assert fuzzy("zz", "dark mode") is None
    tight, loose = fuzzy("login", "fix the login bug"), fuzzy("login", "l o g i n")
    assert tight is not None and loose is not None and tight < loose
    assert fuzzy("bug fix", "fix the login bug") is not None  # words in any order


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, check=False
    ).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_resume_at_a_real_terminal_opens_the_picker(repo: Path, ids: dict[str, str]) -> None:
    """Typing part of a title and Enter checks out that session's branch."""
    socket = f"gitsess-test-{os.getpid()}"
    done = repo.parent / "exit-code"
    env = {
        **os.environ,
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ['PATH']}",
        "TERM": "xterm-256color",
    }
    command = f"gitsess resume; echo $? > {done}"
    subprocess.run(
        [
            "tmux",
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            str(repo),
            command,
        ],
        env=env,
        check=True,
    )
    try:
        deadline = time.monotonic() + 60  # a hang guard, not a performance assertion
        while "Type to filter" not in tmux(socket, "capture-pane", "-p"):
            assert time.monotonic() < deadline, tmux(socket, "capture-pane", "-p")
            time.sleep(0.2)
        tmux(socket, "send-keys", "-l", "dark")
        time.sleep(0.5)
        tmux(socket, "send-keys", "Enter")
        while not done.exists() or not done.read_text().strip():
            assert time.monotonic() < deadline, tmux(socket, "capture-pane", "-p")
            time.sleep(0.2)
    finally:
        tmux(socket, "kill-server")
    assert done.read_text().strip() == "0"
    branch = git(repo, "branch", "--show-current")
    assert branch.endswith(ids["dark"]) and branch.startswith("session/dark-mode")


def test_in_a_pipe_resume_keeps_meaning_last(repo: Path, ids: dict[str, str]) -> None:
    result = run_cli(repo, "resume")
    assert result.code == 0, result.err
    assert git(repo, "branch", "--show-current").endswith(ids["auth"])  # the latest
    refused = run_cli(repo, "pick")
    assert refused.code == 2 and "needs a terminal" in refused.err


def test_textual_loads_only_for_the_picker(repo: Path, ids: dict[str, str]) -> None:
    probe = (
        "import sys\nfrom gitsess.__main__ import main\n"
        "code = main(sys.argv[1:])\n"
        "print('LOADED' if any(m.split('.')[0] == 'textual' for m in sys.modules) else 'NOT')\n"
    )
    for args in (
        ["status"],
        ["list"],
        ["show", ids["dark"]],
        ["resume"],
        ["search", "x"],
        ["tree", "--all"],
    ):
        proc = subprocess.run(
            [str(BIN_DIR / "python"), "-c", probe, *args],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.stdout.rstrip().endswith("NOT"), (args, proc.stdout, proc.stderr)
