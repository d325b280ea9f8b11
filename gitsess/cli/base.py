"""What every command shares: the `cli` group and its global options, the per-invocation
App, the --json option and the output helpers. The area modules take these from here; the
package's __init__ imports the areas, which registers their commands.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..quick import open_sessions, utf8
from ..render.emit import emit_json
from ..sessions import Sessions
from ..storage.log import LogState

__all__ = [
    "ENTRY",
    "REMOTE",
    "REMOTE_OR_SESSION",
    "SESSION",
    "App",
    "cli",
    "emit_json",
    "json_option",
    "out",
    "paged",
    "pass_app",
    "report_created",
    "task_option",
    "utf8",
    "worktree_option",
]


class App:
    """Per-invocation state: where to run, and the repository once it is needed."""

    def __init__(self, path: str | None, debug: bool, no_pager: bool = False) -> None:
        self.path = path
        self.debug = debug
        self.no_pager = no_pager
        self._sessions: Sessions | None = None
        self.remote_hints = False  # see UNATTENDED

    @property
    def sessions(self) -> Sessions:
        if self._sessions is None:
            self._sessions = open_sessions(self.path)
            self._sessions.remote_hints = self.remote_hints
        return self._sessions

    def sessions_as_found(self) -> Sessions:
        """The sessions without merging what a plain `git fetch` brought first (`doctor`
        reports that, and must work however broken the logs are)."""
        if self._sessions is None:
            from ..storage.repo import Repository

            self._sessions = Sessions(Repository(self.path))
        return self._sessions

    def close(self) -> None:
        if self._sessions is not None:
            self._sessions.repo.close()


if TYPE_CHECKING:
    _ParamType = click.ParamType[str, str]
else:  # click before 8.2 has no type parameters here
    _ParamType = click.ParamType


class SessionName(_ParamType):
    """A SESSION argument: an id, a unique id prefix, a title or a branch (docs/format.md
    section 3). Its own type so that shell completion can offer the repository's sessions."""

    name = "session"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from ..completion import session_candidates

        return _items(session_candidates(_path_of(ctx), incomplete))


class RemoteName(_ParamType):
    """A REMOTE argument: a remote's name (or a URL); shell completion offers the names."""

    name = "remote"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from ..completion import remote_candidates

        return _items(remote_candidates(_path_of(ctx), incomplete))


class RemoteOrSession(_ParamType):
    """The arguments of `push`/`fetch`: a remote first (as `git push origin`), then
    sessions. Shell completion offers remotes before any argument is given, then sessions."""

    name = "remote_or_session"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from ..completion import remote_candidates, session_candidates

        path = _path_of(ctx)
        given = ctx.params.get(param.name or "") or ()
        remotes = [] if given else remote_candidates(path, incomplete)
        return _items(remotes + session_candidates(path, incomplete))


class EntryRef(_ParamType):
    """An ENTRY of the command's SESSION argument (else of the current session): shell
    completion offers the ids of its last entries."""

    name = "entry"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from ..completion import entry_candidates

        session = ctx.params.get("session")
        named = session if isinstance(session, str) else _first_argument(ctx)
        return _items(entry_candidates(_path_of(ctx), named, incomplete))


def _first_argument(ctx: click.Context) -> str | None:
    """The first argument typed, when click could not parse the words: an option still
    waiting for its value (the one being completed) leaves them all in ctx.args."""
    takes_value = {
        name
        for param in ctx.command.params
        if isinstance(param, click.Option) and not param.is_flag
        for name in param.opts
    }
    words = iter(ctx.args)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _path_of(ctx: click.Context) -> str | None:
    """The repository a completion is for: `-C PATH` if the command line has it."""
    path = ctx.find_root().params.get("path")
    return path if isinstance(path, str) else None


def _items(candidates: list[tuple[str, str]]) -> list[Any]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(value, help=help_text) for value, help_text in candidates]


SESSION = SessionName()
REMOTE = RemoteName()
REMOTE_OR_SESSION = RemoteOrSession()
ENTRY = EntryRef()
pass_app = click.make_pass_decorator(App)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
worktree_option = click.option(
    "--worktree",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help=(
        "Check the branch out in a worktree of its own at PATH (default: beside the main "
        "worktree, or under gitsess.worktreeDir), not here."
    ),
)
task_option = click.option("--task", metavar="NAME", help="The task this session is an attempt at.")


def out() -> Any:
    from ..render.terminal import console

    return console()


# Commands agents and hooks run on their own: a failed lookup there never asks the remote
# whether it has sessions this clone lacks (remote_hint.py).
UNATTENDED = frozenset({"record", "status", "capture", "hook", "hooks"})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "path", metavar="PATH", help="Run as if gitsess was started in PATH.")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.option(
    "-P",
    "--no-pager",
    is_flag=True,
    help="Never page output (default: long output at a terminal goes through git's pager).",
)
@click.version_option(__version__, "--version", prog_name="gitsess")
@click.pass_context
def cli(ctx: click.Context, path: str | None, debug: bool, no_pager: bool) -> None:
    """AI coding agent sessions as git objects: a branch for the code, a log for the talk."""
    app = App(path, debug, no_pager)
    app.remote_hints = ctx.invoked_subcommand not in UNATTENDED
    ctx.obj = app
    ctx.call_on_close(app.close)


def report_created(
    app: App,
    state: LogState,
    verb: str,
    as_json: bool,
    checked_out: bool,
    worktree: str | None = None,
) -> None:
    from ..quick import report_created as report

    report(app.sessions, state, verb, as_json, checked_out, worktree)


# -- the pager -------------------------------------------------------------------------


def pager_command(app: App) -> str | None:
    """The pager git would use, or None for none: $GIT_PAGER, else core.pager, else
    $PAGER, else less. An empty value or `cat` means no pager."""
    command = os.environ.get("GIT_PAGER")
    if command is None:
        command = git_config(app, "core.pager")
    if command is None:
        command = os.environ.get("PAGER")
    if command is None:
        command = "less"
    command = command.strip()
    return None if command in ("", "cat") else command


def git_config(app: App, name: str) -> str | None:
    from ..storage.git import config_value

    return config_value(app.path or None, name)


# As git: a command with any of these goes to `sh -c`, any other is run as it is (so a
# Ctrl-C that a shell would die of never separates gitsess from the pager it waits for).
SHELL_CHARACTERS = set("|&;<>()$`\\\"' \t\n*?[#~=%")


def needs_shell(command: str) -> bool:
    return not SHELL_CHARACTERS.isdisjoint(command)


@contextmanager
def paged(app: App) -> Iterator[None]:
    """Send what is printed inside to git's pager, when stdout is a terminal (never in a
    pipe, never with --no-pager/-P). As git does: LESS=FRX and LV=-c unless set, so a
    short output is printed as it is; the pager is waited for, whatever happens here
    (Ctrl-C, the user quitting early), so it always gives the terminal back as it was."""
    command = pager_command(app) if not app.no_pager and sys.stdout.isatty() else None
    if command is None:
        yield
        return
    from ..render import terminal

    width = terminal.console().width  # the terminal's, as rich would lay it out there
    env = {**os.environ, "GIT_PAGER_IN_USE": "true"}
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    pager = start_pager(command, env)
    if pager is None:  # not found, or not runnable: print as without one
        yield
        return
    assert pager.stdin is not None
    saved = sys.stdout
    # Rich writes past the filter to the stream under it (render/safe.py): this one.
    writer = io.TextIOWrapper(pager.stdin, encoding="utf-8", errors="backslashreplace")
    from ..render.safe import VisibleWriter

    sys.stdout = VisibleWriter(writer)
    terminal.PAGING["width"] = width
    try:
        yield
    except BrokenPipeError:
        pass  # the user quit the pager before the end: they have seen what they wanted
    finally:
        terminal.PAGING.clear()
        sys.stdout = saved
        close_pager_input(writer, pager.stdin)
        wait_for(pager)


def start_pager(command: str, env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    shell = needs_shell(command)
    try:
        return subprocess.Popen(
            command if shell else [command], shell=shell, stdin=subprocess.PIPE, env=env
        )
    except OSError:
        return None


def close_pager_input(writer: Any, pipe: Any) -> None:
    """Flush and close the pager's input; if the pager has quit (the user pressed q
    early), drop what is left instead of failing again on the way out."""
    try:
        writer.flush()
    except (BrokenPipeError, OSError, ValueError):
        # Nothing more can reach the pager: point the pipe at /dev/null, so whatever
        # is still buffered goes nowhere, now or when the writer is collected.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, pipe.fileno())
        finally:
            os.close(devnull)
    for stream in (writer, pipe):
        with suppress(OSError, ValueError):  # closed already
            stream.close()


def wait_for(pager: subprocess.Popen[bytes]) -> None:
    """Wait until the pager exits, Ctrl-C included: it has the terminal until then."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pager.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
