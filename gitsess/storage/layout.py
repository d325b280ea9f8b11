"""Where sessions live in a repository: the ref namespaces and the paths in a log commit's
tree (docs/format.md). Imports nothing, so the earliest start-up code can name them."""

from __future__ import annotations

SESSIONS = "refs/sessions/"
# Logs set aside by `doctor --fix` (a session.json too big, too deep, or naming another
# session): outside refs/sessions/, so nothing lists, reads, pushes or fetches them.
QUARANTINE = "refs/gitsess/quarantine/"
META_FILE = "session.json"
LOG_DIR = "log"
