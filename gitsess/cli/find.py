"""Commands that find sessions and entries: search."""

from __future__ import annotations

import click

from .base import SESSION, App, cli, json_option, pass_app


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

    return report(run_search(app.sessions, query), query, as_json)
