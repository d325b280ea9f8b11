"""The command line: thin click commands over `sessions`, printing through `render`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import click

from .. import __version__
from ..errors import BadInput
from ..quick import emit_json, open_sessions, utf8
from ..sessions import Sessions
from ..storage.log import LogState


class App:
    """Per-invocation state: where to run, and the repository once it is needed."""

    def __init__(self, path: str | None, debug: bool) -> None:
        self.path = path
        self.debug = debug
        self._sessions: Sessions | None = None

    @property
    def sessions(self) -> Sessions:
        if self._sessions is None:
            self._sessions = open_sessions(self.path)
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


pass_app = click.make_pass_decorator(App)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")


def out() -> Any:
    from ..render.terminal import console

    return console()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "path", metavar="PATH", help="Run as if gitsess was started in PATH.")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(__version__, "--version", prog_name="gitsess")
@click.pass_context
def cli(ctx: click.Context, path: str | None, debug: bool) -> None:
    """AI coding agent sessions as git objects: a branch for the code, a log for the talk."""
    app = App(path, debug)
    ctx.obj = app
    ctx.call_on_close(app.close)


# -- creating ------------------------------------------------------------------


@cli.command()
@click.argument("title")
@click.option("--from", "from_rev", metavar="REV", help="Start the branch at REV (default HEAD).")
@click.option("--no-checkout", is_flag=True, help="Create the branch without checking it out.")
@click.option("--agent", metavar="NAME", help="The agent working in this session.")
@json_option
@pass_app
def new(
    app: App, title: str, from_rev: str | None, no_checkout: bool, agent: str | None, as_json: bool
) -> None:
    """Start a session: a branch for the code and a log for the conversation."""
    state = app.sessions.new(utf8(title, "the title"), from_rev, not no_checkout, agent)
    report_created(app, state, "Started", as_json, not no_checkout)


@cli.command()
@click.argument("session")
@click.option("--at", "at", metavar="ENTRY", help="Fork after this entry (default: the last).")
@click.option("--title", metavar="TITLE", help="Title of the new session.")
@click.option("--no-checkout", is_flag=True, help="Create the branch without checking it out.")
@json_option
@pass_app
def fork(
    app: App, session: str, at: str | None, title: str | None, no_checkout: bool, as_json: bool
) -> None:
    """Start a new session from SESSION's conversation, to try another approach."""
    source = app.sessions.resolve(session)
    state = app.sessions.fork(
        source, at, utf8(title, "the title") if title else None, not no_checkout
    )
    report_created(app, state, "Forked", as_json, not no_checkout)


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


# -- reading -------------------------------------------------------------------


@cli.command("list")
@click.option("--all", "include_all", is_flag=True, help="Include archived sessions.")
@json_option
@pass_app
def list_(app: App, include_all: bool, as_json: bool) -> None:
    """The sessions in this repository, most recently updated first."""
    from ..quick import list_json, listing_rows

    if as_json:
        list_json(app.sessions, include_all)
        return
    rows = listing_rows(app.sessions, include_all)
    if not rows:
        click.echo("No sessions yet. Start one with: gitsess new TITLE")
        return
    from ..render.terminal import session_table

    out().print(session_table(rows))


@cli.command()
@click.argument("session")
@click.option(
    "--full", is_flag=True, help="Every message whole at a terminal too (else 64 KiB of each)."
)
@json_option
@pass_app
def show(app: App, session: str, full: bool, as_json: bool) -> None:
    """A session and its conversation."""
    state = app.sessions.store.require(app.sessions.resolve(session))
    entries = app.sessions.store.entries(state)
    summary = app.sessions.summary_of(state)
    if as_json:
        emit_json({"session": summary, "entries": entries})
        return
    from ..render.terminal import conversation

    conversation(out(), summary, entries, full)


@cli.command()
@json_option
@pass_app
def status(app: App, as_json: bool) -> None:
    """The current session, if a session's branch is checked out."""
    from ..quick import status as show_status

    show_status(app.sessions, as_json)


# -- writing -------------------------------------------------------------------


@cli.command()
@click.argument("args", nargs=-1, metavar="[SESSION] [TEXT]")
@click.option(
    "--role",
    type=click.Choice(["user", "assistant", "system"]),
    help="Append one message with this role; TEXT is its content ('-': stdin).",
)
@click.option(
    "--jsonl", metavar="FILE", help="Append the entries in FILE, one per line ('-': stdin)."
)
@json_option
@pass_app
def record(
    app: App, args: tuple[str, ...], role: str | None, jsonl: str | None, as_json: bool
) -> None:
    """Append entries to a session (default: the current one); all or nothing."""
    if (role is None) == (jsonl is None):
        raise click.UsageError("give either --role ROLE TEXT or --jsonl FILE")
    from ..quick import record_message, report_appended

    if role is not None:
        if len(args) not in (1, 2):
            raise click.UsageError("--role takes the message TEXT, after an optional SESSION")
        *names, text = args
        record_message(app.sessions, names, role, text, as_json)
        return
    if len(args) > 1:
        raise click.UsageError("--jsonl takes at most one SESSION")
    batch = list(read_jsonl(jsonl or "-"))
    sessions = app.sessions
    session_id = sessions.resolve_or_current(args[0] if args else None)
    # --jsonl input is checked against the model.
    count, oid = sessions.record(session_id, batch)
    report_appended(session_id, count, oid, as_json)


def read_jsonl(source: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-blank line; any bad line is an error naming it."""
    if source == "-":
        yield from parse_jsonl(sys.stdin.buffer)
        return
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"cannot read {source}: no such file")
    with path.open("rb") as handle:
        yield from parse_jsonl(handle)


def parse_jsonl(handle: BinaryIO) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"line {number}: not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise BadInput(f"line {number}: not JSON ({exc})") from None


@cli.command()
@click.argument("session", required=False)
@click.option("--last", is_flag=True, help="The most recently updated session (the default).")
@click.option(
    "--agent",
    metavar="NAME",
    help="Also hand the conversation to claude-code or codex, to carry on there.",
)
@json_option
@pass_app
def resume(app: App, session: str | None, last: bool, agent: str | None, as_json: bool) -> None:
    """Check a session's branch out and show where its conversation stands."""
    if session and last:
        raise click.UsageError("give a SESSION or --last, not both")
    sessions = app.sessions
    session_id = sessions.resolve(session) if session else sessions.last_session()
    if agent:
        from ..agents.resume import check_agent

        agent = check_agent(agent)  # before anything is checked out
    resumed = sessions.resume(session_id)
    summary = sessions.summary_of(resumed.state)
    summary["current"] = True
    handed: dict[str, str] = {}
    if agent:
        from ..agents.resume import resume_in_agent

        path, command = resume_in_agent(sessions, session_id, agent)
        handed = {"transcript": str(path), "command": command}
    if as_json:
        document = {
            "session": summary,
            "recent": resumed.recent,
            "local_changes": resumed.local_changes,
            "switched": resumed.switched,
        }
        emit_json({**document, "agent": handed} if handed else document)
        return
    from rich.markup import escape

    from ..render.terminal import entry_text, local_changes, session_header

    console = out()
    if resumed.note:
        console.print(escape(resumed.note), style="dim")
    verb = "Switched to" if resumed.switched else "Already on"
    console.print(f"{verb} [cyan]{escape(str(summary['branch']))}[/]", markup=True)
    console.print(session_header(summary))
    if resumed.recent:
        console.print(f"\n[bold]Last {len(resumed.recent)} entries:[/]")
        for entry in resumed.recent:
            console.print(entry_text(entry, console.width))
    console.print()
    local_changes(console, resumed.local_changes)
    if handed:
        console.print(f"\nWrote the conversation to {escape(handed['transcript'])}")
        console.print(f"Carry on with: [bold]{escape(handed['command'])}[/]")


@cli.command()
@click.argument("session")
@click.argument("title")
@json_option
@pass_app
def rename(app: App, session: str, title: str, as_json: bool) -> None:
    """Give SESSION a new title (its branch keeps its name)."""
    session_id = app.sessions.resolve(session)
    app.sessions.rename(session_id, utf8(title, "the title"))
    report_changed(app, session_id, f"Renamed {session_id}.", as_json)


@cli.command()
@click.argument("session")
@json_option
@pass_app
def archive(app: App, session: str, as_json: bool) -> None:
    """Hide SESSION from `list` (see `list --all`); nothing is deleted."""
    session_id = app.sessions.resolve(session)
    app.sessions.set_status(session_id, "archived")
    report_changed(app, session_id, f"Archived {session_id}.", as_json)


@cli.command()
@click.argument("session")
@json_option
@pass_app
def unarchive(app: App, session: str, as_json: bool) -> None:
    """Bring an archived SESSION back into `list`."""
    session_id = app.sessions.resolve(session)
    app.sessions.set_status(session_id, "active")
    report_changed(app, session_id, f"Unarchived {session_id}.", as_json)


def report_changed(app: App, session_id: str, message: str, as_json: bool) -> None:
    if as_json:
        emit_json(app.sessions.summary_of(app.sessions.store.require(session_id)))
    else:
        click.echo(message)


@cli.command()
@click.argument("session")
@json_option
@pass_app
def delete(app: App, session: str, as_json: bool) -> None:
    """Delete SESSION's log; `gitsess undelete` brings it back. Its branch is kept."""
    sessions = app.sessions
    state = sessions.delete(sessions.resolve(session))
    if as_json:
        emit_json({"deleted": state.session_id, "log": state.oid})
        return
    click.echo(
        f"Deleted session {state.session_id}. Undo with: gitsess undelete {state.session_id}"
    )
    click.echo(f"Its branch {state.meta.get('branch')} is kept; remove it with git branch -D.")


@cli.command()
@click.argument("session", required=False)
@json_option
@pass_app
def undelete(app: App, session: str | None, as_json: bool) -> None:
    """Restore a deleted SESSION (an id or prefix); without one, list deleted sessions."""
    sessions = app.sessions
    if session is None:
        rows = [
            {"id": sid, "log": oid, "title": title}
            for sid, oid, title in sessions.store.deleted()
            if not sessions.store.exists(sid)
        ]
        if as_json:
            emit_json(rows)
        elif not rows:
            click.echo("No deleted sessions.")
        else:
            for row in rows:
                click.echo(f"{row['id']}  {row['title']}")
        return
    session_id = sessions.undelete(session)
    report_changed(app, session_id, f"Restored session {session_id}.", as_json)


# -- sharing -------------------------------------------------------------------


@cli.command()
@click.argument("sessions", nargs=-1, metavar="[SESSION]...")
@click.option("--all", "push_all", is_flag=True, help="Every shared session.")
@click.option("--remote", "-r", metavar="R", help="Remote name or URL (default: see README).")
@click.option("--allow-secrets", is_flag=True, help="Push even if likely secrets are found.")
@json_option
@pass_app
def push(
    app: App,
    sessions: tuple[str, ...],
    push_all: bool,
    remote: str | None,
    allow_secrets: bool,
    as_json: bool,
) -> int:
    """Share sessions: push their logs and branches, and mark them shared."""
    from ..sharing import Sharing

    if bool(sessions) == push_all:
        raise click.UsageError("name the SESSIONs to push, or give --all")
    sharing = Sharing(app.sessions)
    if push_all:
        ids = sharing.shared_sessions()
        for _, broken in sorted(app.sessions.store.broken.items()):  # as `list` warns
            click.echo(f"gitsess: warning: not pushed: {broken.message}", err=True)
    else:
        ids = list(dict.fromkeys(app.sessions.resolve(s) for s in sessions))
    if not ids:
        click.echo("No shared sessions to push. Push one by name to share it.")
        return 0
    report = sharing.push(ids, remote, allow_secrets)
    failed = bool(report.rejected or report.blocked)
    if as_json:
        emit_json(
            {
                "remote": report.remote.url,
                "pushed": report.pushed,
                "up_to_date": report.up_to_date,
                "rejected": report.rejected,
                "sessions": {sid: d.as_json() for sid, d in report.sessions.items()},
                "blocked": [
                    {
                        "session": b.session_id,
                        "entries": {
                            entry: [{"type": f.kind, "hash": f.secret_hash} for f in found]
                            for entry, found in b.findings.items()
                        },
                    }
                    for b in report.blocked
                ],
            }
        )
        return 1 if failed else 0
    # What was sent on stdout, session by session; what was refused, and what to do about
    # it, on stderr, one line per refused ref.
    for session_id in report.pushed:
        detail = report.sessions[session_id]
        click.echo(f"Pushed {session_id} to {report.remote.url}: {detail.describe()}.")
    if report.up_to_date:
        click.echo(f"Up to date on {report.remote.url}: {', '.join(report.up_to_date)}.")
    for session_id, detail in report.sessions.items():
        for reason in detail.refused:
            click.echo(f"gitsess: {session_id}: {reason}", err=True)
    for blocked in report.blocked:
        click.echo(f"gitsess: not pushed, likely secrets: {blocked.describe()}", err=True)
    if report.blocked:
        click.echo(
            "gitsess: remove them with `gitsess redact SESSION`, or see the README on false "
            "positives",
            err=True,
        )
    return 1 if failed else 0


@cli.command()
@click.argument("remote", required=False)
@click.argument("sessions", nargs=-1, metavar="[SESSION]...")
@json_option
@pass_app
def fetch(app: App, remote: str | None, sessions: tuple[str, ...], as_json: bool) -> None:
    """Bring in teammates' sessions from REMOTE (all, or the named ones) and merge them."""
    from ..sharing import Sharing

    report = Sharing(app.sessions).fetch(remote, list(sessions))
    changed = {sid: what for sid, what in report.outcomes.items() if what != "up to date"}
    if as_json:
        emit_json(
            {
                "remote": report.remote.url,
                "sessions": report.outcomes,
                "missing_branches": report.missing_branches,
                "problems": report.problems,
            }
        )
        return
    if not report.outcomes:
        click.echo(f"No sessions on {report.remote.url}.")
        return
    counts: dict[str, int] = {}
    for what in report.outcomes.values():
        counts[what] = counts.get(what, 0) + 1
    summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    click.echo(f"Fetched from {report.remote.url}: {summary}.")
    for session_id, what in sorted(changed.items()):
        if session_id not in report.problems:
            click.echo(f"  {what:>10}  {session_id}")
    for _, problem in sorted(report.problems.items()):
        click.echo(f"gitsess: warning: {problem}", err=True)
    for branch in report.missing_branches:
        click.echo(f"gitsess: branch {branch} is not on {report.remote.url}", err=True)


@cli.group()
def remote() -> None:
    """Remote settings for sharing sessions."""


@remote.command("setup")
@click.argument("name", required=False)
@pass_app
def remote_setup(app: App, name: str | None) -> None:
    """Make a plain `git fetch NAME` bring session logs too."""
    from ..sharing import Sharing

    found, added = Sharing(app.sessions).setup(name)
    if added:
        click.echo(
            f"`git fetch {found.name}` now also fetches sessions ({found.sessions_refspec})."
        )
    else:
        click.echo(f"`git fetch {found.name}` already fetches sessions.")


@cli.command()
@click.argument("session")
@json_option
@pass_app
def redact(app: App, session: str, as_json: bool) -> int:
    """Replace likely secrets in SESSION's log with markers, in a new log history."""
    from ..sharing import Sharing

    session_id = app.sessions.resolve(session)
    done = Sharing(app.sessions).redact(session_id)
    if as_json:
        emit_json(
            {
                "session": session_id,
                "redacted": {
                    entry: sorted({k for kinds in places.values() for k in kinds})
                    for entry, places in done.fields.items()
                },
                "fields": done.fields,
                "not_redacted": done.left,
                "branch": done.branch,
                "old_branch_removed": done.old_branch_removed if done.branch else None,
            }
        )
        return 1 if done.left else 0
    if not done.fields and not done.branch and not done.left:
        click.echo(f"Nothing to redact in {session_id}.")
    for entry, places in done.fields.items():
        kinds = sorted({k for found in places.values() for k in found})
        where = "session.json" if entry == "session.json" else f"entry {entry}"
        click.echo(f"Redacted {', '.join(kinds)} in {where} ({', '.join(places)}).")
    if done.branch:
        click.echo(f"Renamed the branch to {done.branch}: its old name held a likely secret.")
        if not done.old_branch_removed:
            click.echo(
                "gitsess: the old branch was kept (another worktree has it checked out, or it "
                "moved): delete it with `git branch -D` once you are done with it",
                err=True,
            )
    if done.fields or done.branch:
        click.echo(
            "The old history is kept locally, in .git/gitsess/trash.git, which no push reaches."
        )
    for entry, kinds in done.left.items():
        click.echo(
            f"gitsess: {', '.join(kinds)} in {entry} is in a field redact never rewrites "
            "(an id, a time, a sha): nothing was changed there; allow it by hash if it is "
            "no secret (see the README)",
            err=True,
        )
    return 1 if done.left else 0


# -- agents --------------------------------------------------------------------


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
    from ..agents import import_conversation

    done = import_conversation(
        app.sessions, Path(file), format_name, title, not no_checkout, new=force_new
    )
    if as_json:  # the summary, and what this import added to it
        existing = done.appended is not None
        appended = done.appended if existing else done.state.count
        emit_json(
            {**app.sessions.summary_of(done.state), "existing": existing, "appended": appended}
        )
        return
    if done.appended is None:
        report_created(app, done.state, "Imported", as_json, not no_checkout)
        return
    from ..render.spans import print_spans

    count = done.appended
    what = (
        f"Appended {count} new entr{'y' if count == 1 else 'ies'} to" if count else "Nothing new:"
    )
    print_spans(
        [
            (f"{what} session ", ""),
            (str(done.state.meta.get("id")), "yellow"),
            (" ", ""),
            (str(done.state.meta.get("title", "")), "bold"),
            (" (already imported; --new makes a new session)", "dim"),
        ]
    )


EXPORT_SUFFIXES = {
    ".jsonl": "jsonl",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}


@cli.command()
@click.argument("session")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "md", "html"]),
    help="Default: from the -o suffix, else jsonl.",
)
@click.option("-o", "--output", metavar="PATH", help="Write to PATH instead of stdout.")
@pass_app
def export(app: App, session: str, fmt: str | None, output: str | None) -> None:
    """Write SESSION as portable JSONL, Markdown (for pull requests) or one HTML page."""
    sessions = app.sessions
    state = sessions.store.require(sessions.resolve(session))
    fmt = fmt or EXPORT_SUFFIXES.get(Path(output).suffix.lower() if output else "", "jsonl")
    if fmt == "jsonl":
        from ..agents.gitsess_jsonl import write

        data = write(state.meta, list(sessions.store.lines(state)))
    else:
        summary = sessions.summary_of(state)
        entries = sessions.store.entries(state)
        if fmt == "md":
            from ..render.markdown import session_markdown

            data = session_markdown(summary, entries).encode("utf-8", "replace")
        else:
            from ..render.html import session_html

            data = session_html(summary, entries).encode("utf-8", "replace")
    if output is None:
        if sys.stdout.isatty():  # to be read there, not kept: nothing may drive the terminal
            from ..render.safe import visible

            data = visible(data.decode("utf-8", "replace")).encode("utf-8", "replace")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output)
    tmp = target.with_name(f".{target.name}.gitsess-tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)  # never a half-written file where the user asked for one
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"Wrote {target} ({fmt}, {state.count} entries).", err=True)


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
    help="claude-code, codex or gemini (repeatable; status: default all).",
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
        advice = target.advice(root)
        if advice:
            click.echo(f"{target.agent}: {advice}", err=True)


@hooks.command("uninstall")
@agent_option
@click.option(
    "--git/--no-git",
    "with_git",
    default=None,
    help="Also remove the git hooks (default: when no --agent is given).",
)
@pass_app
def hooks_uninstall(app: App, agents: tuple[str, ...], with_git: bool | None) -> None:
    """Remove gitsess's hooks, and only those, putting back what was there."""
    from ..agents.hooks import INSTALLERS, installer

    root = app.sessions.repo.root
    if with_git or (with_git is None and not agents):
        from ..githooks import uninstall

        removed = uninstall(app.sessions.repo)
        click.echo(f"git: {'removed ' + ', '.join(removed) if removed else 'nothing to remove'}")
    for agent in agents or tuple(INSTALLERS):
        target = installer(agent)
        gone = target.uninstall(root)
        if gone or agents:
            state = f"removed from {', '.join(gone)}" if gone else "nothing to remove"
            click.echo(f"{target.agent}: {state}")


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


@cli.command()
@click.option("--fix", is_flag=True, help="Repair what can be repaired without losing anything.")
@json_option
@pass_app
def doctor(app: App, fix: bool, as_json: bool) -> int:
    """Check every session: refs, logs, ids, branches, fetched copies, hooks.

    Exits 1 while errors remain (warnings and advice do not count). --fix repairs by adding
    to history, never by removing from it, and says what it could not repair.
    """
    from ..doctor import Doctor

    report = Doctor(app.sessions_as_found(), fix).run()
    if as_json:
        emit_json(report.as_json())
    else:
        from ..render.doctor import doctor_view

        doctor_view(out(), report)
    return 0 if report.ok else 1


# -- review: the sessions behind commits ------------------------------------------


@cli.command()
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option(
    "--conversation/--no-conversation",
    default=True,
    help="Fold each session's whole conversation in (the default), or leave it out.",
)
@json_option
@pass_app
def pr(app: App, range_: str | None, conversation: bool, as_json: bool) -> None:
    """The sessions behind a range of commits, as Markdown for a pull request.

    RANGE defaults to the current branch against its upstream (unless that is the
    branch's own copy on the remote), else against main, master or origin/main. A
    single revision REV means REV..HEAD.
    """
    from ..review import Review

    document = Review(app.sessions).pr(range_)
    if as_json:
        emit_json(document)
        return
    from ..render.review import GITHUB_BODY_LIMIT, pr_markdown
    from ..render.safe import visible

    text = visible(pr_markdown(document, conversation))
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))  # lone surrogates: "?"
    sys.stdout.flush()
    if len(text) > GITHUB_BODY_LIMIT:
        click.echo(
            f"gitsess: this is {len(text):,} characters; GitHub takes {GITHUB_BODY_LIMIT:,} in a "
            "pull request description: try --no-conversation",
            err=True,
        )


@cli.command()
@click.argument("commit", metavar="COMMIT|FILE:LINE")
@json_option
@pass_app
def why(app: App, commit: str, as_json: bool) -> None:
    """The session behind COMMIT (or the commit of FILE:LINE), and what led to it."""
    from ..review import Review

    document = Review(app.sessions).why(commit, Path(app.path or os.getcwd()))
    if as_json:
        emit_json(document)
        return
    from ..render.review import why_view

    why_view(out(), document)


@cli.command("log")
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option(
    "-n",
    "--max-count",
    "count",
    type=click.IntRange(min=1),
    help="At most this many commits (default 20 without a RANGE A..B).",
)
@json_option
@pass_app
def log_(app: App, range_: str | None, count: int | None, as_json: bool) -> None:
    """Commits, oldest first, each after the conversation that produced it.

    Default: the last 20 commits of the current branch. RANGE is A..B, or a revision
    whose last 20 commits are shown.
    """
    from ..review import Review

    document = Review(app.sessions).log(range_, count)
    if as_json:
        emit_json(document)
        return
    from ..render.review import log_view

    log_view(out(), document)
