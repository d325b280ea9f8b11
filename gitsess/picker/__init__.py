"""The interactive session picker (`gitsess pick`, and `resume` at a terminal).

``model`` holds what the picker shows and does, without a user interface (tested alone);
``app`` is the Textual application on top. Textual loads only when the picker opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sessions import Sessions
    from .app import Outcome


def run_picker(sessions: Sessions, scope: str = "all") -> Outcome | None:
    """Open the picker at the terminal; what the user chose, or None (Esc)."""
    from .app import Picker
    from .model import Catalog

    return Picker(Catalog(sessions), scope).run()


def at_a_terminal() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()
