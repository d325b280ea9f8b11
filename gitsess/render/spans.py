"""Short styled lines, printed by rich at a terminal and as plain text everywhere else.

One-line reports (`new`, `import`, `status`) do not need rich's layout; loading rich
costs more than the rest of such a command, so pipes and scripts get the same
characters without it.
"""

from __future__ import annotations

import os
import sys

from .safe import visible

Span = tuple[str, str]  # (text, rich style; "" for none)


def print_spans(*lines: list[Span]) -> None:
    if sys.stdout.isatty():
        from rich.text import Text

        from .terminal import console

        out = console()
        for spans in lines:
            text = Text()
            for part, style in spans:
                text.append(visible(part), style=style or None)
            out.print(text)
        return
    for spans in lines:
        print(visible("".join(part for part, _ in spans)))


def width() -> int:
    """Columns to fit a line in: the terminal's, else $COLUMNS, else 200 (as rich here)."""
    if sys.stdout.isatty():
        return os.get_terminal_size(sys.stdout.fileno()).columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 10 else 200
