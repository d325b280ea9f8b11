"""Commands that find sessions and entries, and keep them findable: search, tree, tags and
pins."""

from __future__ import annotations

import click

from .base import SESSION, App, cli, emit_json, json_option, out, paged, pass_app


@cli.command()
@click.argument("text")
@click.option("-E", "--regex", is_flag=True, help="TEXT is a regular expression (Python's).")
@click.option("-s", "--case-sensitive", is_flag=True, help="Match case (default: case is ignored).")
@click.option(
    "--session",
    "sessions",
    type=SESSION,
    multiple=True,
    metavar="SESSION",
    help="Search only this session (repeatable; default: every session).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help=(
        "Only entries of this type: message, reasoning, tool_call, tool_result, summary, "
        "commit, event; user or assistant for their messages; title for titles (repeatable; "
        "default: all)."
    ),
)
@click.option("--author", metavar="A", help="Only sessions whose author's name or email holds A.")
@click.option(
    "--since",
    metavar="DATE",
    help="Only entries from DATE on (2026-11-01, 'yesterday', '3 days ago').",
)
@click.option("--all", "include_all", is_flag=True, help="Search archived sessions too.")
@json_option
@pass_app
def search(
    app: App,
    text: str,
    regex: bool,
    case_sensitive: bool,
    sessions: tuple[str, ...],
    types: tuple[str, ...],
    author: str | None,
    since: str | None,
    include_all: bool,
    as_json: bool,
) -> int:
    """Find entries holding TEXT in every session: messages, reasoning, tool input and output,
    titles. Exit 1 when nothing matches, as grep."""
    from ..search import Query
    from ..search import search as run_search

    query = Query(text, regex, case_sensitive, sessions, types, author, since, include_all)
    from ..render.search import report

    with paged(app):
        return report(run_search(app.sessions, query), query, as_json)


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option("--all", "every", is_flag=True, help="Every family, not only SESSION's.")
@json_option
@pass_app
def tree(app: App, session: str | None, every: bool, as_json: bool) -> None:
    """The family of forks SESSION belongs to (default: the current session's), with the
    entry each fork was taken at."""
    from ..tree import families, family_of

    sessions = app.sessions
    current = sessions.current()
    current_id = current.session_id if current else None
    if every:
        roots = families(sessions.store.read_all(), current_id)
    else:
        session_id = sessions.resolve_or_current(session)
        # Only the family's sessions, found through the listing cache.
        family = family_of(families(sessions.family(session_id), current_id), session_id)
        roots = [family] if family else []
    if as_json:
        emit_json([root.as_json() for root in roots] if every else roots[0].as_json())
        return
    from ..render.tree import draw

    with paged(app):
        out().print(draw(roots))


@cli.command()
@click.argument("session", type=SESSION)
@click.argument("tags", nargs=-1, required=True, metavar="TAG...")
@json_option
@pass_app
def tag(app: App, session: str, tags: tuple[str, ...], as_json: bool) -> None:
    """Add TAGs to SESSION (tags travel with the session when it is pushed)."""
    from ..labels import add_tags

    session_id = app.sessions.resolve(session)
    now_tagged = add_tags(app.sessions, session_id, list(tags))
    report_tags(session_id, now_tagged, as_json)


@cli.command()
@click.argument("session", type=SESSION)
@click.argument("tags", nargs=-1, required=True, metavar="TAG...")
@json_option
@pass_app
def untag(app: App, session: str, tags: tuple[str, ...], as_json: bool) -> None:
    """Remove TAGs from SESSION."""
    from ..labels import remove_tags

    session_id = app.sessions.resolve(session)
    report_tags(session_id, remove_tags(app.sessions, session_id, list(tags)), as_json)


def report_tags(session_id: str, tags: list[str], as_json: bool) -> None:
    if as_json:
        emit_json({"id": session_id, "tags": tags})
    else:
        click.echo(f"{session_id} tags: {' '.join(tags)}" if tags else f"{session_id} has no tags.")


@cli.command()
@click.argument("session", type=SESSION)
@pass_app
def pin(app: App, session: str) -> None:
    """Keep SESSION at the top of `list` (pins are yours: never pushed)."""
    from ..labels import pin as add_pin

    session_id = app.sessions.resolve(session)
    done = add_pin(app.sessions, session_id)
    click.echo(f"Pinned {session_id}." if done else f"{session_id} was already pinned.")


@cli.command()
@click.argument("session", type=SESSION)
@pass_app
def unpin(app: App, session: str) -> None:
    """Stop keeping SESSION at the top of `list`."""
    from ..labels import pinned
    from ..labels import unpin as drop_pin

    session_id = app.sessions.resolve(session) if session not in pinned(app.sessions) else session
    done = drop_pin(app.sessions, session_id)
    click.echo(f"Unpinned {session_id}." if done else f"{session_id} was not pinned.")


@cli.command()
@click.option(
    "--scope",
    type=click.Choice(["all", "family", "archived"]),
    default="all",
    show_default=True,
    help="Which sessions to list first (Tab switches).",
)
@click.pass_context
def pick(ctx: click.Context, scope: str) -> None:
    """Pick a session at the terminal: type to filter, Enter to resume, Esc to leave."""
    from ..picker import at_a_terminal, run_picker

    if not at_a_terminal():
        raise click.UsageError("the picker needs a terminal; in a pipe use `gitsess list`")
    app = ctx.find_object(App)
    assert app is not None
    outcome = run_picker(app.sessions, scope)
    if outcome is not None:
        command = cli.get_command(ctx, outcome.action)
        assert command is not None
        ctx.invoke(command, session=outcome.session)
