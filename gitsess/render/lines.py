"""`list`'s table as aligned lines of plain text: what a pipe (and a long table at a
terminal) gets. Without rich: `gitsess list --all | grep` is answered by quick.py."""

from __future__ import annotations

import re
from collections.abc import Sequence

GAP = 2  # columns between two columns
# Shown only when some session has one.
SPARSE = ("from", "worktree")

HEADINGS = {"mark": "", "id": "id", "title": "title", "entries": "entries"}
HEADINGS.update({"updated": "updated", "branch": "branch", "from": "forked from"})
HEADINGS.update({"worktree": "worktree"})


def cell_lines(rows: Sequence[Sequence[str]]) -> str:
    """session_lines of rows already made cells (in HEADINGS order): `list --all` of
    100,000 sessions lays out 700,000 cells, so a column of printable ASCII (nearly
    always) is measured by its length, and rows of it laid out by one format string."""
    names = list(HEADINGS)
    heading = tuple(HEADINGS.values())
    columns = list(zip(heading, *rows, strict=True))
    shown = [at for at, name in enumerate(names) if name not in SPARSE or any(columns[at][1:])]
    plain = all(_plain("".join(columns[at])) for at in shown)
    widths = {at: column_width(columns[at]) for at in shown}
    del columns
    right = names.index("entries")
    gap = " " * GAP
    if plain:  # every cell's length is its width: the rows go through % at C speed
        last = shown[-1]
        template = "".join(
            "%.0s"  # a column not shown takes its cell and prints nothing
            if at not in widths
            else ("" if at == shown[0] else gap)
            + ("%s" if at == last else f"%{'' if at == right else '-'}{widths[at]}s")
            for at in range(len(names))
        )
        text = "\n".join(map(template.__mod__, [heading, *rows])) + "\n"
        # Lines whose last cells are empty end in spaces: trimmed, as rstrip would.
        return re.sub(" +\n", "\n", text) if " \n" in text else text
    lines = []
    for row in (heading, *rows):
        parts = []
        for at in shown:
            text, wide = row[at], widths[at]
            pad = " " * (wide - text_width(text))
            parts.append(pad + text if at == right else text + pad)
        lines.append(gap.join(parts).rstrip() + "\n")
    return "".join(lines)


def column_width(column: Sequence[str]) -> int:
    if _plain("".join(column)):
        return max(map(len, column))
    return max(text_width(text) for text in column)


def _plain(text: str) -> bool:
    """Printable ASCII: its length is its width."""
    return text.isascii() and text.isprintable()


def text_width(text: str) -> int:
    """Columns ``text`` takes: its length when printable ASCII (nearly always), else
    rich's count."""
    if text.isascii() and text.isprintable():
        return len(text)
    from rich.cells import cell_len  # here: a pipe's table of plain text never needs rich

    return cell_len(text)
