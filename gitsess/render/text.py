"""Plain-text views of entries, shared by every renderer."""

from __future__ import annotations

import json

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object

Entry = dict[str, Any]


def content_text(content: Any) -> str:
    """The readable text of a message's content: a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    pieces.append(part["text"])
                else:
                    pieces.append(f"[{part.get('type', 'part')}]")
            else:
                pieces.append(str(part))
        return "\n".join(pieces)
    if content is None:
        return ""
    return json.dumps(content, ensure_ascii=False)


def compact(value: Any) -> str:
    """Any JSON value as one line."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def line_count(value: Any) -> int:
    text = value if isinstance(value, str) else content_text(value)
    return text.count("\n") + 1 if text else 0


def entry_label(entry: Entry) -> str:
    """A short word for what the entry is: the role for messages, else its type."""
    if entry.get("type") == "message":
        return str(entry.get("role", "message"))
    return str(entry.get("type", "?"))


def entry_summary(entry: Entry, width: int = 100) -> str:
    """The entry folded to one line, for tool calls, results and everything non-message."""
    kind = entry.get("type")
    if kind == "tool_call":
        text = f"{entry.get('name', '?')} {compact(entry.get('input'))}"
    elif kind == "tool_result":
        output = entry.get("output")
        lines = line_count(output)
        text = compact(content_text(output) if not isinstance(output, str) else output)
        text = f"{text}  ({plural(lines, 'line')})"
    elif kind == "commit":
        text = f"{str(entry.get('sha', ''))[:12]} {entry.get('subject', '')}"
    elif kind == "event":
        data = entry.get("data")
        text = str(entry.get("name", "")) + (f" {compact(data)}" if data not in (None, {}) else "")
    elif kind == "summary":
        text = f"[{summary_span(entry)}] {compact(content_text(entry.get('content')))}"
    elif kind in ("message", "reasoning"):
        text = compact(content_text(entry.get("content")))
    elif kind == "invalid":
        text = compact(entry.get("raw"))
    else:
        rest = {k: v for k, v in entry.items() if k not in ("id", "ts", "type", "head")}
        text = compact(rest)
    return clip(text, width)


def summary_span(entry: Entry) -> str:
    """What a summary covers: "#1-#95" for one `gitsess compact` wrote (it covers the log
    from its start), else the ids of the first and last entries it names."""
    covers = entry.get("covers")
    if isinstance(covers, int) and not isinstance(covers, bool) and covers > 0:
        return f"covers #1–#{covers}"
    return f"{entry.get('first', '?')}..{entry.get('last', '?')}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and the word in the right number: "1 entry", "2 entries", "0 commits"."""
    if count == 1:
        return f"{count} {word}"
    if many is None:
        many = (
            word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"
        )
    return f"{count} {many}"


def when(ts: Any, relative: bool = True, now: float | None = None) -> str:
    """A stored UTC timestamp for people, in the local time zone (TZ): "just now",
    "5 minutes ago", "3 hours ago", "yesterday 14:05" while recent (``relative``), else
    "2026-03-04 14:05". Text that is no timestamp is shown as it is, to the minute.

    Built on the ``time`` module alone: `status` runs in shell prompts, and importing
    datetime there would cost more than the rest of this."""
    text = str(ts or "")
    epoch = epoch_of(text)
    if epoch is None:
        return text[:16].replace("T", " ") if len(text) >= 16 else text
    return when_epoch(epoch, relative, now)


def when_epoch(epoch: float, relative: bool = True, now: float | None = None) -> str:
    """when() of a timestamp's seconds since the epoch."""
    import time

    local = time.localtime(epoch)
    absolute = time.strftime("%Y-%m-%d %H:%M", local)
    if not relative:
        return absolute
    current = time.time() if now is None else now
    age = current - epoch
    if age < -60 or age >= 7 * 86400:  # the future (a skewed clock), or long ago
        return absolute
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{plural(int(age // 60), 'minute')} ago"
    today = time.localtime(current)
    days = _day_number(today) - _day_number(local)
    if days == 0 or age < 6 * 3600:
        return f"{plural(int(age // 3600), 'hour')} ago"
    clock = time.strftime("%H:%M", local)
    if days == 1:
        return f"yesterday {clock}"
    return f"{time.strftime('%a', local)} {clock}"  # within the week: "Tue 09:30"


class Clock:
    """when() for many timestamps at one moment (`list --all`: 100,000 of them), ten times
    faster and the same: a time long ago is laid out from the zone's offset (asked once per
    quarter of an hour) and the date (once per day) instead of by strftime each time."""

    def __init__(self) -> None:
        import time

        self._time = time
        self.now = time.time()
        self.offsets: dict[int, int | None] = {}
        self.dates: dict[int, str] = {}

    def when_text(self, ts: Any) -> str:
        return when(ts, now=self.now)

    def when(self, epoch: float) -> str:
        age = self.now - epoch
        if -60 <= age < 7 * 86400:  # recent: said in words
            return when_epoch(epoch, now=self.now)
        try:
            return self.absolute(epoch)
        except (OverflowError, OSError, ValueError):  # out of the platform's range
            return when_epoch(epoch, now=self.now)

    def absolute(self, epoch: float) -> str:
        """when(relative=False): "2026-03-04 14:05"."""
        seconds = int(epoch // 1)  # as localtime floors it
        quarter = seconds // 900
        offset = self.offsets.get(quarter, 1)
        if offset == 1:  # not asked yet (1 second is no zone's offset)
            offset = self.offsets[quarter] = self._offset(quarter)
        if offset is None:
            return self._time.strftime("%Y-%m-%d %H:%M", self._time.localtime(epoch))
        day, second = divmod(seconds + offset, 86400)
        date = self.dates.get(day)
        if date is None:
            date = self.dates[day] = self._time.strftime(
                "%Y-%m-%d ", self._time.gmtime(day * 86400)
            )
        return date + _CLOCK[second // 60]

    def _offset(self, quarter: int) -> int | None:
        """The zone's offset through the quarter of an hour ``quarter`` (None: it changes
        within it). Zones change offset on quarter hours: the same offset at both ends
        holds for the whole quarter."""
        early = self._time.localtime(quarter * 900).tm_gmtoff
        late = self._time.localtime(quarter * 900 + 899).tm_gmtoff
        return early if early == late else None


_CLOCK = [f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(1440)]


def _day_number(moment: Any) -> int:
    """Days since 1970-01-01 of a struct_time's calendar date."""
    return _days_from_civil(moment.tm_year, moment.tm_mon, moment.tm_mday)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def epoch_of(text: str) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp ("2026-03-04T12:05:00Z",
    fractions and "+02:00" offsets too), else None."""
    if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt ":
        return None
    if text[13] != ":" or text[16] != ":":
        return None
    try:
        fields = [
            int(text[a:b]) for a, b in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))
        ]
        rest = text[19:]
        fraction = 0.0
        if rest.startswith("."):
            digits = len(rest) - len(rest[1:].lstrip("0123456789"))
            fraction = float("0" + rest[:digits])
            rest = rest[digits:]
        if rest in ("Z", "z"):
            offset = 0
        elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
            offset = (int(rest[1:3]) * 60 + int(rest[4:6])) * (1 if rest[0] == "+" else -1)
        else:
            return None
    except ValueError:
        return None
    year, month, day, hour, minute, second = fields
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    days = _days_from_civil(year, month, day)
    return days * 86400 + hour * 3600 + minute * 60 + second - offset * 60 + fraction


def header_parts(summary: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A session's two header lines as (text, style) spans, for rich or for plain text."""
    parts = [(str(summary.get("title", "")), "bold"), (f"  {summary.get('id', '')}", "yellow")]
    if summary.get("status") == "archived":
        parts.append(("  (archived)", "dim"))
    details = [
        f"branch {summary.get('branch', '')}",
        plural(int(summary.get("entries") or 0), "entry"),
        f"updated {when(summary.get('updated'))}",
    ]
    if summary.get("agent"):
        details.append(f"agent {summary['agent']}")
    parent = summary.get("parent")
    if isinstance(parent, dict) and parent.get("session"):
        details.append(f"forked from {parent['session']} at {parent.get('entry') or 'start'}")
    return parts, [(" · ".join(details), "dim")]


def one_line(entry: Entry, width: int) -> str:
    return clip(f"{entry_label(entry)}: {entry_summary(entry, width)}", width)


# `show --type`: the entry types, and the roles that stand for messages of that role.
ENTRY_TYPES = ("message", "reasoning", "tool_call", "tool_result", "commit", "event", "summary")
ROLES = ("user", "assistant", "system")


def select_entries(
    entries: list[Entry], types: tuple[str, ...] = (), last: int | None = None
) -> tuple[list[Entry], list[int]]:
    """The entries of these ``types`` (all when none; a role means messages of that role),
    the ``last`` N of them, each with its 1-based place in the whole log."""
    wanted = set(types)

    def chosen(entry: Entry) -> bool:
        if not wanted:
            return True
        kind = entry.get("type")
        return kind in wanted or (kind == "message" and entry.get("role") in wanted)

    picked = [(n, e) for n, e in enumerate(entries, start=1) if chosen(e)]
    if last is not None:
        picked = picked[len(picked) - last :] if last else []
    return [e for _, e in picked], [n for n, _ in picked]
