"""What a user's names point at: sessions by id, prefix, branch or title (docs/format.md
section 3), and entries by number or id, the way `show` prints them.

Pure functions over what the caller read: no git here, so `Sessions.resolve`, `undelete`
and the commands that take an entry (`fork --at`, and later ones) share one set of rules.
"""

from __future__ import annotations

from .errors import BadInput
from .ids import ALPHABET, MIN_PREFIX, is_id_prefix

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# An entry's short id: what `show` prints beside its number.
SHORT_ENTRY_ID = 8
SUGGESTIONS = 3
MIN_SUBSTRING = 3
CANDIDATES_SHOWN = 5

# -- sessions ------------------------------------------------------------------------


def match_titles(reference: str, titled: Iterable[tuple[str, str]]) -> list[str]:
    """The ids whose title is ``reference`` up to case, from (id, title) pairs; the caller
    uses them only when nothing matched exactly (an exact-case title wins)."""
    folded = reference.casefold()
    return [sid for sid, title in titled if title.casefold() == folded]


def could_be_short_prefix(reference: str) -> bool:
    """Whether ``reference`` looks like an id prefix, only too short to be one."""
    return 0 < len(reference) < MIN_PREFIX and all(c in ALPHABET for c in reference)


def too_short_message(reference: str) -> str:
    return f"{reference!r} is too short: a prefix needs at least {MIN_PREFIX} characters"


def did_you_mean(reference: str, titled: Sequence[tuple[str, str]]) -> str:
    """ "; did you mean 'Title' (id)?" naming up to three sessions from (id, title) pairs
    close to ``reference`` (its id prefix, a title holding it, then titles spelled like it),
    or "" when none is close."""
    import difflib  # only when a name matched nothing

    folded = reference.casefold()
    picked: list[str] = []

    def pick(sids: Iterable[str]) -> None:
        picked.extend(sid for sid in sids if sid not in picked)

    pick(sid for sid, _ in titled if folded and sid.startswith(folded))
    if len(folded) >= MIN_SUBSTRING:  # "a" is in every title: it tells nothing
        pick(sid for sid, title in titled if folded in title.casefold())
    by_title: dict[str, list[str]] = {}
    for sid, title in titled:
        by_title.setdefault(title.casefold(), []).append(sid)
    for close in difflib.get_close_matches(folded, list(by_title), n=SUGGESTIONS):
        pick(by_title[close])
    if not picked:
        return ""
    titles = dict(titled)
    named = [f"{titles[sid]!r} ({sid})" for sid in picked[:SUGGESTIONS]]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"
    return f"; did you mean {listed}?"


def listed_sessions(titled: Iterable[tuple[str, str]]) -> str:
    """ "id (title), id (title)" for an ambiguity error, sorted by id."""
    return ", ".join(f"{sid} ({title})" for sid, title in sorted(titled))


def match_named(reference: str, titled: Iterable[tuple[str, str]]) -> list[str]:
    """The ids among (id, title) pairs that ``reference`` names by id, unique-prefix
    candidates or exact title; when none, by title up to case. An id may come in several
    pairs (a log deleted, restored and deleted again under another title): any of them."""
    pairs = list(titled)
    found = [
        sid
        for sid, title in pairs
        if sid == reference
        or (is_id_prefix(reference) and sid.startswith(reference))
        or title == reference
    ]
    return list(dict.fromkeys(found or match_titles(reference, pairs)))


def no_match(reference: str, titled: Sequence[tuple[str, str]], what: str = "session") -> str:
    """Why ``reference`` named none of the (id, title) pairs, with the closest ones."""
    hint = did_you_mean(reference, titled)
    if could_be_short_prefix(reference):
        return too_short_message(reference) + hint
    return f"no {what} matches {reference!r}{hint}"


# -- entries -------------------------------------------------------------------------


def entry_number(position: int) -> str:
    """How `show` writes the entry at 0-based ``position``: ``#1`` is the first."""
    return f"#{position + 1}"


def short_entry_id(entry_id: str) -> str:
    return entry_id[:SHORT_ENTRY_ID]


def locate_entry(ids: Sequence[str | None], reference: str) -> int:
    """The 0-based position, in a log whose entries have ``ids`` (None: a line without
    one), of the entry ``reference`` names: its number (``12`` or ``#12``, counted from 1
    over every entry), a unique prefix of its id (at least 4 characters), or its whole id.

    Nothing is guessed: a reference two entries answer to (``12`` when another entry's
    id is or starts with 12) is an error naming both; so is one that names none.
    """
    if reference.startswith("#"):
        return _by_number(ids, reference[1:], reference)
    found: list[int] = []
    if reference.isdigit() and reference.isascii() and 1 <= int(reference) <= len(ids):
        found.append(int(reference) - 1)
    exact = [at for at, entry_id in enumerate(ids) if entry_id == reference]
    if exact:
        found += exact
    elif len(reference) >= MIN_PREFIX:
        found += [
            at for at, entry_id in enumerate(ids) if entry_id and entry_id.startswith(reference)
        ]
    chosen = sorted(set(found))
    if len(chosen) == 1:
        return chosen[0]
    if chosen:
        raise BadInput(_ambiguous_entry(reference, ids, chosen))
    raise BadInput(_no_entry(reference, len(ids)))


def _by_number(ids: Sequence[str | None], digits: str, reference: str) -> int:
    if not (digits.isdigit() and digits.isascii()):
        raise BadInput(f"{reference!r} is not an entry number: write #1 for the first entry")
    number = int(digits)
    if not 1 <= number <= len(ids):
        raise BadInput(_no_entry(reference, len(ids)))
    return number - 1


def _no_entry(reference: str, count: int) -> str:
    held = f"it has {count} entr{'y' if count == 1 else 'ies'}"
    if reference.lstrip("#").isdigit():
        return f"no entry {reference!r} in this session: {held}, numbered from #1"
    if 0 < len(reference) < MIN_PREFIX:
        return (
            f"{reference!r} is too short: an entry id prefix needs at least {MIN_PREFIX} characters"
        )
    return f"no entry {reference!r} in this session ({held}; `gitsess show` lists them)"


def _ambiguous_entry(reference: str, ids: Sequence[str | None], positions: list[int]) -> str:
    named = [f"{entry_number(at)} ({ids[at] or 'no id'})" for at in positions[:CANDIDATES_SHOWN]]
    more = len(positions) - len(named)
    listed = ", ".join(named) + (f" and {more} more" if more > 0 else "")
    return f"{reference!r} is ambiguous: it matches entries {listed}; give #N or more of the id"
