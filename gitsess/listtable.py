"""`list`'s table from the listing cache's names, without parsing any session's summary.

The table of every session (`gitsess list --all` into a pipe) is measured against `list
--json --all` of the same rows: parsing 100,000 summaries (and laying out rows as dicts)
cost ten times the JSON. The cache's names section (storage/listcache.py) holds what the
table shows, field by field: id, flags, title and branch (as JSON), entries, the
`updated` time (seconds since the epoch, and the local time it shows once a week old)
and the session a fork was made from. When every line is printable ASCII (nearly
always) the cells are made column by column with no JSON parsed; else, and for the few
rows marked (current, pinned, in a worktree), row by row by the same functions the
table used before, so what a user sees is what it was: escape codes in fetched titles
stay neutralized (render/safe.py).
"""

from __future__ import annotations

import json

from .render.safe import visible
from .storage.listcache import ABSENT, ARCHIVED, REREAD, ascii_json, zone_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .sessions import Sessions

LIST_COUNT = 20  # sessions in `list`'s page, unless gitsess.listCount says otherwise


def more_line(hidden: int, shown: int) -> str | None:
    """The table's last line when sessions are left out: how many, and how to see them."""
    if hidden <= 0:
        return None
    return (
        f"... and {hidden:,} more {'session' if hidden == 1 else 'sessions'}: "
        f"`gitsess list -n {shown * 2}` shows more, `gitsess list --all` all of them"
    )


def page_size(value: str | None) -> int | None:
    """`list`'s page from `gitsess.listCount` (LIST_COUNT when unset); None when the
    value is not a whole number of 1 or more."""
    if value is None:
        return LIST_COUNT
    return int(value) if value.strip().isdigit() and int(value) >= 1 else None


# The table's columns, in order (render/terminal.py HEADINGS).
Cells = tuple[str, str, str, str, str, str, str, str]
_PLAIN = bytes(range(0x20, 0x7F)).replace(b"\\", b"")  # what a field may hold as it is


def cell(field: bytes) -> str:
    """A title, branch or `forked from` cell of its field: ``visible(str(value))``."""
    if field == ABSENT:
        return ""
    if field[:1] == b'"' and not field.translate(None, _PLAIN):
        return field[1:-1].decode("ascii")  # a JSON string with nothing to unescape
    return visible(str(json.loads(field)))


class TableRows:
    """`list`'s table as cells, column by column (render/lines.py HEADINGS): pinned
    sessions first (those in ``first``), then the most recently updated, ``limit`` in
    all (None: every one); ``shown``, how many rows; ``total``, how many the listing
    holds; ``warnings`` for sessions whose branch gitsess ignores."""

    def __init__(self, columns: list[list[str]], total: int, warnings: list[str]) -> None:
        self.columns, self.total, self.warnings = columns, total, warnings
        self.shown = len(columns[0]) if columns else 0


def table_rows(
    sessions: Sessions,
    include_archived: bool,
    limit: int | None,
    first: list[str],
    elsewhere: dict[str, str],
) -> TableRows | None:
    """The table's rows from the cache's names (``elsewhere``: {branch: worktree path} of
    other worktrees), or None when some session must be read afresh (the table then
    comes the long way, as before)."""
    from .sessions import flagged_branch

    snapshot = sessions.store.listing_cache(whole=False)
    if snapshot.names_with(2, REREAD):
        return None
    # The rows to leave out, to warn about and to show first are found by searching the
    # bytes (storage/listcache.py): no other row is looked at here.
    lines = snapshot.names.splitlines()
    archived = snapshot.name_lines_with(2, ARCHIVED) + snapshot.name_lines_with(2, b"Ab")
    if archived and not include_archived:
        hidden = set(archived)
        lines = [line for line in lines if line not in hidden]
    warnings: dict[str, str] = {}
    for flags in (b"b", b"Ab") if include_archived else (b"b",):
        for fields in snapshot.names_with(2, flags):
            sid = _text(fields[1])
            problem = sessions.branch_problem({"branch": _value(fields[4])}, sid)
            if problem is not None:
                warnings[sid] = flagged_branch(sid, problem)
    pinned = [
        found[0]
        for sid in first
        if (found := snapshot.name_lines_with(1, sid.encode("utf-8", "surrogateescape")))
        and (include_archived or found[0] not in archived)
    ]
    total = len(lines)
    if pinned:
        put = set(pinned)
        lines = pinned + [line for line in lines if line not in put]
    pins = {line.split(b"\t", 2)[1] for line in pinned}
    cellar = Cellar(sessions, elsewhere, pins, snapshot.zone == zone_key())
    del snapshot  # the lines hold what is shown: the section goes before the cells come
    if limit is not None:
        del lines[limit:]
    columns = cellar.columns(lines)
    return TableRows(columns, total, [warnings[sid] for sid in sorted(warnings)])


# What a line may hold for its cells to be made without parsing: printable ASCII, no
# backslash (so a JSON string field is its text between the quotes).
_PLAIN_ROW = bytes(range(0x20, 0x7F)).replace(b"\\", b"") + b"\t"
WEEK = 7 * 86400


class Cellar:
    """Makes the table's cells of names lines, as render/terminal.py ``session_cells``
    makes them of a summary. ``zoned``: the file's local times are in this zone."""

    def __init__(
        self, sessions: Sessions, elsewhere: dict[str, str], pins: set[bytes], zoned: bool
    ) -> None:
        from .render.text import Clock

        self.sessions = sessions
        self.clock = Clock()
        self.current = sessions._current_json()
        self.places = {ascii_json(branch): path for branch, path in elsewhere.items()}
        self.pins = pins
        self.zoned = zoned
        # when() says a time as a date a week after it, or a minute before it (a skewed
        # clock's future).
        self.old, self.future = self.clock.now - WEEK, self.clock.now + 60

    def columns(self, lines: list[bytes]) -> list[list[str]]:
        if not lines:
            return []
        # Rows that may be marked (current, in a worktree, pinned) go the careful way.
        marked = {f.decode("ascii", "replace") for f in (self.current, *self.places) if f}
        pins = {p.decode("utf-8", "replace") for p in self.pins}
        columns: list[list[str]] = [[] for _ in range(8)]
        rows: list[Cells] = []
        when = self._when
        for at, line in enumerate(lines):
            if len(rows) == 5000:  # into the columns, a few rows at a time: held once
                self._into(columns, rows)
            lines[at] = b""  # the line goes as its cells come
            if not line.translate(None, _PLAIN_ROW):
                _, sid, flags, title, branch, count, updated, source, _ = line.decode().split("\t")
                if branch not in marked and sid not in pins:
                    rows.append(
                        (
                            " ",
                            sid,
                            _plain_cell(title) + (" (archived)" if "A" in flags else ""),
                            count,
                            when(updated),
                            _plain_cell(branch),
                            _plain_cell(source),
                            "",
                        )
                    )
                    continue
            rows.append(self._cells(line.split(b"\t")))
        self._into(columns, rows)
        return columns

    @staticmethod
    def _into(columns: list[list[str]], rows: list[Cells]) -> None:
        for column, cells in zip(columns, zip(*rows, strict=True), strict=True):
            column.extend(cells)
        rows.clear()

    def _when(self, field: str) -> str:
        """The `updated` cell: the local time the file holds for a week-old time in this
        zone, else render/text.py ``when`` (words for a recent time)."""
        if field[:1] == '"':
            return self.clock.when_text(json.loads(field))
        epoch, _, local = field.partition(" ")
        seconds = float(epoch)
        if local and self.zoned and not self.old < seconds <= self.future:
            return local
        return self.clock.when(seconds)

    def _cells(self, fields: list[bytes]) -> Cells:
        _, sid, flags, title, branch, count, updated, source = fields[:8]
        session_id = _text(sid)
        worktree = self.places.get(branch, "")
        current = self.current
        problem = branch == current and self.sessions.branch_problem(
            {"branch": _value(branch)}, session_id
        )
        if problem:
            current = None  # named, but not a branch gitsess uses: no mark
        pinned = sid in self.pins
        mark = "*" if branch == current else "+" if worktree else "^" if pinned else " "
        when = self._when(updated.decode("utf-8", "surrogateescape"))
        title_cell = cell(title) + (" (archived)" if ARCHIVED in flags else "")
        return (
            mark,
            visible(session_id),
            title_cell,
            count.decode("ascii"),
            when,
            cell(branch),
            cell(source),
            visible(worktree),
        )


def _plain_cell(field: str) -> str:
    """A field of printable ASCII without backslashes: absent (``-``), a JSON string, or
    a number, true, null..., shown as Python's str of it (as before)."""
    if field == "-":
        return ""
    return field[1:-1] if field[:1] == '"' else str(json.loads(field))


def _value(field: bytes) -> object:
    return None if field == ABSENT else json.loads(field)


def _text(field: bytes) -> str:
    return field.decode("utf-8", "surrogateescape")
