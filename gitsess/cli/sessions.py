"""Commands on sessions themselves: start, read, write, resume, rename, archive, delete."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import BadInput
from ..listtable import LIST_COUNT, more_line
from ..render.text import ENTRY_TYPES, ROLES, plural, select_entries
from .base import (
    ENTRY,
    SESSION,
    App,
    cli,
    emit_json,
    json_option,
    out,
    paged,
    pass_app,
    report_created,
    task_option,
    utf8,
    worktree_option,
)

# -- creating ------------------------------------------------------------------


@cli.command()
@click.argument("title")
@click.option("--from", "from_rev", metavar="REV", help="Start the branch at REV (default HEAD).")
@click.option("--no-checkout", is_flag=True, help="Create the branch without checking it out.")
@click.option("--agent", metavar="NAME", help="The agent working in this session (default: none).")
@worktree_option
@task_option
@json_option
@pass_app
def new(
    app: App,
    title: str,
    from_rev: str | None,
    no_checkout: bool,
    agent: str | None,
    worktree: str | None,
    task: str | None,
    as_json: bool,
) -> None:
    """Start a session: a branch for the code and a log for the conversation."""
    from ..tasks import check_task

    extra = {"task": check_task(task)} if task else None
    checkout = not no_checkout and worktree is None
    state = app.sessions.new(utf8(title, "the title"), from_rev, checkout, agent, extra=extra)
    path = open_worktree_for(app, state.session_id, worktree)
    report_created(app, state, "Started", as_json, checkout, path)


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option(
    "--at",
    "at",
    type=ENTRY,
    metavar="ENTRY",
    help="Fork after this entry: its number as `show` prints it (12 or #12), a unique id"
    " prefix of 4+ characters, or its id (default: the last entry).",
)
@click.option(
    "--title",
    metavar="TITLE",
    help='Title of the new session (default: SESSION\'s, with " (fork)").',
)
@click.option("--no-checkout", is_flag=True, help="Create the branch without checking it out.")
@worktree_option
@task_option
@json_option
@pass_app
def fork(
    app: App,
    session: str | None,
    at: str | None,
    title: str | None,
    no_checkout: bool,
    worktree: str | None,
    task: str | None,
    as_json: bool,
) -> None:
    """Start a new session from SESSION's conversation (default: the current session's),
    to try another approach."""
    from ..tasks import check_task

    source = app.sessions.resolve_or_current(session)
    checkout = not no_checkout and worktree is None
    new_title = utf8(title, "the title") if title is not None else None
    state = app.sessions.fork(source, at, new_title, checkout)
    if task:
        app.sessions.set_task(state.session_id, check_task(task))
        state = app.sessions.store.require(state.session_id)
    path = open_worktree_for(app, state.session_id, worktree)
    report_created(app, state, "Forked", as_json, checkout, path)


def open_worktree_for(app: App, session_id: str, worktree: str | None) -> str | None:
    """`--worktree [PATH]`: the session's worktree, made now (None without the option)."""
    if worktree is None:
        return None
    from ..worktrees import open_worktree

    path, _ = open_worktree(app.sessions, session_id, worktree or None)
    return path


# -- reading -------------------------------------------------------------------


@cli.command("list")
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Every session: archived ones too, and no page limit (the table goes through the pager).",
)
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    metavar="N",
    help="The N most recent sessions (default: git config gitsess.listCount, else"
    f" {LIST_COUNT}; with --json: all of them).",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="Only sessions with TAG (repeatable: all of them).",
)
@click.option("--task", metavar="NAME", help="Only the sessions of task NAME.")
@json_option
@pass_app
def list_(
    app: App,
    include_all: bool,
    count: int | None,
    tags: tuple[str, ...],
    task: str | None,
    as_json: bool,
) -> None:
    """The sessions in this repository: pinned ones first, then the most recently updated,
    a page of them (--json: every session, by update only)."""
    from ..quick import list_json, listing_rows

    if as_json and not tags and task is None:
        list_json(app.sessions, include_all, count)
        return
    limit = count if count is not None or as_json or include_all else page_size(app)
    if not tags and task is None and not as_json and plain_table(app, include_all, limit):
        return
    if tags or task is not None:
        rows = listing_rows(app.sessions, include_all)
        if tags:
            rows = [r for r in rows if set(tags) <= set(r.get("tags") or [])]
        if task is not None:
            rows = [r for r in rows if r.get("task") == task]
        if as_json:
            emit_json(rows if limit is None else rows[:limit])
            return
        total = len(rows)
        rows = pinned_first(app, rows)[:limit]
    else:
        rows, total = listing_page(app, include_all, limit)
    if not rows and (tags or task is not None):
        what = f"tagged {' and '.join(tags)}" if tags else f"of task {task!r}"
        click.echo(f"No sessions {what}.")
        return
    mark_worktrees(app, rows)
    if not rows:
        click.echo("No sessions yet. Start one with: gitsess new TITLE")
        from ..remote_hint import print_list_hint

        print_list_hint(app.sessions.repo)  # a fresh clone: does the remote have some?
        return
    show_table(app, rows, more_line(total - len(rows), len(rows)))


def page_size(app: App) -> int:
    """`git config gitsess.listCount`, else LIST_COUNT."""
    from ..listtable import page_size as configured

    value = app.sessions.repo.config("gitsess.listCount")
    size = configured(value)
    if size is None:
        raise BadInput(f"gitsess.listCount is {value!r}: it must be a whole number, 1 or more")
    return size


def listing_page(
    app: App, include_all: bool, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    """The page's rows (pinned first, marked) and how many sessions the listing holds;
    warnings on stderr."""
    from ..labels import pinned

    first = pinned(app.sessions)
    rows, total, warnings = app.sessions.page(include_all, limit, first)
    for warning in warnings:
        click.echo(f"gitsess: warning: {warning}", err=True)
    pins = set(first)
    for row in rows:
        row["pinned"] = row.get("id") in pins
    return rows, total


# Past this many rows a table is laid out as plain aligned lines, not by rich: the same
# columns, at the speed of `list --json` (rich's layout costs ~0.5 ms a row).
RICH_ROWS = 200


def plain_table(app: App, include_all: bool, limit: int | None) -> bool:
    """Show the table as aligned lines made from the listing cache's names (into a pipe,
    or more rows than rich lays out at a terminal); False when it is not for this table
    (rich's, or some session must be read afresh: then the rows come the long way)."""
    from ..labels import pinned
    from ..listtable import table_rows
    from ..render.lines import column_lines
    from ..storage.worktrees import by_branch

    terminal = out().is_terminal
    if terminal and limit is not None and limit <= RICH_ROWS:
        return False
    here = app.sessions.repo.root_path
    elsewhere = {b: w.path for b, w in by_branch(app.sessions.repo).items() if w.path != here}
    found = table_rows(app.sessions, include_all, limit, pinned(app.sessions), elsewhere)
    if found is None or not found.shown or (terminal and found.shown <= RICH_ROWS):
        return False
    for warning in found.warnings:
        click.echo(f"gitsess: warning: {warning}", err=True)
    more = more_line(found.total - found.shown, found.shown)
    show_lines(app, column_lines(found.columns), more)
    return True


def show_table(app: App, rows: list[dict[str, Any]], more: str | None) -> None:
    from ..render.terminal import session_lines, session_table

    if not out().is_terminal or len(rows) > RICH_ROWS:
        show_lines(app, session_lines(rows), more)
        return
    with paged(app):
        console = out()
        console.print(session_table(rows, console.width))
        if more:
            console.print(more, style="dim", markup=False, highlight=False)


def show_lines(app: App, lines: str, more: str | None) -> None:
    """The table as aligned lines: into a pipe one whole line per session (for grep), at
    a terminal through the pager."""
    if not out().is_terminal:
        sys.stdout.write(lines)
        if more:  # on stderr: what a pipe reads stays one line per session
            click.echo(more, err=True)
        return
    with paged(app):
        console = out()
        console.file.write(lines)
        if more:
            console.print(more, style="dim", markup=False, highlight=False)


def mark_worktrees(app: App, rows: list[dict[str, Any]]) -> None:
    """Give each session checked out in another worktree its path (one `git worktree
    list` for them all), for the `+` mark and the worktree column."""
    from ..storage.worktrees import by_branch

    here = app.sessions.repo.root_path
    elsewhere = {b: w.path for b, w in by_branch(app.sessions.repo).items() if w.path != here}
    for row in rows:
        path = elsewhere.get(str(row.get("branch")))
        if path is not None:
            row["worktree"] = path


def pinned_first(app: App, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pinned sessions first, in the order they were pinned, marked for the table."""
    from ..labels import pinned

    pins = {sid: n for n, sid in enumerate(pinned(app.sessions))}
    for row in rows:
        row["pinned"] = row.get("id") in pins
    return sorted(rows, key=lambda r: pins.get(str(r.get("id")), len(pins)))


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option(
    "--full",
    is_flag=True,
    help="Every message whole at a terminal too (else 64 KiB of each), and agent noise "
    "unfolded (else one line each).",
)
@click.option(
    "-n",
    "--last",
    type=click.IntRange(min=0),
    metavar="N",
    help="Only the last N entries (of those --type selects); default: all.",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice([*ENTRY_TYPES, *ROLES]),
    metavar="TYPE",
    help=(
        f"Only entries of this type ({', '.join(ENTRY_TYPES)}) or messages of this role "
        f"({', '.join(ROLES)}); repeatable (default: all)."
    ),
)
@json_option
@pass_app
def show(
    app: App,
    session: str | None,
    full: bool,
    last: int | None,
    types: tuple[str, ...],
    as_json: bool,
) -> None:
    """A session and its conversation (default: the current session); each entry with its
    number and short id (dim), which `fork --at` accepts."""
    state = app.sessions.store.require(app.sessions.resolve_or_current(session))
    entries, numbers = select_entries(app.sessions.store.entries(state), types, last)
    summary = app.sessions.summary_of(state)
    if as_json:
        emit_json({"session": summary, "entries": entries})
        return
    from ..render.terminal import conversation

    with paged(app):
        conversation(out(), summary, entries, full, numbers)


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
    from ..quick import record_message

    if role is not None:
        if len(args) not in (1, 2):
            raise click.UsageError("--role takes the message TEXT, after an optional SESSION")
        *names, text = args
        record_message(app.sessions, names, role, text, as_json)
        return
    if len(args) > 1:
        raise click.UsageError("--jsonl takes at most one SESSION")
    from ..quick import record_batch

    record_batch(app.sessions, args[0] if args else None, jsonl or "-", as_json)


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option(
    "--last",
    is_flag=True,
    help=(
        "The most recently updated session (the default in a pipe; at a terminal, no SESSION "
        "opens the picker)."
    ),
)
@click.option(
    "--agent",
    metavar="NAME",
    help="Also hand the conversation to claude-code or codex, to carry on there.",
)
@click.option(
    "--full",
    is_flag=True,
    help="With --agent: hand over every entry (default: the latest summary and what follows).",
)
@click.option(
    "--compact",
    "compact_first",
    is_flag=True,
    help="With --agent: compact first when the hand-off exceeds gitsess.handoffSize (400k).",
)
@click.option("--focus", metavar="TEXT", help="With --compact: what the summary keeps in full.")
@click.option(
    "--worktree",
    is_flag=True,
    help="Check the branch out in the session's own worktree (made if needed), not here.",
)
@json_option
@click.pass_context
def resume(
    ctx: click.Context,
    session: str | None,
    last: bool,
    agent: str | None,
    full: bool,
    compact_first: bool,
    focus: str | None,
    worktree: bool,
    as_json: bool,
) -> None:
    """Check a session's branch out and show where its conversation stands.

    With --agent, the agent is handed the latest summary (`gitsess compact`) and the
    entries after it, tool output over gitsess.handoffToolOutput (16k characters) cut.
    """
    if session and last:
        raise click.UsageError("give a SESSION or --last, not both")
    handoff_usage(agent, full, compact_first, focus)
    app = ctx.find_object(App)
    assert app is not None
    sessions = app.sessions
    from ..picker import at_a_terminal

    if not (session or last or as_json) and at_a_terminal():
        from ..picker import run_picker

        outcome = run_picker(sessions)
        if outcome is None:
            return
        if outcome.action == "fork":
            fork_command = cli.get_command(ctx, "fork")
            assert fork_command is not None
            ctx.invoke(fork_command, session=outcome.session)
            return
        session = outcome.session
    session_id = sessions.resolve(session) if session else sessions.last_session()
    if worktree:
        resume_in_worktree(app, session_id, as_json)
        return
    prepared = None
    if agent:
        from ..agents.resume import prepare

        # Before anything is checked out: an unknown agent, a bad setting or a failing
        # summarizer leaves everything as it was.
        prepared = prepare(sessions, session_id, agent, full, compact_first, focus)
    resumed = sessions.resume(session_id)
    summary = sessions.summary_of(resumed.state)
    summary["current"] = True
    handed: dict[str, Any] = {}
    if agent and prepared is not None:
        from ..agents.resume import write_handoff

        done = write_handoff(sessions, session_id, agent, *prepared)
        given = done.handoff
        handed = {
            "transcript": str(done.path),
            "command": done.command,
            "summary": given.summary.get("id") if given.summary is not None else None,
            "entries": len(given.entries),
            "capped": given.capped,
            "compacted": done.compacted.get("id") if done.compacted is not None else None,
        }
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
        console.print(f"\n[bold]Last {plural(len(resumed.recent), 'entry')}:[/]")
        first = int(summary.get("entries") or 0) - len(resumed.recent) + 1
        for number, entry in enumerate(resumed.recent, start=first):
            console.print(entry_text(entry, console.width, number))
    console.print()
    local_changes(console, resumed.local_changes)
    if handed:
        from ..render.handoff import handed_lines

        console.print()
        for line in handed_lines(handed):
            console.print(escape(line))
        console.print(f"Carry on with: [bold]{escape(handed['command'])}[/]")


def handoff_usage(agent: str | None, full: bool, compact_first: bool, focus: str | None) -> None:
    """The hand-off options go with --agent, and --focus with --compact."""
    if (full or compact_first) and not agent:
        raise click.UsageError("--full and --compact go with --agent")
    if full and compact_first:
        raise click.UsageError("give --full or --compact, not both")
    if focus is not None and not compact_first:
        raise click.UsageError("--focus goes with --compact (or use `gitsess compact --focus`)")


def resume_in_worktree(app: App, session_id: str, as_json: bool) -> None:
    from ..worktrees import open_worktree

    path, made = open_worktree(app.sessions, session_id)
    summary = app.sessions.summary_of(app.sessions.store.require(session_id))
    if as_json:
        emit_json({"session": summary, "worktree": path, "created": made})
        return
    from ..render.terminal import session_header

    console = out()
    console.print(f"{'Made' if made else 'Reopened'} the worktree of {session_id}:")
    console.print(path, soft_wrap=True, markup=False, highlight=False)
    console.print(session_header(summary))


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.argument("title", metavar="NEW-TITLE", required=False)
@json_option
@pass_app
def rename(app: App, session: str | None, title: str | None, as_json: bool) -> None:
    """Give SESSION (default: the current session) a new title; its branch keeps its name."""
    if title is None:  # one argument is the title: SESSION comes first only when given
        session, title = None, session
    if title is None:
        raise click.UsageError("give the NEW-TITLE, after an optional SESSION")
    session_id = app.sessions.resolve_or_current(session)
    title = utf8(title, "the title")
    app.sessions.rename(session_id, title)
    report_changed(app, session_id, f"Renamed {session_id} to {title!r}.", as_json)


remove_worktree_option = click.option(
    "--remove-worktree",
    is_flag=True,
    help="Also remove the session's worktree (refused, and nothing done, if it has "
    "uncommitted changes).",
)


@cli.command()
@click.argument("session", type=SESSION, required=False)
@remove_worktree_option
@json_option
@pass_app
def archive(app: App, session: str | None, remove_worktree: bool, as_json: bool) -> None:
    """Hide SESSION (default: the current session) from `list` (see `list --all`); nothing
    is deleted."""
    session_id = app.sessions.resolve_or_current(session)
    removable = worktree_to_remove(app, session_id) if remove_worktree else None
    app.sessions.set_status(session_id, "archived")
    message = f"Archived {session_id}."
    if removable is not None:
        message += f" Removed its worktree {drop_worktree(app, removable)}."
    report_changed(app, session_id, message, as_json)


def worktree_to_remove(app: App, session_id: str) -> str | None:
    from ..worktrees import removable_worktree

    return removable_worktree(app.sessions, session_id)


def drop_worktree(app: App, branch: str) -> str:
    from ..worktrees import remove_worktree

    return remove_worktree(app.sessions, branch) or ""


@cli.command()
@click.argument("session", type=SESSION, required=False)
@json_option
@pass_app
def unarchive(app: App, session: str | None, as_json: bool) -> None:
    """Bring an archived SESSION (default: the current session) back into `list`."""
    session_id = app.sessions.resolve_or_current(session)
    app.sessions.set_status(session_id, "active")
    report_changed(app, session_id, f"Unarchived {session_id}.", as_json)


def report_changed(app: App, session_id: str, message: str, as_json: bool) -> None:
    if as_json:
        emit_json(app.sessions.summary_of(app.sessions.store.require(session_id)))
    else:
        click.echo(message)


@cli.command()
@click.argument("session", type=SESSION)
@remove_worktree_option
@json_option
@pass_app
def delete(app: App, session: str, remove_worktree: bool, as_json: bool) -> None:
    """Delete SESSION's log; `gitsess undelete` brings it back. Its branch is kept."""
    sessions = app.sessions
    session_id = sessions.resolve(session)
    removable = worktree_to_remove(app, session_id) if remove_worktree else None
    state = sessions.delete(session_id)
    if removable is not None:
        click.echo(f"Removed its worktree {drop_worktree(app, removable)}.", err=as_json)
    from ..remote_hint import delete_notes

    branch = sessions.branch_of(state.meta, state.session_id)
    for note in delete_notes(sessions.repo, state.session_id, branch):  # remotes keep theirs
        click.echo(f"gitsess: note: {note}", err=True)
    if as_json:
        emit_json({"deleted": state.session_id, "log": state.oid})
        return
    click.echo(
        f"Deleted session {state.session_id}. Undo with: gitsess undelete {state.session_id}"
    )
    click.echo(f"Its branch {state.meta.get('branch')} is kept; remove it with git branch -D.")


@cli.command()
@click.argument("session", type=SESSION, required=False)
@json_option
@pass_app
def undelete(app: App, session: str | None, as_json: bool) -> None:
    """Restore a deleted SESSION (an id, a unique prefix or a title, as listed); without
    one, list deleted sessions."""
    sessions = app.sessions
    if session is None:
        rows = [{"id": sid, "log": oid, "title": title} for sid, oid, title in sessions.deleted()]
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


@cli.command()
@click.option("--empty", is_flag=True, help="Sessions with no entries.")
@click.option(
    "--older-than",
    metavar="DURATION",
    help="Sessions last changed more than DURATION ago: 36h, 90d, 12w, 6m (30 days), 1y.",
)
@click.option("--archived", is_flag=True, help="Archived sessions.")
@click.option("--dry-run", is_flag=True, help="List what would be pruned; change nothing.")
@json_option
@pass_app
def prune(
    app: App, empty: bool, older_than: str | None, archived: bool, dry_run: bool, as_json: bool
) -> None:
    """Delete the sessions matching every criterion given, as `delete` does (`gitsess
    undelete` brings each back; branches are kept). Never the current session, one checked
    out in a worktree, a pinned one, or a shared one with changes no remote has."""
    from ..prune import prune as run
    from ..prune import select

    chosen = select(app.sessions, empty, older_than, archived)
    kept = [c for c in chosen if c.kept is not None]
    moved: list[Any] = []
    if dry_run:
        pruned = [c for c in chosen if c.kept is None]
    else:
        pruned, moved = run(app.sessions, chosen)
    if as_json:
        emit_json(
            {
                "dry_run": dry_run,
                "pruned": [c.as_dict() for c in pruned],
                "kept": [c.as_dict() for c in kept]
                + [{**c.as_dict(), "kept": "changed while pruning"} for c in moved],
            }
        )
        return
    report_pruned(pruned, kept + moved, dry_run)


def report_pruned(pruned: list[Any], kept: list[Any], dry_run: bool) -> None:
    if not pruned and not kept:
        click.echo("No sessions match: nothing to prune.")
        return
    verb = "Would prune" if dry_run else "Pruned"
    click.echo(f"{verb} {plural(len(pruned), 'session')}{':' if pruned else '.'}")
    for c in pruned:
        click.echo(f"  {c.session_id}  {c.meta.get('title', '')}  ({plural(c.count, 'entry')})")
    if kept:
        click.echo(f"Kept {plural(len(kept), 'matching session')}:")
        for c in kept:
            click.echo(
                f"  {c.session_id}  {c.meta.get('title', '')}: {c.kept or 'changed meanwhile'}"
            )
    shared = sorted({r for c in pruned for r in c.remotes})
    if pruned and not dry_run:
        click.echo("Undo with: gitsess undelete SESSION (without one it lists them).")
    if shared:
        how = "stay" if not dry_run else "would stay"
        click.echo(
            f"gitsess: note: their copies on {', '.join(shared)} {how}: prune removes"
            " sessions here only (`git push REMOTE --delete refs/sessions/ID` removes one there)",
            err=True,
        )
