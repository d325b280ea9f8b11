"""Compaction: `compact`, a summary entry that stands for the conversation before it."""

from __future__ import annotations

import click

from .base import SESSION, App, cli, emit_json, json_option, pass_app


@cli.command()
@click.argument("session", type=SESSION, required=False)
@click.option(
    "--focus",
    metavar="TEXT",
    help="What the summary keeps in full (default: none; the rest is shortened).",
)
@click.option(
    "--with",
    "command",
    metavar="COMMAND",
    help=(
        "Summarize with COMMAND (a shell command line reading the conversation as Markdown "
        "on stdin, printing the summary); default: git config gitsess.summarizer, else the "
        "built-in summarizer."
    ),
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="How long COMMAND may take (default: gitsess.summarizerTimeout, else 120).",
)
@json_option
@pass_app
def compact(
    app: App,
    session: str | None,
    focus: str | None,
    command: str | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Append a summary of SESSION's conversation so far (default: the current session).

    Nothing is removed: the summary records the entries it covers, the files read and
    modified and the commits made; `resume --agent` then hands an agent the summary and
    what follows it. Run again with nothing new, it writes nothing.
    """
    from ..compact import compact as compact_session

    session_id = app.sessions.resolve_or_current(session)
    done = compact_session(app.sessions, session_id, focus, command, timeout)
    if as_json:
        emit_json(
            {
                "session": session_id,
                "written": done.entry is not None,
                "summary": done.entry,
                "covers": done.covered,
                "previous": done.previous.get("id") if done.previous is not None else None,
            }
        )
        return
    from ..render.handoff import compacted_lines

    for line in compacted_lines(done.entry, done.covered, done.previous):
        click.echo(line)
