"""Search hits for people: grouped by session at a terminal, one line a hit in a pipe."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from ..names import SHORT_ENTRY_ID, short_entry_id
from ..search import Hit, Query
from .safe import visible
from .text import clip, when

TYPE_CHECKING = False  # typing's flag without importing typing (see search.py)

if TYPE_CHECKING:
    from typing import TextIO

# Narrower than this, a hit's snippet goes on a line of its own.
ONE_LINE_WIDTH = 72


def report(hits: Iterable[Hit], query: Query, as_json: bool) -> int:
    """Print the hits (JSON, a terminal's view or a pipe's lines), then what could not be
    searched; the exit code: 0 when something matched, 1 when nothing did (as grep)."""
    if as_json:
        from .emit import emit_json

        found = [hit.as_json() for hit in hits]
        emit_json(found)
        count = len(found)
    elif sys.stdout.isatty():
        from .terminal import console

        count = terminal(hits, console().width)
    else:
        count = plain(hits, sys.stdout)
    for session_id in query.unreadable:
        print(
            f"gitsess: warning: not searched: session {session_id} is unreadable "
            "(see `gitsess doctor`)",
            file=sys.stderr,
        )
    if not count and not as_json and sys.stderr.isatty():
        print(f"Nothing matches {query.text!r}.", file=sys.stderr)
    return 0 if count else 1


def label(hit: Hit) -> str:
    """What the hit is: a message's role, else its type."""
    return hit.role or hit.type


def plain(hits: Iterable[Hit], stream: TextIO) -> int:
    """One tab-separated line a hit, for grep and cut: session, entry, what, time, title,
    snippet. Returns the number of hits."""
    count = 0
    for hit in hits:
        fields = [
            hit.session,
            short_entry_id(hit.entry or "-"),
            label(hit),
            hit.ts or "-",
            hit.title,
            hit.snippet,
        ]
        stream.write("\t".join(visible(" ".join(field.split())) for field in fields) + "\n")
        count += 1
    return count


def terminal(hits: Iterable[Hit], width: int) -> int:
    """Hits grouped under their session's title, the match highlighted."""
    from rich.text import Text

    from .terminal import console

    out = console()
    count, session = 0, None
    for hit in hits:
        if hit.session != session:
            session = hit.session
            heading = Text()
            heading.append(visible(hit.title), style="bold")
            heading.append(f"  {hit.session}", style="yellow")
            if count:
                out.print()
            out.print(heading, overflow="ellipsis", no_wrap=True)
        count += 1
        out.print(hit_lines(hit, width), overflow="ellipsis", no_wrap=True)
    return count


def hit_lines(hit: Hit, width: int) -> object:
    from rich.text import Text

    where = Text("  ")
    where.append(f"{short_entry_id(hit.entry or ''):<{SHORT_ENTRY_ID}}", style="dim")
    where.append(f" {label(hit):<11}", style="cyan")
    where.append(f" {when(hit.ts)}", style="dim")
    room = width - 4 if width < ONE_LINE_WIDTH else width - where.cell_len - 2
    snippet = snippet_text(hit, max(room, 10))
    if width < ONE_LINE_WIDTH:
        return Text("\n").join([where, Text("    ") + snippet])
    return where + Text("  ") + snippet


def snippet_text(hit: Hit, room: int) -> object:
    """The snippet cut to ``room`` cells around the match, the match in bold red as in git
    grep."""
    from rich.text import Text

    start, end = hit.span
    text = hit.snippet
    if len(text) > room:  # keep the match in view: cut from the left first
        left = max(min(start - room // 4, len(text) - room), 0)
        if left:  # the ellipsis stands in for old position `left`
            text = "…" + text[left + 1 :]
            start, end = max(start - left, 1), max(end - left, 1)
        text = clip(text, room)
        end = min(end, len(text))
        start = min(start, end)
    snippet = Text()
    snippet.append(visible(text[:start]))
    snippet.append(visible(text[start:end]), style="bold red")
    snippet.append(visible(text[end:]))
    return snippet
