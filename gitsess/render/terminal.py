"""Rich rendering for people at a terminal. Colour follows the terminal and NO_COLOR."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from .noise import fold, speaker
from .safe import visible
from .text import clip, content_text, entry_label, entry_summary, header_parts, when

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


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped output is read by grep and friends: don't fold it at 80 columns.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
    return SafeConsole(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def session_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("")
    table.add_column("id", style="yellow", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("entries", justify="right")
    table.add_column("updated", no_wrap=True)
    table.add_column("branch", style="dim", overflow="fold")
    for row in rows:
        status = "" if row.get("status") != "archived" else " [dim](archived)[/]"
        table.add_row(
            "[bold green]*[/]" if row.get("current") else "",
            visible(str(row.get("id", ""))),
            escape(visible(str(row.get("title", "")))) + status,
            str(row.get("entries", 0)),
            when(row.get("updated")),
            escape(visible(str(row.get("branch", "")))),
        )
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


def entry_text(entry: Entry, width: int) -> Text:
    """One entry for reading: messages in full (the first BIG characters of a longer one,
    and a note), everything else folded to a line."""
    kind = entry.get("type")
    text = Text()
    if kind == "message":
        text = message_head(entry)
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
    text.append(f"  {symbol} {visible(label)}", style=style)
    text.append(visible(entry_summary(entry, max(width - len(label) - 6, 20))), style=style)
    return text


def message_head(entry: Entry) -> Text:
    role = speaker(entry) or entry_label(entry)
    text = Text()
    text.append(visible(role), style=ROLE_STYLES.get(role, "bold"))
    text.append(f"  {when(entry.get('ts'))}", style="dim")
    return text


def print_entries(
    out: Console, entries: list[Entry], after_folded: bool = False, full: bool = False
) -> None:
    """Entries in reading order: a blank line before each message, folded lines kept together.
    A message longer than BIG goes out whole, as it is, in a pipe or when ``full``."""
    previous_folded = after_folded
    for entry in entries:
        noise = None if full else fold(entry)  # render/noise.py: one line for agent noise
        folded = entry.get("type") != "message" or noise is not None
        if not (folded and previous_folded):
            out.print()
        body = "" if folded else content_text(entry.get("content")).rstrip()
        if noise is not None:
            out.print(Text(f"  · {visible(clip(noise.text, out.width - 4))}", style="dim"))
        elif len(body) > BIG and (full or not out.is_terminal):
            out.print(message_head(entry))
            write_plain(out, body)
        else:
            out.print(entry_text(entry, out.width))
        previous_folded = folded


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
    out: Console, summary: dict[str, Any], entries: list[Entry], full: bool = False
) -> None:
    out.print(session_header(summary))
    print_entries(out, entries, full=full)
    if not entries:
        out.print("\n[dim](no entries yet)[/]")


def local_changes(out: Console, changes: list[str]) -> None:
    if not changes:
        out.print("[dim]Work tree clean.[/]")
        return
    out.print(f"[bold]{len(changes)} uncommitted change{'s' if len(changes) != 1 else ''}:[/]")
    for line in changes[:10]:
        out.print(f"  {escape(visible(line))}")
    if len(changes) > 10:
        out.print(f"  [dim]… and {len(changes) - 10} more[/]")
