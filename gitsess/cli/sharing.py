"""Commands that share sessions through git remotes: push, fetch, remote setup, redact."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import AmbiguousSession, BadInput
from .base import REMOTE, REMOTE_OR_SESSION, SESSION, App, cli, emit_json, json_option, pass_app

if TYPE_CHECKING:
    from ..storage.remote import Remote

REMOTE_HELP = (
    "Remote name, URL or path (default: gitsess.remote, else the upstream remote of the "
    "session's branch, else of the checked-out branch, else origin). With gitsess.sessionsRemote "
    "set, logs go there instead and R takes the branches."
)
remote_option = click.option("--remote", "-r", "remote", type=REMOTE, metavar="R", help=REMOTE_HELP)


def split_remote(
    app: App, args: tuple[str, ...], remote: str | None
) -> tuple[str | None, list[str]]:
    """The remote and the sessions of `push`/`fetch`: ``--remote R``, else a first argument
    that names a remote (a configured one, a URL or a path to a repository), as in `git
    push origin`; the rest are sessions."""
    if remote is not None or not args:
        return remote, list(args)
    from ..storage.remote import names_remote

    first = args[0]
    if not names_remote(app.sessions.repo, first):
        return None, list(args)
    if _names_session(app, first):
        raise BadInput(
            f"{first!r} is ambiguous: it names a remote and a session here; give the remote "
            f"as `--remote {first}`, or the session by its id"
        )
    return first, list(args[1:])


def _names_session(app: App, name: str) -> bool:
    """Whether ``name`` names one or more sessions here (asking no remote)."""
    hints, app.sessions.remote_hints = app.sessions.remote_hints, False
    try:
        app.sessions.resolve(name)
    except AmbiguousSession:
        return True
    except BadInput:
        return False
    finally:
        app.sessions.remote_hints = hints
    return True


@cli.command()
@click.argument("args", type=REMOTE_OR_SESSION, nargs=-1, metavar="[REMOTE] [SESSION]...")
@click.option("--all", "push_all", is_flag=True, help="Every shared session.")
@remote_option
@click.option("--allow-secrets", is_flag=True, help="Push even if likely secrets are found.")
@json_option
@pass_app
def push(
    app: App,
    args: tuple[str, ...],
    push_all: bool,
    remote: str | None,
    allow_secrets: bool,
    as_json: bool,
) -> int:
    """Share sessions (default: the current one): push their logs and branches, and mark
    them shared. The remote is --remote R or a first argument naming one (`push origin`)."""
    from ..sharing import Sharing

    remote, sessions = split_remote(app, args, remote)
    if sessions and push_all:
        raise click.UsageError("name the SESSIONs to push, or give --all, not both")
    sharing = Sharing(app.sessions)
    if push_all:
        ids = sharing.shared_sessions()
        for _, broken in sorted(app.sessions.store.broken.items()):  # as `list` warns
            click.echo(f"gitsess: warning: not pushed: {broken.message}", err=True)
    elif sessions:
        ids = list(dict.fromkeys(app.sessions.resolve(s) for s in sessions))
    else:
        try:
            ids = [app.sessions.require_current().session_id]
        except BadInput as exc:  # where HEAD is and the ways out, as every command says
            raise BadInput(f"{exc.message}; or push every shared session with --all") from None
    if not ids:
        click.echo("No shared sessions to push. Push one by name to share it.")
        return 0
    report = sharing.push(ids, remote, allow_secrets)
    failed = bool(report.rejected or report.blocked)
    if as_json:
        emit_json(
            {
                "remote": report.remote.url,
                "sessions_remote": (report.sessions_remote or report.remote).url,
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
    # With a sessions remote, each line says where the log went and where the branch did.
    logs_at = report.sessions_remote
    lines = []
    for session_id in report.pushed:
        detail = report.sessions[session_id]
        where = report.remote.url
        if logs_at is not None:
            where = logs_at.url if detail.branch is None else both_remotes(logs_at, report.remote)
        lines.append(f"Pushed {session_id} to {where}: {detail.describe()}.")
    if report.up_to_date:
        where = report.remote.url if logs_at is None else both_remotes(logs_at, report.remote)
        lines.append(f"Up to date on {where}: {', '.join(report.up_to_date)}.")
    if lines:  # one write: 10,000 echo calls cost a third of a second
        click.echo("\n".join(lines))
    for session_id, detail in report.sessions.items():
        for reason in detail.refused:
            click.echo(f"gitsess: {session_id}: {reason}", err=True)
    for blocked in report.blocked:
        click.echo(f"gitsess: not pushed, likely secrets: {blocked.describe()}", err=True)
    if report.blocked:
        click.echo(
            "gitsess: remove them with `gitsess redact SESSION`; for false positives see "
            "docs/sharing.md#false-positives",
            err=True,
        )
    return 1 if failed else 0


@cli.command()
@click.argument("args", type=REMOTE_OR_SESSION, nargs=-1, metavar="[REMOTE] [SESSION]...")
@remote_option
@json_option
@pass_app
def fetch(app: App, args: tuple[str, ...], remote: str | None, as_json: bool) -> int:
    """Bring in teammates' sessions (all, or the named ones) and merge them. The remote is
    --remote R or a first argument naming one (`fetch origin`)."""
    from ..sharing import Sharing

    remote, sessions = split_remote(app, args, remote)
    report = Sharing(app.sessions).fetch(remote, sessions)
    logs_at = report.sessions_remote or report.remote
    changed = {sid: what for sid, what in report.outcomes.items() if what != "up to date"}
    if as_json:
        emit_json(
            {
                "remote": report.remote.url,
                "sessions_remote": logs_at.url,
                "sessions": report.outcomes,
                "missing_branches": report.missing_branches,
                "branches_error": report.branches_error,
                "problems": report.problems,
            }
        )
        return 1 if report.branches_error else 0
    if report.branches_error:
        click.echo(f"gitsess: no branch fetched: {report.branches_error}", err=True)
    if not report.outcomes:
        click.echo(f"No sessions on {logs_at.url}.")
        return 1 if report.branches_error else 0
    counts: dict[str, int] = {}
    for what in report.outcomes.values():
        counts[what] = counts.get(what, 0) + 1
    summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    where = report.remote.url
    if report.sessions_remote is not None:
        where = both_remotes(report.sessions_remote, report.remote)
    click.echo(f"Fetched from {where}: {summary}.")
    lines = [
        f"  {what:>10}  {session_id}"
        for session_id, what in sorted(changed.items())
        if session_id not in report.problems
    ]
    if lines:  # one write, however many sessions came
        click.echo("\n".join(lines))
    for _, problem in sorted(report.problems.items()):
        click.echo(f"gitsess: warning: {problem}", err=True)
    for branch in report.missing_branches:
        click.echo(f"gitsess: branch {branch} is not on {report.remote.url}", err=True)
    return 1 if report.branches_error else 0


def both_remotes(logs: Remote, code: Remote) -> str:
    """Where logs and branches went (or came from) when they are two remotes."""
    return f"{logs.url} (logs) and {code.url} (branches)"


@cli.group()
def remote() -> None:
    """Remote settings for sharing sessions."""


@remote.command("setup")
@click.argument("name", type=REMOTE, required=False)
@pass_app
def remote_setup(app: App, name: str | None) -> None:
    """Make a plain `git fetch NAME` bring session logs too.

    NAME defaults to gitsess.sessionsRemote when set, else to the remote `push` uses:
    gitsess.remote, else the branch's upstream remote, else origin.
    """
    from ..sharing import Sharing

    found, added = Sharing(app.sessions).setup(name)
    if added:
        click.echo(
            f"`git fetch {found.name}` now also fetches sessions ({found.sessions_refspec})."
        )
    else:
        click.echo(f"`git fetch {found.name}` already fetches sessions.")


@cli.command()
@click.argument("session", type=SESSION)
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
            "no secret (docs/sharing.md#false-positives)",
            err=True,
        )
    return 1 if done.left else 0
