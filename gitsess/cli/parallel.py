"""Commands for parallel attempts: try, task, compare, diff, promote, worktree."""

from __future__ import annotations

import click

from .base import SESSION, App, cli, emit_json, json_option, out, pass_app


@cli.command("try")
@click.argument("name")
@click.option("-n", "count", type=int, default=3, show_default=True, help="How many trials.")
@click.option("--worktree", is_flag=True, help="Give each trial a worktree of its own.")
@click.option("--from", "from_rev", metavar="REV", help="Start the branches at REV (default HEAD).")
@json_option
@pass_app
def try_(
    app: App, name: str, count: int, worktree: bool, from_rev: str | None, as_json: bool
) -> None:
    """Start COUNT trial sessions of task NAME at once, each on its own branch (none is
    checked out here; --worktree checks each out in a worktree of its own)."""
    from ..tasks import start_trials

    made = start_trials(app.sessions, name, count, from_rev, worktree)
    if as_json:
        emit_json([{**app.sessions.summary_of(s), "worktree": p} for s, p in made])
        return
    click.echo(f"Started {len(made)} trial{'s' if len(made) != 1 else ''} of {name!r}:")
    for state, path in made:
        where = f"  {path}" if path else f"  branch {state.meta['branch']}"
        click.echo(f"  {state.session_id}  {state.meta['title']}{where}")


@cli.group()
def task() -> None:
    """Tasks: several attempts (sessions) at one objective."""


@task.command("list")
@json_option
@pass_app
def task_list(app: App, as_json: bool) -> None:
    """Every task, with its sessions and last activity."""
    from ..render.text import when
    from ..tasks import tasks

    found = tasks(app.sessions)
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo(
            "No tasks yet: `gitsess try NAME` or `gitsess new TITLE --task NAME` starts one."
        )
        return
    for item in found:
        active = f"{item['active']} active" + (
            f" of {item['sessions']}" if item["sessions"] != item["active"] else ""
        )
        click.echo(f"{item['task']}  ({active}, updated {when(item['updated'])})")


@cli.command()
@click.argument("sessions", type=SESSION, nargs=-1, metavar="[SESSION]...")
@click.option("--task", "task_name", metavar="NAME", help="Compare every session of task NAME.")
@json_option
@pass_app
def compare(app: App, sessions: tuple[str, ...], task_name: str | None, as_json: bool) -> None:
    """Compare attempts: entries, turns, tool calls, commits, files changed, lines added and
    removed since each started, recorded checks, tokens, last activity."""
    from ..tasks import compare_row, sessions_of_task

    if bool(sessions) == bool(task_name):
        raise click.UsageError("name the SESSIONs to compare, or give --task NAME")
    if task_name:
        ids = [str(row.meta["id"]) for row in sessions_of_task(app.sessions, task_name)]
        if not ids:
            from ..errors import BadInput

            raise BadInput(f"no sessions of task {task_name!r} (`gitsess task list` shows tasks)")
    else:
        ids = list(dict.fromkeys(app.sessions.resolve(name) for name in sessions))
    rows = [compare_row(app.sessions, app.sessions.store.require(sid)) for sid in ids]
    if as_json:
        emit_json(rows)
        return
    from ..render.compare import table

    out().print(table(rows))


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("first", type=SESSION)
@click.argument("second", type=SESSION)
@click.argument("git_options", nargs=-1, type=click.UNPROCESSED, metavar="[GIT-DIFF-OPTIONS]...")
@pass_app
def diff(app: App, first: str, second: str, git_options: tuple[str, ...]) -> int:
    """The code difference between two sessions' branches, through `git diff` (its options
    pass through: --stat, -w, -- PATH...; its pager too)."""
    from ..storage.history import show_diff

    tips = []
    for name in (first, second):
        session_id = app.sessions.resolve(name)
        state = app.sessions.store.require(session_id)
        branch = app.sessions.require_branch(state)
        tip = app.sessions.repo.branch_tip(branch)
        if tip is None:
            from ..errors import BadInput

            raise BadInput(f"session {session_id}'s branch {branch} has no commits yet")
        tips.append(tip)
    options = list(git_options)
    paths: list[str] = []
    if "--" in options:
        at = options.index("--")
        options, paths = options[:at], options[at:]
    return show_diff(app.sessions.repo, options, tips[0], tips[1], paths)


@cli.command()
@click.argument("session", type=SESSION)
@click.option(
    "--into",
    metavar="BRANCH",
    help="Merge into BRANCH (default: the branch the session was started from).",
)
@click.option(
    "--ff-only", "mode", flag_value="ff-only", help="Only fast-forward; refuse otherwise."
)
@click.option(
    "--squash", "mode", flag_value="squash", help="One commit on BRANCH with the session's changes."
)
@json_option
@pass_app
def promote(app: App, session: str, into: str | None, mode: str | None, as_json: bool) -> None:
    """Keep this attempt: merge its branch as `git merge` would (without checking the target
    out), record it, archive the task's other attempts and remove their clean worktrees."""
    from ..promote import promote as run

    session_id = app.sessions.resolve(session)
    done = run(app.sessions, session_id, into, mode or "merge")
    if as_json:
        emit_json(done.as_json())
        return
    if done.how == "up to date":
        click.echo(f"{done.into} already has everything of {session_id}.")
    else:
        click.echo(
            f"Promoted {session_id} into {done.into} ({done.how}, now at {done.commit[:12]})."
        )
    if done.archived:
        click.echo(f"Archived the task's other sessions: {', '.join(done.archived)}.")
    for path in done.removed_worktrees:
        click.echo(f"Removed the worktree {path}.")
    for path, why in done.kept_worktrees.items():
        click.echo(f"gitsess: kept {path}: {why}", err=True)


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option(
    "--path",
    metavar="PATH",
    help="Where to make it (default: beside the main worktree, or gitsess.worktreeDir).",
)
@click.option(
    "--remove",
    is_flag=True,
    help="Remove the session's worktree (refused with uncommitted changes).",
)
@json_option
@pass_app
def worktree(app: App, session: str | None, path: str | None, remove: bool, as_json: bool) -> None:
    """Print the path of SESSION's worktree, making it if needed (default: the current
    session). The main checkout is not touched."""
    from ..worktrees import open_worktree, remove_worktree

    session_id = app.sessions.resolve_or_current(session)
    if remove:
        state = app.sessions.store.require(session_id)
        removed = remove_worktree(app.sessions, app.sessions.require_branch(state))
        if as_json:
            emit_json({"id": session_id, "removed": removed})
        else:
            click.echo(f"Removed {removed}." if removed else f"{session_id} has no worktree.")
        return
    where, made = open_worktree(app.sessions, session_id, path)
    if as_json:
        emit_json({"id": session_id, "worktree": where, "created": made})
    else:
        click.echo(where)
