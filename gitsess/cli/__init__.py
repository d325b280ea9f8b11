"""The command line: thin click commands over `sessions`, printing through `render`.

What every command shares is in `base`: the `cli` group and its global options, the
per-invocation App, the --json option and the output helpers. The commands live in one
module per area (sessions, sharing, agents, review, repair, find, parallel, serve, shell),
each taking what it needs from `base` and from the model; they never import each other.
Importing this package registers them all. The hot paths never get here: quick.py answers
them without click.
"""

from __future__ import annotations

from . import agents, find, parallel, repair, review, serve, sessions, sharing, shell
from .base import cli

__all__ = [
    "agents",
    "cli",
    "find",
    "parallel",
    "repair",
    "review",
    "serve",
    "sessions",
    "sharing",
    "shell",
]
