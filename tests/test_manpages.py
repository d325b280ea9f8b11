"""Man pages: generated from the commands (`make man`), current, and found after `pip install`."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from gitsess.cli import cli
from gitsess.manpage import pages

ROOT = Path(__file__).resolve().parents[1]
MAN1 = ROOT / "man" / "man1"


def test_committed_man_pages_are_current() -> None:
    wanted = pages(cli)
    committed = {p.name: p.read_text(encoding="utf-8") for p in MAN1.glob("*.1")}
    stale = sorted(
        name for name in wanted.keys() | committed.keys() if wanted.get(name) != committed.get(name)
    )
    assert not stale, f"man pages out of date: {', '.join(stale)}; run `make man` and commit man/"


def test_every_command_has_a_page_that_says_what_help_says() -> None:
    made = pages(cli)
    assert {"gitsess.1", "git-session.1"} <= made.keys()
    for name, command in cli.commands.items():
        page = made[f"gitsess-{name}.1"]
        first = (command.help or "").strip().splitlines()[0]
        assert first.replace("-", "\\-") in page, name
    # `git session --help` opens git-session(1): it names itself so.
    assert ".B git session\n" in made["git-session.1"]
    assert "\\-\\-all" in made["gitsess-hooks.1"]  # a subcommand's options, in its group's page


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_pip_install_puts_pages_where_man_and_git_find_them(tmp_path: Path) -> None:
    """A real `pip install` into a fresh venv: man finds the pages from PATH alone."""
    source = tmp_path / "src"
    source.mkdir()
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    for part in ("gitsess", "man"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    install = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps"]
    done = subprocess.run(
        [*install, "--disable-pip-version-check", str(source)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    man1 = target / "share" / "man" / "man1"
    assert {p.name for p in man1.glob("*.1")} == {p.name for p in MAN1.glob("*.1")}
    env = {k: v for k, v in os.environ.items() if k != "MANPATH"}
    env.update(PATH=f"{target / 'bin'}{os.pathsep}/usr/bin:/bin", MANPAGER="cat", MANWIDTH="80")
    env.update(PAGER="cat", GIT_PAGER="cat")
    for page in ("gitsess", "git-session", "gitsess-show"):
        found = subprocess.run(["man", "-w", page], env=env, capture_output=True, text=True)
        assert found.stdout.strip() == str(man1 / f"{page}.1"), found.stderr
    shown = subprocess.run(
        ["git", "session", "--help"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "GIT-SESSION(1)" in shown.stdout and "git session [OPTIONS] COMMAND" in shown.stdout
