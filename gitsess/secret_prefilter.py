"""Which lines detect-secrets could flag, found cheaply, so that only those are scanned.

detect-secrets calls each of its ~25 plugins on each line (about 0.5 ms a line here),
though nearly every line of a transcript is prose or code that none of them can match.
The gate built here is a necessary condition of every plugin the scan uses, derived from
the plugins themselves wherever they are regular expressions:

- a regex-based plugin (RegexBasedDetector) flags a line only when one of its own
  `denylist` patterns matches it: the gate holds those very patterns;
- the keyword plugin flags `password = ...`-like lines only: one of its keywords' stems
  (every keyword contains key, pass, pwd, secret or contrase) with an assignment sign
  after it, or a comparison (`==`, `!=`) before it;
- the high-entropy plugin flags a quoted run of its charset only when the run's Shannon
  entropy exceeds its limit, and a run of n characters has at most log2(n) bits: the
  gate asks for a quoted run of its charset long enough to pass the limit;
- gitsess's own rules (secret_rules.py, one plugin) are regex-based too, plus the bare
  40-character AWS secret key on a line of its own (its id on a nearby line).

A plugin the gate does not know (a newer detect-secrets) turns the gate off: every line
is scanned. The lines that pass are then scanned by detect-secrets exactly as its
`scan_file` would (same file, same filters, same five lines of context around each):
only the lines that cannot hold a finding are skipped. One case is left to detect-secrets
whole: a file that could parse as an INI file, which detect-secrets rewrites before it
scans (a scan of only `key = value` lines, rare in a transcript).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

# Every keyword of detect-secrets' KeywordDetector holds one of these (case-insensitively,
# as it matches): api_key, private_key... hold "key"; password, db_pass... "pass".
KEYWORD_STEMS = ("key", "pass", "pwd", "secret", "contrase")
_STEM = "(?:" + "|".join(KEYWORD_STEMS) + ")"
# For a .properties file (what the scan writes) the keyword plugin's regexes need a `:`,
# `=` or `;` after the keyword, or a `==`, `!=`, `!!` comparison before it.
KEYWORD_GATE = rf"(?i:{_STEM}.*[:=;])|[!=]{{2}}(?i:.*{_STEM})"
# detect-secrets' plugins whose analyze_string yields only matches of their denylist
# (a subset of them): reviewed against detect-secrets 1.5.
_FILTERING_OVERRIDES = {"JwtTokenDetector"}


class UnknownPlugin(Exception):
    """A plugin whose matches the gate cannot bound: scan every line."""


def gate_patterns(plugins: Iterable[Any], filename: str) -> list[re.Pattern[str]]:
    """The patterns one of which every line a plugin of ``plugins`` flags in the file
    ``filename`` matches (its name says which keyword regexes apply)."""
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import KeywordDetector

    patterns: list[re.Pattern[str]] = []
    for plugin in plugins:
        kind = type(plugin)
        if kind.__name__ == "KnownTokensDetector":  # gitsess's rules (secret_rules.py)
            patterns += list(plugin.gate)
        elif (
            isinstance(plugin, RegexBasedDetector)
            and (
                kind.analyze_string is RegexBasedDetector.analyze_string
                or kind.__name__ in _FILTERING_OVERRIDES
            )
            and kind.analyze_line is RegexBasedDetector.analyze_line
        ):
            patterns += list(plugin.denylist)
        elif kind is KeywordDetector and _config_file(filename):
            patterns.append(re.compile(KEYWORD_GATE))
        elif isinstance(plugin, HighEntropyStringsPlugin) and (
            kind.analyze_string is HighEntropyStringsPlugin.analyze_string
            and kind.analyze_line is HighEntropyStringsPlugin.analyze_line
        ):
            patterns.append(entropy_gate(plugin.charset, plugin.entropy_limit))
        else:
            raise UnknownPlugin(kind.__name__)
    return patterns


def _config_file(filename: str) -> bool:
    """The keyword plugin reads ``filename`` as a config file (KEYWORD_GATE's case)."""
    from detect_secrets.plugins import keyword
    from detect_secrets.util.filetype import determine_file_type

    found = keyword.REGEX_BY_FILETYPE.get(determine_file_type(filename))
    return found is keyword.CONFIG_DENYLIST_REGEX_TO_GROUP


def entropy_gate(charset: str, limit: float) -> re.Pattern[str]:
    """A quoted run of ``charset`` long enough that its entropy can exceed ``limit``:
    n characters hold at most log2(n) bits each (all different), so n > 2**limit."""
    shortest = math.floor(2**limit) + 1
    if math.log2(min(len(set(charset)), 2**64)) <= limit:
        shortest = 2**31  # no string of this charset passes: nothing to find
    run = "[" + re.escape(charset) + "]"
    return re.compile(rf"(?P<q>['\"]){run}{{{shortest},}}(?P=q)")


# The non-ASCII characters that match an ASCII letter case-insensitively in Python's re.
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}


class Gate:
    """``patterns`` as one fast test: a line passes when one of them matches it.

    Each pattern's literal needs (strings one of which every match holds, found in its
    parsed form) are looked for first, case-folded, with `in`; only the patterns whose
    need a line meets are then run on it. A pattern without a literal need runs on
    every line."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.always: list[re.Pattern[str]] = []
        self.by_literal: dict[str, list[re.Pattern[str]]] = {}
        for pattern in patterns:
            needs = literal_needs(pattern)
            if not needs:
                self.always.append(pattern)
            for literal in needs or ():
                self.by_literal.setdefault(literal, []).append(pattern)
        # Most selective first: a line meeting none of them is done after a few `in`s.
        self.literals = sorted(self.by_literal.items(), key=lambda item: -len(item[0]))

    def passes(self, line: str) -> bool:
        for pattern in self.always:
            if pattern.search(line):
                return True
        folded = line.lower() if line.isascii() else line.translate(_FOLD).lower()
        for literal, patterns in self.literals:
            if literal in folded:
                for pattern in patterns:
                    if pattern.search(line):
                        return True
        return False


def candidates(lines: Sequence[str], patterns: Sequence[re.Pattern[str]]) -> list[int]:
    """The indexes of the lines (as detect-secrets reads them) one of ``patterns`` matches."""
    gate = _gate(tuple(patterns))
    return [index for index, line in enumerate(lines) if gate.passes(line.rstrip())]


@functools.lru_cache(maxsize=4)
def _gate(patterns: tuple[re.Pattern[str], ...]) -> Gate:
    """The Gate of ``patterns``, built once (parsing them takes a few tens of ms)."""
    return Gate(patterns)


def literal_needs(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Lowercase ASCII strings one of which (case-folded) every match of ``pattern``
    holds; None when none is known."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        import sre_parse
    return _needs(sre_parse.parse(pattern.pattern, pattern.flags), sre_parse)


def _needs(sequence: Any, sre: Any) -> frozenset[str] | None:
    """The most selective need of one parsed sequence: every element of a sequence
    must match, so any element's need (or a run of literal characters) is the
    sequence's."""
    constants = sre.LITERAL, sre.SUBPATTERN, sre.BRANCH, sre.MAX_REPEAT, sre.MIN_REPEAT
    literal, subpattern, branch, max_repeat, min_repeat = constants
    options: list[frozenset[str]] = []
    run = ""
    for op, arg in list(sequence):
        if op is literal and arg < 128:
            run += chr(arg).lower()
            continue
        if run:
            options.append(frozenset([run]))
            run = ""
        found: frozenset[str] | None = None
        if op is subpattern:
            found = _needs(arg[-1], sre)
        elif op is branch:
            alternatives = [_needs(alt, sre) for alt in arg[1]]
            if all(alternatives):
                found = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op in (max_repeat, min_repeat) and arg[0] >= 1:
            found = _needs(arg[2], sre)
        if found:
            options.append(found)
    if run:
        options.append(frozenset([run]))
    if not options:
        return None
    return max(options, key=lambda need: (min(map(len, need)), -len(need)))


_INI_FREE = re.compile(r"[=:]")


def ini_certainly_fails(lines: Sequence[str]) -> bool:
    """Whether configparser certainly rejects these lines, with or without a section
    header added: then detect-secrets scans them as they are (it first tries to read any
    file as an INI file, and again, with a header, when nothing was found).

    configparser rejects a line that is not blank, a comment, a section header, an
    option (`name = value`, `name: value`) or an indented continuation: a line starting
    at column 0 with neither `=` nor `:` and not starting with `[`, `#` or `;`."""
    for line in lines:
        if not line or line[0].isspace():
            continue
        if line[0] in "[#;":
            continue
        if not _INI_FREE.search(line):
            return True
    return False


def scan_selected(path: str, lines: list[str], numbers: list[int]) -> list[Any]:
    """What detect-secrets' scan_file finds in ``path`` (whose lines are ``lines``, as it
    reads them), running its plugins only on the lines ``numbers``: the same filters, the
    same context of five lines each side, the first sighting of each secret kept (as its
    SecretsCollection does). Sorted as SecretsCollection iterates them."""
    from detect_secrets.core import scan
    from detect_secrets.settings import get_plugins
    from detect_secrets.util.code_snippet import get_code_snippet

    if scan._is_filtered_out(required_filter_parameters=["filename"], filename=path):
        return []
    plugins = get_plugins()
    kept: dict[Any, Any] = {}
    for index in numbers:
        line = lines[index].rstrip()
        snippet = get_code_snippet(lines=lines, line_number=index + 1)
        if scan._is_filtered_out(
            required_filter_parameters=["line"], filename=path, line=line, context=snippet
        ):
            continue
        for plugin in plugins:
            for secret in scan._scan_line(
                plugin=plugin, filename=path, line=line, line_number=index + 1, context=snippet
            ):
                if secret in kept or scan._is_filtered_out(
                    required_filter_parameters=["context"],
                    filename=secret.filename,
                    secret=secret.secret_value,
                    plugin=plugin,
                    line=line,
                    context=snippet,
                ):
                    continue
                kept[secret] = secret
    return sorted(kept, key=lambda s: (s.line_number, s.secret_hash, s.type))
