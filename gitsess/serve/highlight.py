"""A file's patch as rows of a table: line numbers, and code highlighted by pygments.

Each file's lines are highlighted together with the lexer its name suggests (old and new
lines in one stream, as most viewers do: good enough for keywords and strings), by an
HtmlFormatter that writes CSS classes only (static/code.css holds the colours: the page's
Content-Security-Policy forbids inline styles). Pygments escapes the text it formats;
control characters are first made visible, so a patch cannot hide text or break lines.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from ..storage.diffs import FileChange

_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
# C0 controls but tab, DEL and C1 controls, and the bidirectional overrides: shown as
# their Unicode pictures or as \uXXXX, never acted on (a CR would also start a new line).
_CONTROLS: dict[int, int | str] = {c: 0x2400 + c for c in range(0x20) if c != 0x09}
_CONTROLS[0x7F] = 0x2421
for _code in (*range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F)):
    _CONTROLS[_code] = f"\\u{_code:04x}"
for _code in range(0x2066, 0x206A):
    _CONTROLS[_code] = f"\\u{_code:04x}"
KINDS = {"+": "add", "-": "del", " ": "ctx", "\\": "note"}


class Row:
    __slots__ = ("code", "kind", "new", "old")

    def __init__(self, kind: str, old: int | None, new: int | None, code: Markup) -> None:
        self.kind, self.old, self.new, self.code = kind, old, new, code


def shown(text: str) -> str:
    """``text`` with the characters that could act on the page's layout made visible."""
    return text.translate(_CONTROLS)


def rows(file: FileChange) -> list[Row]:
    """The file's patch lines as table rows, hunk headers included."""
    code = [shown(line[1:]) for line in file.lines if not line.startswith("@@")]
    marked = _highlight(file.path, code)
    found: list[Row] = []
    old = new = 0
    at = 0
    for line in file.lines:
        if line.startswith("@@"):
            match = _HUNK.match(line)
            if match:
                old, new = int(match[1]), int(match[2])
            found.append(Row("hunk", None, None, escape(shown(line))))
            continue
        kind = KINDS.get(line[:1], "ctx")
        html = marked[at]
        at += 1
        if kind == "note":  # "\ No newline at end of file"
            found.append(Row(kind, None, None, escape(shown(line))))
            continue
        found.append(
            Row(kind, old if kind != "add" else None, new if kind != "del" else None, html)
        )
        old += kind != "add"
        new += kind != "del"
    return found


def _highlight(path: str, lines: list[str]) -> list[Markup]:
    """Each line as highlighted HTML (escaped text in spans of CSS classes)."""
    plain = [escape(line) for line in lines]
    if not lines:
        return plain
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return plain
    except Exception:  # a lexer's own guesswork failing on a strange name: plain text
        return plain
    html = highlight("\n".join(lines) + "\n", lexer, HtmlFormatter(nowrap=True))
    split = html.split("\n")[: len(lines)]
    if len(split) != len(lines):  # a lexer that changed the line count: plain text
        return plain
    return [Markup(line) for line in split]
