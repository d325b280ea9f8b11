"""`gitsess doctor`: check every session, and repair what can be repaired."""

from __future__ import annotations

import click

from .base import App, cli, emit_json, json_option, out, pass_app


@cli.command()
@click.option("--fix", is_flag=True, help="Repair what can be repaired without losing anything.")
@click.option(
    "--full",
    is_flag=True,
    help="Check every log again, not only those changed since a run found them sound.",
)
@json_option
@pass_app
def doctor(app: App, fix: bool, full: bool, as_json: bool) -> int:
    """Check every session: refs, logs, ids, branches, fetched copies, hooks.

    Exits 1 while errors remain (warnings and advice do not count). --fix repairs by adding
    to history, never by removing from it, and says what it could not repair.
    """
    from ..doctor import Doctor

    report = Doctor(app.sessions_as_found(), fix, full).run()
    if as_json:
        emit_json(report.as_json())
    else:
        from ..render.doctor import doctor_view

        doctor_view(out(), report)
    return 0 if report.ok else 1
