"""Rich rendering for people at a terminal. Colour follows the terminal and NO_COLOR."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from ..names import short_entry_id
from .lines import GAP, HEADINGS, SPARSE, cell_lines
from .noise import fold, speaker
from .safe import visible
from .text import clip, content_text, entry_label, entry_summary, header_parts, plural, when

Entry = dict[str, Any]

PIPE_WIDTH = 200
ROLE_STYLES = {"user": "bold cyan", "assistant": "bold green", "system": "bold magenta"}
FOLDED = {
    "tool_call": ("⚙", "yellow"),
    "tool_result": ("↳", "dim"),
    "reasoning": ("∴", "dim italic"),
    "summary": ("▣", "blue"),
    "commit": ("●", "bold yellow"),
    "event": ("·", "dim"),
}


class SafeConsole(Console):
    """A console whose text, wherever it came from, cannot drive the terminal: rich's own
    styling goes out as it is, every character of the text it lays out through
    ``visible`` (render/safe.py). Markup is only ever gitsess's own (``escape`` the rest)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(visible(segment.text), segment.style)
            for segment in buffer
        )

    def on_broken_pipe(self) -> None:
        if "width" in PAGING:  # the user quit the pager: cli/base.py `paged` ends quietly
            self.quiet = True
            raise BrokenPipeError
        super().on_broken_pipe()  # a pipe's reader went away: exit 1, quietly


# The terminal's columns while stdout goes through a pager (cli/base.py ``paged``): the
# pager shows what a terminal would, so rich lays it out for the terminal behind the pipe.
PAGING: dict[str, int] = {}


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if not stderr and "width" in PAGING:
        return SafeConsole(
            highlight=False, soft_wrap=False, width=PAGING["width"], force_terminal=True
        )
    # Piped output is read by grep and friends: prose is never folded there (soft wrap),
    # and tables get 200 columns rather than 80.
    tty = stream.isatty()
    width = None if tty or os.environ.get("COLUMNS") else PIPE_WIDTH
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=not tty, width=width)


# -- the session table ---------------------------------------------------------------------

TITLE_MIN = 16  # the title never gets fewer columns while an optional column is shown
BRANCH_MIN = 16
# Dropped in this order when the terminal is too narrow for them all.
OPTIONAL = ("worktree", "from", "branch", "updated", "entries")


def session_cells(row: dict[str, Any]) -> dict[str, str]:
    """One row of `list` as plain, visible text per column."""
    return {
        "mark": mark(row),
        "id": visible(str(row.get("id", ""))),
        "title": visible(str(row.get("title", "")))
        + (ARCHIVED if row.get("status") == "archived" else ""),
        "entries": str(row.get("entries", 0)),
        "updated": when(row.get("updated")),
        "branch": visible(str(row.get("branch", ""))),
        "from": visible(parent_id(row)),
        "worktree": visible(str(row.get("worktree") or "")),
    }


def mark(row: dict[str, Any]) -> str:
    """`*` the current session, `+` one checked out in another worktree (as `git branch`
    marks them), `^` a pinned one."""
    if row.get("current"):
        return "*"
    return "+" if row.get("worktree") else "^" if row.get("pinned") else " "


def parent_id(row: dict[str, Any]) -> str:
    """The session a fork was made from ("" for a session that is no fork)."""
    parent = row.get("parent")
    source = parent.get("session") if isinstance(parent, dict) else None
    return source if isinstance(source, str) else ""


def session_lines(rows: list[dict[str, Any]]) -> str:
    """`list` for a pipe: every session on exactly one line, nothing cut or wrapped, the
    columns aligned (so `gitsess list | grep` finds a session and shows all of it); the
    lines, each ending in a newline."""
    return cell_lines([tuple(session_cells(row).values()) for row in rows])


ARCHIVED = " (archived)"


def title_text(row: dict[str, Any], width: int) -> Text:
    """The title cut to fit ``width`` with an ellipsis, keeping "(archived)" in sight."""
    archived = row.get("status") == "archived"
    suffix = ARCHIVED if archived and width >= len(ARCHIVED) + 4 else ""
    title = Text(visible(str(row.get("title", ""))))
    title.truncate(width - len(suffix), overflow="ellipsis")
    if suffix:
        title.append(suffix, style="dim")
    return title


def session_table(rows: list[dict[str, Any]], width: int) -> Table:
    """`list` at a terminal ``width`` columns wide: one line per session at any width.
    Where the columns do not all fit, branch goes first, then updated, then entries; the
    title and branch are cut with an ellipsis rather than wrapped."""
    cells = [session_cells(row) for row in rows]
    natural = {n: max(cell_len(c[n]) for c in [HEADINGS, *cells]) for n in HEADINGS}
    shown = [n for n in OPTIONAL if n not in SPARSE or any(c[n] for c in cells)]
    fixed = natural["mark"] + GAP + natural["id"] + GAP

    def needed(columns: list[str]) -> int:
        floor = {"branch": min(natural["branch"], BRANCH_MIN)}
        extra = sum(GAP + floor.get(n, natural[n]) for n in columns)
        return fixed + min(natural["title"], TITLE_MIN) + extra

    while shown and needed(shown) > width:
        shown.pop(0)
    room = width - fixed - sum(GAP + natural[n] for n in shown if n != "branch")
    branch_width = 0
    if "branch" in shown:  # the branch its floor, the title what it needs, then the rest
        floor = min(natural["branch"], BRANCH_MIN)
        title_width = max(min(natural["title"], room - GAP - floor), 1)
        branch_width = max(min(natural["branch"], room - GAP - title_width), 1)
    else:
        title_width = max(min(natural["title"], room), 1)
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 0, 0, GAP))
    table.add_column("", no_wrap=True, style="bold green")
    table.add_column("id", style="yellow", no_wrap=True)
    table.add_column("title", no_wrap=True, overflow="ellipsis", width=title_width)
    columns = [n for n in ("entries", "updated", "branch", "from", "worktree") if n in shown]
    for name in columns:
        if name == "branch":
            table.add_column(
                name, style="dim", no_wrap=True, overflow="ellipsis", width=branch_width
            )
        elif name == "from":
            table.add_column("forked from", style="yellow", no_wrap=True)
        elif name == "worktree":
            table.add_column(name, style="dim", no_wrap=True, overflow="ellipsis")
        else:
            table.add_column(name, no_wrap=True, justify="right" if name == "entries" else "left")
    for row, cell in zip(rows, cells, strict=True):
        title = title_text(row, title_width)
        plain = [Text(cell[n]) for n in ("mark", "id")]
        table.add_row(*plain, title, *(Text(cell[n]) for n in columns))
    return table


def session_header(summary: dict[str, Any]) -> Text:
    text = Text()
    title, details = header_parts(summary)
    for part, style in [*title, ("\n", ""), *details]:
        text.append(visible(part), style=style or None)
    return text


# The characters of one message rich lays out. Rich splits a text into lines in time that
# grows as the square of its size (16 MB took minutes): past this, a terminal gets the
# first part and a note, and a pipe (or `show --full`) the text as it is, unwrapped.
BIG = 64 * 1024
CHUNK = 1 << 20


def entry_text(entry: Entry, width: int, number: int | None = None) -> Text:
    """One entry for reading: messages in full (the first BIG characters of a longer one,
    and a note), everything else folded to a line. With its ``number`` in the log, the
    number and short id follow, dim, for `fork --at`."""
    kind = entry.get("type")
    text = Text()
    if kind == "message":
        text = message_head(entry, number)
        text.append("\n")
        body = content_text(entry.get("content")).rstrip()
        cut = len(body) if len(body) <= BIG else max(body.rfind("\n", 0, BIG), BIG // 2)
        text.append(visible(body[:cut]) or "(empty)")
        if cut < len(body):
            lines = body.count("\n", cut)
            text.append(
                f"\n… {len(body) - cut:,} more characters ({lines:,} more lines): "
                "`gitsess show --full` or `gitsess export` for all",
                style="dim",
            )
        return text
    symbol, style = FOLDED.get(str(kind), ("?", "dim"))
    if kind == "tool_result" and entry.get("is_error"):
        style = "red"
    label = "" if kind in ("tool_call", "tool_result") else f"{entry_label(entry)} "
    tag = entry_tag(entry, number)
    room = max(width - len(label) - 6 - (len(tag) + 2 if tag else 0), 20)
    text.append(f"  {symbol} {visible(label)}", style=style)
    text.append(visible(entry_summary(entry, room)), style=style)
    if tag:
        text.append(f"  {tag}", style="dim")
    return text


def entry_tag(entry: Entry, number: int | None) -> str:
    """ "#12 k3f9a2bc": the entry's 1-based place in its session's log and the first 8
    characters of its id, the two forms `fork --at` accepts besides the whole id."""
    if number is None:
        return ""
    short = visible(short_entry_id(str(entry.get("id") or "")))
    return f"#{number} {short}".rstrip()


def message_head(entry: Entry, number: int | None = None) -> Text:
    role = speaker(entry) or entry_label(entry)
    text = Text()
    text.append(visible(role), style=ROLE_STYLES.get(role, "bold"))
    text.append(f"  {when(entry.get('ts'), relative=False)}", style="dim")
    tag = entry_tag(entry, number)
    if tag:
        text.append(f"  {tag}", style="dim")
    return text


def print_entries(
    out: Console,
    entries: list[Entry],
    after_folded: bool = False,
    full: bool = False,
    numbers: list[int] | None = None,
) -> None:
    """Entries in reading order: a blank line before each message, folded lines kept together.
    A message longer than BIG goes out whole, as it is, in a pipe or when ``full``.
    ``numbers``: each entry's place in its log, shown beside it."""
    previous_folded = after_folded
    for index, entry in enumerate(entries):
        number = numbers[index] if numbers is not None else None
        noise = None if full else fold(entry)  # render/noise.py: one line for agent noise
        folded = entry.get("type") != "message" or noise is not None
        if not (folded and previous_folded):
            out.print()
        body = "" if folded else content_text(entry.get("content")).rstrip()
        if entry.get("type") == "summary":
            out.print(summary_mark(entry, out.width))
        if noise is not None:
            out.print(noise_text(noise.text, entry, out.width, number))
        elif len(body) > BIG and (full or not out.is_terminal):
            out.print(message_head(entry, number))
            write_plain(out, body)
        else:
            out.print(entry_text(entry, out.width, number))
        if full and entry.get("type") == "summary":
            out.print(Text(visible(content_text(entry.get("content")).rstrip()), style="blue"))
        previous_folded = folded


def summary_mark(entry: Entry, width: int) -> Text:
    """The rule before a summary: the entries above it, up to the one it names last, are
    what it stands for (`resume --agent` hands over the summary and what follows)."""
    covers = entry.get("covers")
    if isinstance(covers, int) and not isinstance(covers, bool) and covers > 0:
        what = f" entries #1–#{covers} are summarized below "
    else:
        what = f" summarized below: up to {short_entry_id(str(entry.get('last') or '?'))} "
    focus = entry.get("focus")
    if isinstance(focus, str) and focus:
        what += f"(focus: {clip(' '.join(focus.split()), 60)}) "
    line = "──" + visible(what)
    return Text(line + "─" * max(width - len(line) - 2, 2), style="blue")


def noise_text(noise: str, entry: Entry, width: int, number: int | None) -> Text:
    """Agent noise folded to one dim line, its number and short id after it."""
    tag = entry_tag(entry, number)
    room = width - 4 - (len(tag) + 2 if tag else 0)
    return Text(
        f"  · {visible(clip(noise, max(room, 20)))}" + (f"  {tag}" if tag else ""), style="dim"
    )


def write_plain(out: Console, body: str) -> None:
    """``body`` to the console's stream in pieces ending at line ends: linear in its size."""
    start = 0
    while start < len(body):
        end = body.find("\n", start + CHUNK)
        end = len(body) if end < 0 else end + 1
        out.file.write(visible(body[start:end]))
        start = end
    out.file.write("\n")
    out.file.flush()


def conversation(
    out: Console,
    summary: dict[str, Any],
    entries: list[Entry],
    full: bool = False,
    numbers: list[int] | None = None,
) -> None:
    """The header and ``entries``; with ``numbers`` (each entry's place in the log: the
    entries may be a selection), each is numbered, and a note says what was left out."""
    out.print(session_header(summary))
    print_entries(out, entries, full=full, numbers=numbers)
    total = int(summary.get("entries") or 0)
    if not entries:
        out.print("\n[dim](no entries yet)[/]" if not total else "\n[dim](no entries match)[/]")
    elif numbers is not None and len(entries) < total:
        out.print(f"\n[dim]({plural(len(entries), 'entry')} of {total} shown)[/]")


def local_changes(out: Console, changes: list[str]) -> None:
    if not changes:
        out.print("[dim]Work tree clean.[/]")
        return
    out.print(f"[bold]{plural(len(changes), 'uncommitted change')}:[/]")
    for line in changes[:10]:
        out.print(f"  {escape(visible(line))}")
    if len(changes) > 10:
        out.print(f"  [dim]… and {len(changes) - 10} more[/]")
