"""Commands that show the sessions behind commits: pr, why, log."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .base import App, cli, emit_json, json_option, out, paged, pass_app


@cli.command()
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option(
    "--conversation/--no-conversation",
    default=True,
    help="Fold each session's whole conversation in (the default), or leave it out.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Agent noise (injected context, token counts...) whole (default: a line each).",
)
@json_option
@pass_app
def pr(app: App, range_: str | None, conversation: bool, full: bool, as_json: bool) -> None:
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

    text = visible(pr_markdown(document, conversation, full))
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
@click.option(
    "--full",
    is_flag=True,
    help="The whole conversation up to the commit, agent noise unfolded (default: from the "
    "prompt of the turn that made it, or the previous commit).",
)
@json_option
@pass_app
def why(app: App, commit: str, full: bool, as_json: bool) -> None:
    """The session behind COMMIT (or the commit of FILE:LINE), and what led to it: the
    entries from the user's prompt that started the turn (or the previous commit) up to
    the commit."""
    from ..review import Review

    document = Review(app.sessions).why(commit, Path(app.path or os.getcwd()), full)
    if as_json:
        emit_json(document)
        return
    from ..render.review import why_view

    with paged(app):
        why_view(out(), document, full)


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

    with paged(app):
        log_view(out(), document)
