"""`list`'s table as aligned lines of plain text: what a pipe (and a long table at a
terminal) gets. Without rich: `gitsess list --all | grep` is answered by quick.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

GAP = 2  # columns between two columns
# Shown only when some session has one.
SPARSE = ("from", "worktree")

HEADINGS = {"mark": "", "id": "id", "title": "title", "entries": "entries"}
HEADINGS.update({"updated": "updated", "branch": "branch", "from": "forked from"})
HEADINGS.update({"worktree": "worktree"})


def cell_lines(rows: Sequence[Sequence[str]]) -> str:
    """session_lines of rows already made cells (in HEADINGS order)."""
    return column_lines([list(column) for column in zip(*rows, strict=True)] if rows else [])


def column_lines(columns: list[list[str]]) -> str:
    """The table of cells given column by column (in HEADINGS order), a line per row,
    each ending in a newline. `list --all` of 100,000 sessions lays out 700,000 cells, so
    a column of printable ASCII (nearly always) is measured by its length, and rows of
    it laid out by one % format, at C speed."""
    names = list(HEADINGS)
    heading = tuple(HEADINGS.values())
    columns = columns or [[] for _ in names]
    shown = [at for at, name in enumerate(names) if name not in SPARSE or any(columns[at])]
    plain = all(_plain(heading[at] + "".join(columns[at])) for at in shown)
    widths = {at: column_width([heading[at]], columns[at]) for at in shown}
    right = names.index("entries")
    gap = " " * GAP
    rows = chain([heading], zip(*columns, strict=True))  # made one at a time
    if plain:  # every cell's length is its width
        last = shown[-1]
        template = "".join(
            "%.0s"  # a column not shown takes its cell and prints nothing
            if at not in widths
            else ("" if at == shown[0] else gap)
            + ("%s" if at == last else f"%{'' if at == right else '-'}{widths[at]}s")
            for at in range(len(names))
        )
        text = "\n".join(map(template.__mod__, rows)) + "\n"
        # Lines whose last cells are empty end in spaces: trimmed, as rstrip would.
        return re.sub(" +\n", "\n", text) if " \n" in text else text
    lines = []
    for row in rows:
        parts = []
        for at in shown:
            text, wide = row[at], widths[at]
            pad = " " * (wide - text_width(text))
            parts.append(pad + text if at == right else text + pad)
        lines.append(gap.join(parts).rstrip() + "\n")
    return "".join(lines)


def column_width(first: Sequence[str], column: Sequence[str]) -> int:
    """The widest of ``first`` and ``column`` (a column of 100,000 cells is not copied)."""
    if _plain("".join(first) + "".join(column)):
        return max(max(map(len, first)), max(map(len, column), default=0))
    return max(max(map(text_width, first)), max(map(text_width, column), default=0))


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
