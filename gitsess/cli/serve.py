"""`gitsess serve`: the local web viewer (gitsess/serve/)."""

from __future__ import annotations

import click

from .base import App, cli, pass_app


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (default: the first free of 7420-7429).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than this machine's loopback prints a warning.",
)
@click.option(
    "--open/--no-open",
    "open_browser",
    default=True,
    help="Open the viewer in a browser (default: open).",
)
@pass_app
def serve(app: App, port: int | None, host: str, open_browser: bool) -> None:
    """Show this repository's sessions in a browser: a local, read-only viewer.

    Prints the viewer's address (with a one-time token) on its first line and serves
    until Ctrl-C. Only this machine can connect unless --host says otherwise; every
    request needs the token, and none changes the repository.
    """
    from ..serve.server import serve as run

    run(app.sessions, host, port, open_browser)
