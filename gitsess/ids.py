"""Session ids, entry ids, slugs, titles and timestamps."""

from __future__ import annotations

import functools
import os
import re
import unicodedata

from .errors import BadInput

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

# Crockford base32, lowercase (docs/format.md section 3).
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SESSION_ID_LENGTH = 10
SESSION_ID_RE = re.compile(r"^[0-9a-hjkmnp-tv-z]{10}\Z")
ENTRY_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}\Z")  # \Z: "$" allows a final "\n"
MIN_PREFIX = 4
DEFAULT_BRANCH_PREFIX = "session/"
SLUG_MAX = 40


@functools.cache
def _ts_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(any RFC 3339 timestamp, the stored form on a day every month has), compiled on
    first use: read-only commands never need them, and compiling costs ~1 ms.

    ASCII: \\d is 0-9 only, not every script's digits; \\Z, as "$" allows a final "\\n"."""
    return re.compile(
        r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z",
        re.ASCII,
    ), re.compile(
        r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z\Z",
        re.ASCII,
    )


# Each random byte's low five bits pick a character: uniform, and translated in C.
_BASE32_OF_BYTE = bytes(ord(ALPHABET[b & 31]) for b in range(256))


def _random_base32(length: int) -> str:
    return os.urandom(length).translate(_BASE32_OF_BYTE).decode("ascii")


def new_session_id() -> str:
    return _random_base32(SESSION_ID_LENGTH)


ENTRY_ID_LENGTH = 16  # characters of base32: 80 random bits, collisions are not a concern
_ENTRY_IDS: list[str] = []  # drawn 256 at a time: one system call, not one an entry
# A forked child must not hand out its parent's next ids.
os.register_at_fork(after_in_child=_ENTRY_IDS.clear)


def new_entry_id() -> str:
    if not _ENTRY_IDS:
        text = _random_base32(ENTRY_ID_LENGTH * 256)
        _ENTRY_IDS.extend(
            text[at : at + ENTRY_ID_LENGTH] for at in range(0, len(text), ENTRY_ID_LENGTH)
        )
    return _ENTRY_IDS.pop()


def is_session_id(text: str) -> bool:
    return bool(SESSION_ID_RE.match(text))


def session_id_from_branch(branch: str) -> str | None:
    """The session id that ends a session branch name (`session/<slug>-<id>`), if any."""
    candidate = branch.rsplit("-", 1)[-1].rsplit("/", 1)[-1]
    return candidate if is_session_id(candidate) else None


# What git's check-ref-format refuses in a branch name, checked here without a process:
# control characters, space, ~ ^ : ? * [ \, "..", "@{", "//", a component starting with
# "." or ending with ".lock", a leading "-" or "/", a trailing "/" or ".".
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|(?:^|/)\.|\.lock(?:/|\Z)")


def valid_branch_name(name: str) -> bool:
    """Whether git accepts ``name`` as a branch name (`git check-ref-format --branch`)."""
    return bool(
        name
        and name != "@"
        and name != "HEAD"
        and not name.startswith(("-", "/", "refs/"))
        and not name.endswith(("/", "."))
        and not _BAD_REF_CHARS.search(name)
    )


def branch_problem(branch: object, session_id: str, prefix: str | Callable[[], str]) -> str | None:
    """Why ``branch`` cannot be the branch of session ``session_id``, or None if it can.

    A session's branch is the one gitsess makes for it, `<prefix><slug>-<id>` (or
    `<prefix><id>`): under the session prefix and ending with the session's own id, so
    no session (a teammate's, fetched) can name `main` or another session's branch.
    """
    if not isinstance(branch, str) or not branch:
        return "it names no branch"
    if not valid_branch_name(branch):
        return f"{branch!r} is not a valid branch name"
    # The default prefix is always accepted (sessions made before gitsess.branchPrefix was
    # set keep working); the configured one is looked up only when needed, as reading the
    # configuration costs a git process on the hot commands (`list --json`, `status`).
    if branch.startswith(DEFAULT_BRANCH_PREFIX):
        prefix = DEFAULT_BRANCH_PREFIX
    elif not isinstance(prefix, str):
        prefix = prefix()
    if not branch.startswith(prefix):
        return f"{branch!r} is not under the session prefix {prefix!r}"
    rest = branch[len(prefix) :]
    if rest != session_id and not rest.endswith(f"-{session_id}"):
        return f"{branch!r} does not end with the session's id {session_id}"
    return None


def is_id_prefix(text: str) -> bool:
    return MIN_PREFIX <= len(text) <= SESSION_ID_LENGTH and all(c in ALPHABET for c in text)


def slugify(title: str) -> str:
    """A branch-safe slug: ASCII letters, digits and single hyphens."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def now() -> str:
    """The current time, RFC 3339 in UTC with millisecond precision."""
    from datetime import datetime, timezone  # here: read-only commands never need it

    return format_ts(datetime.now(timezone.utc))


def format_ts(moment: datetime) -> str:
    from datetime import timezone

    m = moment.astimezone(timezone.utc)
    # Not strftime: its %Y does not pad years before 1000 to four digits.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def normalize_ts(text: str) -> str | None:
    """RFC 3339 ``text`` expressed in UTC, or None when it is not RFC 3339.

    A timestamp already in UTC keeps its native precision; one with another
    offset is converted to UTC.
    """
    rfc3339, canonical = _ts_patterns()
    if canonical.match(text):  # valid without building a datetime: the common case
        return text
    match = rfc3339.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8)
    from datetime import datetime, timedelta, timezone

    try:
        parsed = datetime(
            year,
            month,
            day,
            hour,
            minute,
            min(second, 59),
            int((fraction[1:] + "000000")[:6]) if fraction else 0,
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    if zone in ("Z", "z", "+00:00", "-00:00"):
        return text[: match.start(8)].replace("t", "T").replace(" ", "T") + "Z"
    sign = 1 if zone[0] == "+" else -1
    offset = sign * (int(zone[1:3]) * 60 + int(zone[4:6]))
    try:
        return format_ts(parsed - timedelta(minutes=offset))
    except OverflowError:  # before year 1 or after 9999 once in UTC
        return None


TITLE_MAX = 1000


def check_title(title: str) -> str:
    """The title as typed, or BadInput saying why it cannot be one."""
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput("the title is not valid UTF-8") from None
    if not title.strip():
        raise BadInput("the title is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in title):
        raise BadInput("the title contains control characters (newlines, tabs, escapes)")
    if len(title) > TITLE_MAX:
        raise BadInput(f"the title is longer than {TITLE_MAX} characters")
    return title
