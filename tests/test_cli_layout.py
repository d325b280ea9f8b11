"""The command line's layout: one module per area over a shared one, off the hot paths."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import click

from gitsess.cli import cli

CLI = Path(__file__).resolve().parents[1] / "gitsess" / "cli"
# base.py is what the areas share; every other module is an area.
AREAS = sorted(p.stem for p in CLI.glob("*.py") if p.name not in ("__init__.py", "base.py"))


def _commands(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found.append(command)
        if isinstance(command, click.Group):
            found.extend(_commands(command))
    return found


def test_every_area_module_adds_commands() -> None:
    """A new area module that `gitsess/cli/__init__.py` forgets to import adds nothing."""
    homes = {c.callback.__module__ for c in _commands(cli) if c.callback is not None}
    assert AREAS and homes == {f"gitsess.cli.{area}" for area in AREAS}


def test_areas_never_import_each_other() -> None:
    for area in AREAS:
        tree = ast.parse((CLI / f"{area}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .base / from .x
                assert node.module == "base", f"{area}.py imports from .{node.module}"
                names = {alias.name for alias in node.names}
                assert not names & set(AREAS), f"{area}.py imports {names & set(AREAS)}"


def test_hot_paths_load_neither_click_nor_the_command_line(repo: Path) -> None:
    """`--version`, `status`, `list --json`, `list` into a pipe and `record --role` answer
    without click."""
    probe = (
        "import sys\n"
        "from gitsess.__main__ import main\n"
        "code = main(sys.argv[1:])\n"
        "loaded = sorted(m for m in sys.modules if m == 'click' or m.startswith('gitsess.cli'))\n"
        "print('LOADED', code, loaded, file=sys.stderr)\n"
    )
    made = subprocess.run(
        [sys.executable, "-m", "gitsess", "new", "Hot", "--no-checkout", "--json"],
        cwd=repo,
        capture_output=True,
        check=True,
    )
    session_id = json.loads(made.stdout)["id"]
    for args in (
        ["--version"],
        ["status"],
        ["status", "--json"],
        ["list", "--json"],
        ["list"],  # into a pipe
        ["list", "--all", "-n", "5"],
        ["record", session_id, "--role", "user", "hello"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=repo, capture_output=True, text=True
        )
        assert "LOADED 0 []" in proc.stderr, (args, proc.stderr)
    # `new` and `fork` in their plain forms too, and an empty session never loads pydantic
    # (it validates input from outside; gitsess builds an empty session itself).
    heavy = (
        "import sys\n"
        "from gitsess.__main__ import main\n"
        "code = main(sys.argv[1:])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'click', 'rich', 'pydantic'}"
        " or m.startswith('gitsess.cli'))\n"
        "print('LOADED', code, loaded, file=sys.stderr)\n"
    )
    for args in (
        ["new", "Quick", "--no-checkout"],
        ["new", "Quick", "--from", "HEAD", "--agent", "codex", "--json", "--no-checkout"],
        ["fork", session_id, "--no-checkout", "--json"],
        ["fork", session_id, "--at", "1", "--title", "Other", "--no-checkout"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", heavy, *args], cwd=repo, capture_output=True, text=True
        )
        assert "LOADED 0 []" in proc.stderr, (args, proc.stderr)
    # ...and anything else goes through click, which registers every area.
    proc = subprocess.run(
        [sys.executable, "-c", probe, "list", "--tag", "x"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert "'click'" in proc.stderr and "'gitsess.cli.sessions'" in proc.stderr, proc.stderr
