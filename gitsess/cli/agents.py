"""Commands between gitsess and coding agents: import, export, capture, hooks."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import BadInput
from .base import SESSION, App, cli, emit_json, json_option, pass_app


@cli.command("import")
@click.argument("file")
@click.option(
    "--format",
    "format_name",
    metavar="F",
    help="claude-code, codex, gemini, kimi, aider or gitsess (default: detected).",
)
@click.option("--title", help="Title of the new session (default: from the transcript).")
@click.option("--no-checkout", is_flag=True, help="Create the branch without checking it out.")
@click.option(
    "--new",
    "force_new",
    is_flag=True,
    help="A new session even if this transcript was imported or captured before.",
)
@json_option
@pass_app
def import_(
    app: App,
    file: str,
    format_name: str | None,
    title: str | None,
    no_checkout: bool,
    force_new: bool,
    as_json: bool,
) -> None:
    """Import an agent's transcript as a new session (branch at HEAD).

    A transcript imported or captured before goes into that session: only what it does
    not hold yet is appended (--new: a new session all the same).
    """
    from ..quick import import_transcript

    import_transcript(app.sessions, file, format_name, title, not no_checkout, force_new, as_json)


EXPORT_SUFFIXES = {
    ".jsonl": "jsonl",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "md", "html"]),
    help="Default: from the -o suffix, else jsonl.",
)
@click.option("-o", "--output", metavar="PATH", help="Write to PATH instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists (default: refuse).")
@click.option(
    "--full",
    is_flag=True,
    help="md/html: agent noise (injected context, token counts...) whole, not folded to a line.",
)
@pass_app
def export(
    app: App, session: str | None, fmt: str | None, output: str | None, force: bool, full: bool
) -> None:
    """Write SESSION (default: the current session) as portable JSONL, Markdown (for pull
    requests) or one HTML page.

    JSONL holds every entry as recorded; Markdown and HTML fold agent noise to a line each
    (--full: everything whole).
    """
    if output is not None and not force and os.path.lexists(output):
        raise BadInput(f"{output} exists: --force overwrites it")
    sessions = app.sessions
    state = sessions.store.require(sessions.resolve_or_current(session))
    fmt = fmt or EXPORT_SUFFIXES.get(Path(output).suffix.lower() if output else "", "jsonl")
    if fmt == "jsonl":
        from ..agents.gitsess_jsonl import write

        data = write(state.meta, list(sessions.store.lines(state)))
    else:
        summary = sessions.summary_of(state)
        entries = sessions.store.entries(state)
        if fmt == "md":
            from ..render.markdown import session_markdown

            data = session_markdown(summary, entries, full=full).encode("utf-8", "replace")
        else:
            from ..render.html import session_html

            data = session_html(summary, entries, full=full).encode("utf-8", "replace")
    if output is None:
        if sys.stdout.isatty():  # to be read there, not kept: nothing may drive the terminal
            from ..render.safe import visible

            data = visible(data.decode("utf-8", "replace")).encode("utf-8", "replace")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_file(Path(output), data, force)
    from ..render.text import plural

    click.echo(f"Wrote {output} ({fmt}, {plural(state.count, 'entry')}).", err=True)


def write_file(target: Path, data: bytes, force: bool) -> None:
    """``data`` into ``target`` whole or not at all: written to a temporary file beside it,
    then renamed over it (``force``) or linked to its name, which fails if the name was
    taken meanwhile. A failed export leaves no file, and nothing the user had is lost."""
    import tempfile

    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".gitsess-tmp", dir=target.parent or "."
        )
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if force:
            tmp.replace(target)
        else:
            _link_new(tmp, target)
    except FileExistsError:
        raise BadInput(f"{target} exists: --force overwrites it") from None
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _link_new(tmp: Path, target: Path) -> None:
    """``tmp`` under the new name ``target``: a hard link, which never replaces a file that
    appeared since the check; where the file system has none, a rename."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(str(target)) from None
        tmp.replace(target)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@cli.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_app
def capture(app: App, args: tuple[str, ...]) -> int:
    """Record what an agent's transcript gained (called from the agent's hooks)."""
    from ..capture import main as capture_main

    if app.path:
        os.chdir(app.path)
    return capture_main(list(args))


@cli.group()
def hooks() -> None:
    """Install, remove and inspect the hooks that call gitsess."""


agent_option = click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="NAME",
    help=(
        "claude-code, codex or gemini (repeatable; default: install and uninstall the git "
        "hooks only, status shows everything)."
    ),
)


@hooks.command("install")
@agent_option
@pass_app
def hooks_install(app: App, agents: tuple[str, ...]) -> None:
    """Install the git hooks (default), or an agent's capture hooks with --agent."""
    root = app.sessions.repo.root
    if not agents:
        from ..githooks import gitsess_executable, hooks_dir, install

        installed = install(app.sessions.repo, gitsess_executable())
        where = hooks_dir(app.sessions.repo)
        if installed:
            click.echo(f"Installed {', '.join(installed)} in {where}")
        else:
            click.echo(f"Git hooks already installed in {where}")
        return
    from ..agents.hooks import installer

    for agent in agents:
        target = installer(agent)
        added = target.install(root)
        where_file = target.path(root).relative_to(root)
        if added:
            click.echo(f"{target.agent}: capture hooked on {', '.join(added)} in {where_file}")
        else:
            click.echo(f"{target.agent}: already installed in {where_file}")
        if target.personal:
            from ..agents.hooks import exclude_locally

            exclude = exclude_locally(app.sessions.repo, target.relative)
            if exclude is not None:
                click.echo(f"{target.agent}: {target.relative} added to {exclude}")
        advice = target.advice(root)
        if advice:
            click.echo(f"{target.agent}: {advice}", err=True)
        for path in other_worktrees(app):  # installed once, they serve every worktree
            if target.install(Path(path)):
                click.echo(f"{target.agent}: capture hooked in the worktree {path} too")


def other_worktrees(app: App) -> list[str]:
    """The repository's other worktrees that exist (sessions' worktrees among them)."""
    from ..storage.worktrees import worktrees

    here = app.sessions.repo.root_path
    return [w.path for w in worktrees(app.sessions.repo) if w.path != here and not w.prunable]


@hooks.command("uninstall")
@agent_option
@click.option("--all", "everything", is_flag=True, help="Remove the git hooks and every agent's.")
@click.option(
    "--git/--no-git",
    "with_git",
    default=None,
    help="Remove the git hooks too (default: only when no --agent is given).",
)
@pass_app
def hooks_uninstall(
    app: App, agents: tuple[str, ...], everything: bool, with_git: bool | None
) -> None:
    """Remove what `hooks install` installed, and only that, putting back what was there.

    Alone it removes the git hooks, as `hooks install` alone installs them; an agent's
    hooks go only with --agent NAME (or --all). What stays installed is listed.
    """
    from ..agents.hooks import INSTALLERS, installer
    from ..githooks import status as git_status

    root = app.sessions.repo.root
    if everything:
        agents = tuple(INSTALLERS)
    if everything or with_git or (with_git is None and not agents):
        from ..githooks import uninstall

        removed = uninstall(app.sessions.repo)
        click.echo(f"git: {'removed ' + ', '.join(removed) if removed else 'nothing to remove'}")
    elif any(state.startswith("installed") for state in git_status(app.sessions.repo).values()):
        click.echo("git: hooks kept (`gitsess hooks uninstall` removes them)")
    chosen = {installer(agent).agent for agent in agents}
    for target in INSTALLERS.values():
        if target.agent in chosen:
            gone = target.uninstall(root)
            state = f"removed from {', '.join(gone)}" if gone else "nothing to remove"
            click.echo(f"{target.agent}: {state}")
        elif _still_installed(target, root):
            where = target.path(root).relative_to(root)
            click.echo(f"{target.agent}: kept in {where} (--agent {target.agent} removes it)")


def _still_installed(target: Any, root: Path) -> bool:
    try:
        return bool(target.status(root).installed)
    except BadInput:  # a settings file gitsess cannot read: not its to report on here
        return False


@hooks.command("status")
@agent_option
@json_option
@pass_app
def hooks_status(app: App, agents: tuple[str, ...], as_json: bool) -> None:
    """Which hooks are installed here."""
    from ..agents.hooks import INSTALLERS, installer
    from ..githooks import hooks_dir
    from ..githooks import status as git_status

    root = app.sessions.repo.root
    rows = [installer(agent).status(root) for agent in agents or tuple(INSTALLERS)]
    git_rows = git_status(app.sessions.repo) if not agents else {}
    if as_json:
        agent_rows = [
            {"agent": r.agent, "file": str(r.path), "events": r.installed, "installed": r.complete}
            for r in rows
        ]
        git_doc = (
            {"dir": str(hooks_dir(app.sessions.repo)), "hooks": git_rows} if git_rows else None
        )
        emit_json({"git": git_doc, "agents": agent_rows})
        return
    for name, state in git_rows.items():
        click.echo(f"git {name:19} {state}")
    for row in rows:
        state = (
            "installed"
            if row.complete
            else ("partly installed" if row.installed else "not installed")
        )
        click.echo(f"{row.agent:12} {state:17} {row.path.relative_to(root)}")
