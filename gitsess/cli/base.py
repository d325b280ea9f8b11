"""What every command shares: the `cli` group and its global options, the per-invocation
App, the --json option and the output helpers. The area modules take these from here; the
package's __init__ imports the areas, which registers their commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..quick import emit_json, open_sessions, utf8
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
    "pass_app",
    "report_created",
    "utf8",
]


class App:
    """Per-invocation state: where to run, and the repository once it is needed."""

    def __init__(self, path: str | None, debug: bool) -> None:
        self.path = path
        self.debug = debug
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


def out() -> Any:
    from ..render.terminal import console

    return console()


# Commands agents and hooks run on their own: a failed lookup there never asks the remote
# whether it has sessions this clone lacks (remote_hint.py).
UNATTENDED = frozenset({"record", "status", "capture", "hook", "hooks"})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "path", metavar="PATH", help="Run as if gitsess was started in PATH.")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(__version__, "--version", prog_name="gitsess")
@click.pass_context
def cli(ctx: click.Context, path: str | None, debug: bool) -> None:
    """AI coding agent sessions as git objects: a branch for the code, a log for the talk."""
    app = App(path, debug)
    app.remote_hints = ctx.invoked_subcommand not in UNATTENDED
    ctx.obj = app
    ctx.call_on_close(app.close)


def report_created(app: App, state: LogState, verb: str, as_json: bool, checked_out: bool) -> None:
    summary = app.sessions.summary_of(state)
    if as_json:
        emit_json(summary)
        return
    from ..render.spans import print_spans

    meta = state.meta
    where = "checked out" if checked_out else "not checked out"
    print_spans(
        [
            (f"{verb} session ", ""),
            (str(meta["id"]), "yellow"),
            (" ", ""),
            (str(meta["title"]), "bold"),
            (f" with {state.count} entries" if state.count else "", ""),
        ],
        [("Branch ", ""), (str(meta["branch"]), "cyan"), (f" ({where})", "")],
    )
