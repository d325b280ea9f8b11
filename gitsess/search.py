"""`gitsess search`: entries across every session that hold a text or match a pattern.

git narrows, Python decides. One `git grep` over the log commits (storage/grep.py) returns
the stored lines that contain the needle (for a pattern: a literal the pattern cannot match
without); only those lines are decoded, and the match is then checked in the entry's text
fields alone (not in its keys, ids or times), which is what a hit means.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Generator, Iterable, Iterator
from itertools import islice

from .errors import BadInput, BrokenSession
from .ids import normalize_ts
from .storage.grep import EarlySearch, GrepLine, grep_logs, json_needle, session_logs
from .storage.layout import META_FILE
from .storage.log import META_MAX_BYTES, load_meta, parse_line

# typing's flag without importing typing (~5 ms of a search that takes a few dozen): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from .sessions import Sessions
    from .storage.git import Git
    from .storage.listing import EarlyListing

    Entry = dict[str, Any]

ENTRY_TYPES = ("message", "reasoning", "tool_call", "tool_result", "summary", "commit", "event")
ROLES = ("user", "assistant", "system")
# `--type title` finds sessions by title alone.
TITLE = "title"
BLOCK = 512  # grep lines handled together
SNIPPET = 80  # characters of context around a match, at most
# Fields that identify or place an entry: never searched (a hit in an id is not a hit).
STRUCTURAL = frozenset(
    {
        "id",
        "ts",
        "type",
        "role",
        "call_id",
        "head",
        "parent",
        "sha",
        "tree",
        "parents",
        "first",
        "last",
        "is_error",
    }
)


class Query:
    """What to look for, and where."""

    def __init__(
        self,
        text: str,
        regex: bool = False,
        case_sensitive: bool = False,
        sessions: Iterable[str] = (),
        types: Iterable[str] = (),
        author: str | None = None,
        since: str | None = None,
        include_archived: bool = False,
    ) -> None:
        if not text:
            raise BadInput("search for what? give a non-empty TEXT")
        self.text = text
        self.regex = regex
        self.case_sensitive = case_sensitive
        self.pattern = compile_pattern(text, regex, case_sensitive)
        self.sessions = list(sessions)
        self.types = set(types)
        unknown = self.types - {*ENTRY_TYPES, *ROLES, TITLE}
        if unknown:
            known = ", ".join((*ENTRY_TYPES, *ROLES, TITLE))
            raise BadInput(f"unknown entry type {sorted(unknown)[0]!r} (one of: {known})")
        self.author = author.casefold() if author else None
        self.since = parse_since(since) if since else None
        self.include_archived = include_archived
        # Sessions the search could not read (set once it has run): `doctor` looks into them.
        self.unreadable: list[str] = []

    def wants_type(self, entry: Entry) -> bool:
        if not self.types:
            return True
        kind = entry.get("type")
        return kind in self.types or (kind == "message" and entry.get("role") in self.types)


class Hit:
    """One entry (or one title) that matches."""

    __slots__ = ("entry", "role", "session", "snippet", "span", "title", "ts", "type")

    def __init__(
        self,
        session: str,
        title: str,
        entry: str | None,
        kind: str,
        role: str | None,
        ts: str | None,
        snippet: str,
        span: tuple[int, int],
    ) -> None:
        self.session = session
        self.title = title
        self.entry = entry
        self.type = kind
        self.role = role
        self.ts = ts
        self.snippet = snippet
        self.span = span  # where the match is in the snippet

    def as_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "title": self.title,
            "entry": self.entry,
            "type": self.type,
            "role": self.role,
            "ts": self.ts,
            "snippet": self.snippet,
            "match": list(self.span),
        }


def begin(git: Git, listed: EarlyListing, query: Query) -> EarlySearch:
    """``query`` over every session, begun in git on the logs ``listed`` (see
    ``EarlySearch``); for ``search`` to carry on."""
    early = EarlySearch(git, listed)
    needle, ignore_case = grep_needle(query)
    early.grep(needle, ignore_case, _with_meta(query))
    return early


def search(
    sessions: Sessions, query: Query, early: EarlySearch | None = None
) -> Generator[Hit, None, None]:
    """Every hit, the most recently written sessions first, each session's in log order.
    ``early``: the same query, begun before ``sessions`` was opened."""
    begun = early.take() if early is not None and not query.sessions else None
    logs, started = begun if begun is not None else (session_logs(sessions.repo.git), None)
    if query.sessions:
        wanted = {sessions.resolve(name) for name in query.sessions}
        logs = [(sid, oid) for sid, oid in logs if sid in wanted]
    by_commit = {oid: sid for sid, oid in logs}
    needle, ignore_case = grep_needle(query)
    metas: dict[str, dict[str, Any] | None] = {}
    unreadable: list[str] = []
    lines = grep_logs(
        sessions.repo.git,
        list(by_commit),
        needle,
        ignore_case,
        _with_meta(query),
        unreadable,
        started,
    )
    titled: set[str] = set()
    # In blocks: the metadata of the sessions a block meets is read in one `cat-file`.
    while block := list(islice(lines, BLOCK)):
        met = {by_commit[f.commit]: f.commit for f in block if f.commit in by_commit}
        _read_metas(sessions, {sid: c for sid, c in met.items() if sid not in metas}, query, metas)
        for found in block:
            session_id = by_commit.get(found.commit)
            meta = metas.get(session_id) if session_id else None
            if session_id is None or meta is None:
                continue
            if session_id not in titled:  # first sight: the title's hit comes first
                titled.add(session_id)
                yield from _title_hit(session_id, meta, query)
            if found.path != META_FILE:
                yield from _entry_hit(session_id, meta, found, query)
    query.unreadable = sorted(by_commit[oid] for oid in unreadable)


def _with_meta(query: Query) -> bool:
    """Whether session.json is searched too (for titles)."""
    return not query.types or TITLE in query.types


def _read_metas(
    sessions: Sessions,
    commits: dict[str, str],
    query: Query,
    metas: dict[str, dict[str, Any] | None],
) -> None:
    """Each session's metadata into ``metas`` (None: unreadable, or left out by the query)."""
    specs = [f"{commit}:{META_FILE}" for commit in commits.values()]
    failed: dict[str, str] = {}
    blobs = sessions.repo.reader.read_many(specs, failed, max_size=META_MAX_BYTES)
    for session_id, blob in zip(commits, blobs, strict=True):
        try:
            meta = load_meta(session_id, blob) if blob is not None else None
        except BrokenSession:
            meta = None  # `list` warns about it and `doctor` looks into it
        metas[session_id] = meta if meta is not None and _wanted(meta, query) else None


def _wanted(meta: dict[str, Any], query: Query) -> bool:
    if meta.get("status") == "archived" and not query.include_archived and not query.sessions:
        return False
    if query.author is not None:
        author = meta.get("author")
        name, email = (
            (author.get("name", ""), author.get("email", ""))
            if isinstance(author, dict)
            else ("", "")
        )
        return query.author in f"{name} <{email}>".casefold()
    return True


def _title_hit(session_id: str, meta: dict[str, Any], query: Query) -> Iterator[Hit]:
    title = str(meta.get("title", ""))
    if query.types and TITLE not in query.types:
        return
    updated = _text(meta.get("updated"))
    if query.since is not None and not _at_or_after(updated, query.since):
        return
    if match := query.pattern.search(title):
        snippet, span = snip(title, match.span())
        yield Hit(session_id, title, None, TITLE, None, updated, snippet, span)


def _entry_hit(
    session_id: str, meta: dict[str, Any], found: GrepLine, query: Query
) -> Iterator[Hit]:
    title = str(meta.get("title", ""))
    entry = parse_line(found.line)
    if not query.wants_type(entry) or (query.types == {TITLE}):
        return
    if query.since is not None and not _at_or_after(entry.get("ts"), query.since):
        return
    for text in searchable_strings(entry):
        match = query.pattern.search(text)
        if match:
            snippet, span = snip(text, match.span())
            entry_id = entry.get("id")
            role = entry.get("role") if entry.get("type") == "message" else None
            yield Hit(
                session_id,
                title,
                entry_id if isinstance(entry_id, str) else None,
                str(entry.get("type", "?")),
                role if isinstance(role, str) else None,
                entry.get("ts") if isinstance(entry.get("ts"), str) else None,
                snippet,
                span,
            )
            return


def searchable_strings(entry: Entry) -> Iterator[str]:
    """The entry's text: every string in it (keys of tool input included, as a user types
    them), except the fields that only identify or place it. Iterative: a line nested
    200,000 deep is data, not a reason to fail."""
    stack: list[Any] = [value for key, value in entry.items() if key not in STRUCTURAL]
    stack.reverse()
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                stack.append(item)
                stack.append(str(key))
        elif isinstance(value, list):
            stack.extend(reversed(value))


def snip(text: str, span: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    """Up to SNIPPET characters of ``text`` around ``span``, on one line, and where the
    match is in it. Whitespace runs become one space."""
    start, end = span
    room = max(SNIPPET - (end - start), 0)
    left = max(start - room // 3, 0)
    right = min(end + room - (start - left), len(text))
    before, hit, after = text[left:start], text[start:end], text[end:right]
    before = (
        ("…" if left > 0 else "")
        + " ".join(before.split())
        + (" " if before[-1:].isspace() else "")
    )
    hit = " ".join(hit.split()) or hit
    after = (
        (" " if after[:1].isspace() else "")
        + " ".join(after.split())
        + ("…" if right < len(text) else "")
    )
    before = before.lstrip() if left == 0 else before
    return before + hit + after, (len(before), len(before) + len(hit))


def compile_pattern(text: str, regex: bool, case_sensitive: bool) -> re.Pattern[str]:
    # MULTILINE: `^` and `$` anchor at each line of a message, as grep's do.
    flags = re.MULTILINE | (0 if case_sensitive else re.IGNORECASE)
    try:
        return re.compile(text if regex else re.escape(text), flags)
    except re.error as exc:
        raise BadInput(f"not a valid regular expression: {exc}") from None


def grep_needle(query: Query) -> tuple[bytes, bool]:
    """The fixed string `git grep` looks for, and whether it ignores case. For a pattern,
    the longest literal every match must contain (empty: every line, decided in Python)."""
    ignore_case = bool(query.pattern.flags & re.IGNORECASE)
    literal = required_literal(query.text) if query.regex else query.text
    if ignore_case:
        literal = caseless_part(literal)
    return json_needle(literal), ignore_case


def caseless_part(text: str) -> str:
    """The longest part of ``text`` git can match ignoring case in any locale: git folds
    only ASCII letters unless it runs in a UTF-8 locale, so letters beyond ASCII that have
    a case (É, ß, Σ) split the text; Python checks the whole match afterwards."""
    kept = "".join(c if (c.isascii() or c.lower() == c.upper()) else "\0" for c in text)
    parts = kept.split("\0")
    return max(parts, key=len)


def required_literal(pattern: str) -> str:
    """The longest run of plain characters every match of ``pattern`` contains (at its top
    level, in groups, in repeats of at least one). Empty when there is none: an alternation,
    classes only, or a pattern the parser of this Python reads differently."""
    try:
        if sys.version_info >= (3, 11):
            from re import _constants as sre
            from re import _parser as sre_parse
        else:  # pragma: no cover - Python 3.10
            import sre_constants as sre
            import sre_parse
        parsed: Any = sre_parse.parse(pattern)
        if parsed.state.flags & re.VERBOSE:
            return ""
        return _longest_literal(list(parsed), sre)
    except Exception:  # a private parser: any surprise means "no literal", never an error
        return ""


def _longest_literal(items: list[Any], sre: Any) -> str:
    best, run = "", ""
    for op, value in [*items, (None, None)]:
        if op is sre.LITERAL:
            run += chr(value)
            continue
        best = max(best, run, key=len)
        run = ""
        if op is sre.BRANCH:
            return ""  # each alternative may match without the others' literals
        if op is sre.SUBPATTERN:
            best = max(best, _longest_literal(list(value[-1]), sre), key=len)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and value[0] >= 1:
            best = max(best, _longest_literal(list(value[2]), sre), key=len)
    return best


def parse_since(text: str) -> datetime:
    """A time for `--since`: an RFC 3339 time or a date (UTC), `today`, `yesterday`, or
    `N minutes|hours|days|weeks [ago]` (as git's `--since` takes them)."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    words = text.strip().lower().split()
    if words == ["today"]:
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if words == ["yesterday"]:
        return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    match = re.fullmatch(
        r"(\d+)\s*\.?\s*(minute|hour|day|week)s?(\s*\.?\s*ago)?", text.strip().lower()
    )
    if match:
        unit = {"minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}[match[2]]
        return now - timedelta(**{unit: int(match[1])})
    stamp = normalize_ts(text.strip() if "T" in text else f"{text.strip()}T00:00:00Z")
    if stamp is None:
        raise BadInput(
            f"--since {text!r}: give a date (2026-11-01), a time (2026-11-01T09:00:00Z), "
            "'yesterday' or '3 days ago'"
        )
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _at_or_after(ts: Any, since: datetime) -> bool:
    from datetime import datetime

    if not isinstance(ts, str):
        return False
    stamp = normalize_ts(ts)
    return stamp is not None and datetime.fromisoformat(stamp.replace("Z", "+00:00")) >= since
