"""Finding and redacting secrets in entries and session.json, with detect-secrets.

What is scanned: every string value and every dict key, at any depth, of every entry
and of session.json. Entries are JSON, but what agents saw (files, command output,
tool input) sits inside their string values, so each string is scanned as the text it
is: a one-line value as ``key = "value"`` (which lets the keyword and entropy
detectors see it as an assignment), a multi-line value line by line. A JSON document
held in a string has its line breaks escaped (``\\n``): those split lines too, so an
``.env`` file inside a tool's JSON output is read as the lines it is. Identical lines
are scanned once. The walk is iterative: no nesting depth can exhaust the stack.

What is skipped, and why:
- gitsess's own structural fields (ids, shas, times, types, the branch) at their
  positions, and only when their value has the structural format: such a value is
  still checked by the distinctive token detectors when it holds a token prefix (a
  token cannot hide as an id), but not by the entropy and keyword ones. A value in a
  structural position without the structural format is scanned like any other.
- opaque provider fields, by exact path: Claude's thinking signature and request id,
  Codex's encrypted reasoning. They are random-looking by design, are handed back to
  the provider as they are, and are not credentials.
- Hex high-entropy detection (every transcript is full of git commit ids) and public
  IP addresses (not secrets).

The tokens: detect-secrets' own plugins plus the rules in ``secret_rules.py``, which
detect-secrets loads as custom plugins.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .ids import ENTRY_ID_RE, SESSION_ID_RE, _ts_patterns

REDACTED = "[REDACTED:{kind}]"
RULES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "secret_rules.py")
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
    re.DOTALL,
)
INDIRECT_REFERENCE_FILTER = "detect_secrets.filters.heuristic.is_indirect_reference"
# GitHubTokenDetector reports only a token's prefix ("ghp") as the secret, so allowing
# one finding by its hash allowed every GitHub token: secret_rules has a whole-token one.
SKIPPED_PLUGINS = {"HexHighEntropyString", "IPPublicDetector", "GitHubTokenDetector"}

ENTRY, SESSION = "entry", "session"
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
_WORD = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")
_NATIVE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")


class _Time:
    @staticmethod
    def match(value: str) -> bool:
        return bool(_ts_patterns()[0].match(value))


class _OneOf:
    def __init__(self, *words: str) -> None:
        self.words = set(words)

    def match(self, value: str) -> bool:
        return value in self.words


Format = Any  # anything with .match(str)
# gitsess's own fields, by position, and the format a value must have there to be skipped.
STRUCTURE: dict[str, dict[tuple[str, ...], Format]] = {
    ENTRY: {
        ("id",): ENTRY_ID_RE,
        ("ts",): _Time,
        ("type",): _WORD,
        ("head",): _SHA,
        ("sha",): _SHA,
        ("parent",): ENTRY_ID_RE,
        ("call_id",): _NATIVE_ID,
        ("first",): ENTRY_ID_RE,
        ("last",): ENTRY_ID_RE,
        ("source", "format"): _WORD,
        ("source", "id"): _NATIVE_ID,
    },
    SESSION: {
        ("id",): SESSION_ID_RE,
        ("base",): _SHA,
        ("created",): _Time,
        ("updated",): _Time,
        ("status",): _OneOf("active", "archived"),
        ("visibility",): _OneOf("private", "shared"),
        ("parent", "session"): SESSION_ID_RE,
        ("parent", "entry"): ENTRY_ID_RE,
        # Made from the title, which is scanned: a slug can look random to the entropy
        # detector without being a secret. Renamed, never rewritten, when it holds one.
        ("branch",): re.compile(r"^[A-Za-z0-9._/-]{1,255}\Z"),
    },
}
# Opaque provider fields of entries, by exact path: never scanned, never altered.
OPAQUE = {
    ("meta", "block", "signature"),  # Claude's signature of a thinking block
    ("meta", "requestId"),  # Claude's API request id
    ("meta", "encrypted_content"),  # Codex's encrypted reasoning
}
# A redacted_thinking block's `data` is Claude's encrypted thinking: opaque too.
_REDACTED_THINKING_DATA = ("meta", "block", "data")
_PATH_DEPTH = 3  # the deepest structural or opaque path
# Distinctive token prefixes: a value in a structural position is scanned if it has one.
_TOKENISH = re.compile(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|gl[a-z]+-|xox|xapp-|sk-|sk_|rk_|AIza|npm_|pypi-|hf_"
    r"|SG\.|ph[cx]_|shp|_v1_|dp\.|dapi|lin_api_|PMAK-|glsa_|glc_|eyJ|ATATT|AGE-SECRET|gsk_"
    r"|hv[sb]\.|pul-|sntr|Q~|-----BEGIN"
)
_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\\r\\n|\\n|\\r")
_KEY_MIN = 8  # shorter dict keys cannot hold a token (nor a name and a non-trivial value)


@dataclass(frozen=True)
class Finding:
    kind: str
    secret: str
    secret_hash: str


def _position(kind: str, path: tuple[str, ...] | None, parent: Any) -> str:
    """ "opaque", "structural" or "" for the value at ``path`` (None: deeper than any)."""
    if path is None:
        return ""
    if kind == SESSION and path == ("branch",):
        return "branch"  # scanned, but a secret in it is redacted by renaming the branch
    if kind == ENTRY:
        if path in OPAQUE:
            return "opaque"
        if path == _REDACTED_THINKING_DATA and parent.get("type") == "redacted_thinking":
            return "opaque"
    return "structural" if path in STRUCTURE[kind] else ""


def _has_format(kind: str, path: tuple[str, ...], value: Any) -> bool:
    """The value at a structural position has that field's format."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, str) and bool(STRUCTURE[kind][path].match(value))


def _child(path: tuple[str, ...] | None, key: str) -> tuple[str, ...] | None:
    return (*path, key) if path is not None and len(path) < _PATH_DEPTH else None


def _string_lines(text: str, key: str) -> list[str]:
    if "\n" in text or "\r" in text or "\\n" in text or "\\r" in text:
        return [line for line in _LINE_BREAKS.split(text) if line.strip()]
    return [f'{key or "value"} = "{text}"'] if text.strip() else []


def texts(value: Any, kind: str = ENTRY) -> list[str]:
    """The lines to scan for one entry (``kind`` ENTRY) or session.json (SESSION)."""
    lines: list[str] = []
    # (value, its key, its path from the top while shallow enough to matter, its parent)
    stack: list[tuple[Any, str, tuple[str, ...] | None, Any]] = [(value, "", (), None)]
    while stack:
        node, key, path, parent = stack.pop()
        where = _position(kind, path, parent) if path else ""
        if where == "opaque":
            continue
        if where and _has_format(kind, path, node):  # type: ignore[arg-type]
            # Only the distinctive token detectors: bare, so no entropy or keyword finding
            # is made of an id or a branch slug that merely looks random.
            if isinstance(node, str) and _TOKENISH.search(node):
                lines.append(node)
            continue
        if isinstance(node, str):
            lines += _string_lines(node, key)
        elif isinstance(node, dict):
            for k, v in node.items():
                k = str(k)
                if len(k) >= _KEY_MIN:
                    lines += _string_lines(k, "")
                stack.append((v, k, _child(path, k), node))
        elif isinstance(node, list):
            stack.extend((item, key, None, node) for item in node)
    return lines


def scan_texts(items: Iterable[tuple[Any, list[str]]]) -> dict[Any, list[Finding]]:
    """Findings per item, for (item, lines) pairs: one detect-secrets pass over them all."""
    owners: dict[str, list[Any]] = {}
    for item, lines in items:
        for line in lines:
            owners.setdefault(line, []).append(item)
    if not owners:
        return {}
    unique = list(owners)
    findings: dict[Any, list[Finding]] = {}
    for number, finding in _scan_in_parallel(unique):
        for item in dict.fromkeys(owners[unique[number]]):
            if finding not in findings.setdefault(item, []):
                findings[item].append(finding)
    return findings


def scan_entries(entries: Iterable[tuple[Any, Any]]) -> dict[Any, list[Finding]]:
    """Findings per key, for (key, JSON value) pairs such as (entry id, entry).

    The key "session.json", or a tuple ending with it, marks session.json."""
    return scan_texts((key, texts(value, _kind_of(key))) for key, value in entries)


def _kind_of(key: Any) -> str:
    last = key[-1] if isinstance(key, tuple) and key else key
    return SESSION if last == "session.json" else ENTRY


def _plugins() -> list[dict[str, str]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    builtin = [
        {"name": c.__name__}
        for c in classes
        if c.__module__.startswith("detect_secrets.") and c.__name__ not in SKIPPED_PLUGINS
    ]
    custom = [{"name": "KnownTokensDetector", "path": f"file://{RULES_FILE}"}]
    return builtin + custom


# Distinct lines from which the scan is split across processes (one per core): below,
# starting them costs more than it saves. detect-secrets spends most of its time calling
# each detector on each line, so the work divides evenly by lines.
PARALLEL_FROM = 2000


def _scan_in_parallel(lines: list[str]) -> Iterator[tuple[int, Finding]]:
    """_scan_lines, with large scans split into one chunk per core, each scanned in a
    forked process (which inherits detect-secrets already imported). A secret on lines
    of two chunks is found by each: the findings are the same as in one pass."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if cores < 2 or len(lines) < PARALLEL_FROM:
        yield from _scan_lines(lines)
        return
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        yield from _scan_lines(lines)
        return
    size = -(-len(lines) // cores)
    starts = list(range(0, len(lines), size))
    # Import detect-secrets and build the prefilter once, here: each forked process
    # inherits them instead of loading them again (~0.3 s of CPU each).
    for _ in _scan_lines(["gitsess"]):
        pass
    with multiprocessing.get_context("fork").Pool(len(starts)) as pool:
        found = pool.map(_scan_chunk, [lines[start : start + size] for start in starts])
    for start, chunk in zip(starts, found, strict=True):
        for number, finding in chunk:
            yield start + number, finding


def _scan_chunk(lines: list[str]) -> list[tuple[int, Finding]]:
    return list(_scan_lines(lines))


def _scan_lines(lines: list[str]) -> Iterator[tuple[int, Finding]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import transient_settings

    plugins = _plugins()
    # Lines may not hold newlines of their own: they were split on them.
    text = "\n".join(line.replace("\r", " ") for line in lines) + "\n"
    # As a .properties file, unquoted `key=value` and `key: value` lines are checked too.
    handle, path = tempfile.mkstemp(prefix="gitsess-scan-", suffix=".properties")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as out:
            out.write(text)
        with transient_settings({"plugins_used": plugins}) as settings:
            # This filter's regex backtracks badly on long lines (about 6 ms a line of prose):
            # run on every line it dominates the scan, so it is applied to the findings only.
            settings.disable_filters(INDIRECT_REFERENCE_FILTER)
            # The plugin classes are cached from the first call: this one has ours.
            get_mapping_from_secret_type_to_class.cache_clear()
            found = _detect(path)
        from detect_secrets.filters.heuristic import is_indirect_reference

        starts = _line_starts(lines)
        for secret in found:
            value = secret.secret_value or ""
            finding = Finding(secret.type, value, secret.secret_hash)
            # detect-secrets reports a secret once a file (on its first line): every line
            # holding it is a finding, or redact would leave its other copies behind.
            numbers = [secret.line_number - 1]
            if len(value) >= 8:
                numbers = sorted(set(numbers) | set(_lines_holding(text, starts, value)))
            for number in numbers:
                line = lines[number]
                if not is_indirect_reference(line) and not _false_positive(
                    secret.type, value, line
                ):
                    yield number, finding
    finally:
        os.unlink(path)


def _detect(path: str) -> list[Any]:
    """What detect-secrets' scan_file finds in ``path`` (in SecretsCollection's order),
    its plugins run only on the lines the prefilter lets through (secret_prefilter.py)."""
    from detect_secrets.settings import get_plugins

    from . import secret_prefilter as prefilter

    try:
        with open(path) as handle:  # as detect-secrets reads it
            read = handle.readlines()
        patterns = prefilter.gate_patterns(get_plugins(), path)
    except (UnicodeDecodeError, prefilter.UnknownPlugin):
        read = []
    if read and prefilter.ini_certainly_fails(read):
        try:
            return prefilter.scan_selected(path, read, prefilter.candidates(read, patterns))
        except AttributeError:  # a detect-secrets without the internals it calls: scan whole
            pass
    from detect_secrets.core.secrets_collection import SecretsCollection

    collection = SecretsCollection()
    collection.scan_file(path)
    return [secret for _, secret in collection]


def _line_starts(lines: list[str]) -> list[int]:
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return starts


def _lines_holding(text: str, starts: list[int], secret: str) -> Iterator[int]:
    """The numbers of the lines of ``text`` (starting at ``starts``) that hold ``secret``."""
    at = text.find(secret)
    while at != -1:
        number = bisect.bisect_right(starts, at) - 1
        yield number
        following = starts[number + 1] if number + 1 < len(starts) else len(text)
        at = text.find(secret, following)


# Values the keyword detectors report that are code, not secrets (an agent reads a lot of
# it): a reference such as `env.API_KEY` or `params.apiKey`, an expression or a type (spaces,
# brackets, operators), an identifier or CONSTANT_NAME, or a few lowercase words (a mode or
# a placeholder such as `proxy-handled`).
_CODE_VALUE = re.compile(
    r"[\s(){}\[\];|&?<>]"
    r"|^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$"
    r"|^[a-z]+(?:[-_][a-z]+)*[-_]?$"
    r"|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$"
    r"|^[a-z]+(?:[A-Z][a-z]*)+$"
)
_KEYWORD_KINDS = {"Secret Keyword", "Secret Assignment"}
_GENERIC_KINDS = _KEYWORD_KINDS | {"Base64 High Entropy String", "Hex High Entropy String"}
# Ids the model providers give messages, tool calls and requests: random-looking, public.
_PROVIDER_ID = re.compile(r"^(?:srvtoolu|toolu|msg|req|call|fc|rs|resp|ws)_(?:bdrk_|vrtx_)?\w+$")
# The opaque provider fields, when a tool shows a transcript as text ("signature":"...").
_OPAQUE_IN_TEXT = re.compile(r'"(?:signature|encrypted_content)"\s*:\s*"$')


def _false_positive(kind: str, value: str, line: str) -> bool:
    """Findings of the generic detectors that are not secrets; distinctive tokens never are."""
    if kind in _KEYWORD_KINDS:
        return bool(_CODE_VALUE.search(value.strip("'\"")))
    if kind == "Base64 High Entropy String":
        if _PROVIDER_ID.match(value):
            return True
        at = line.find(value)
        return at > 0 and bool(_OPAQUE_IN_TEXT.search(line[:at]))
    return False


# -- redacting -------------------------------------------------------------------------


@dataclass
class Redacted:
    """A value with its findings replaced, and where (field path: kinds) it changed."""

    value: Any
    places: dict[str, list[str]] = field(default_factory=dict)

    def note(self, path: str, kinds: list[str]) -> None:
        known = self.places.setdefault(path or "(value)", [])
        known += [k for k in kinds if k not in known]


def redact(value: Any, findings: list[Finding], kind: str = ENTRY) -> Redacted:
    """``value`` with every finding's secret replaced by a marker naming its kind, except
    in structural fields (whatever their value: rewriting an id or a time would break the
    log), opaque provider fields and session.json's branch (renamed instead). The
    containers of ``value`` are rewritten in place."""
    result = Redacted(None)
    holder = [value]
    # (container, index or key in it, display path, structural path, parent of the value)
    stack: list[tuple[Any, Any, str, tuple[str, ...] | None, Any]] = [(holder, 0, "", (), None)]
    while stack:
        container, slot, shown, path, parent = stack.pop()
        node = container[slot]
        where = _position(kind, path, parent) if path else ""
        if where:  # structural, opaque or the branch: never rewritten (see Redacted.left)
            continue
        if isinstance(node, str):
            new, kinds = redact_text(node, findings)
            if kinds:
                container[slot] = new
                result.note(shown, kinds)
        elif isinstance(node, dict):
            renamed = {}
            for k in list(node):
                new_key, kinds = redact_text(str(k), findings) if isinstance(k, str) else (k, [])
                if kinds:
                    renamed[k] = new_key
                    result.note(_join(shown, "(key)"), kinds)
            if renamed:
                node = _rename_keys(node, renamed)
                container[slot] = node
            for k in node:
                stack.append((node, k, _join(shown, str(k)), _child(path, str(k)), node))
        elif isinstance(node, list):
            for index in range(len(node)):
                stack.append((node, index, f"{shown}[{index}]", None, node))
    result.value = holder[0]
    return result


def _join(shown: str, key: str) -> str:
    if shown.count(".") + shown.count("[") >= 6:  # deep paths are shown cut short
        return shown if shown.endswith("...") else shown + "..."
    return f"{shown}.{key}" if shown else key


def _rename_keys(node: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in node.items():
        new = renamed.get(k, k)
        while new in out or (new != k and new in node):  # two keys redacted alike
            new += "'"
        out[new] = v
    return out


def redact_text(text: str, findings: list[Finding]) -> tuple[str, list[str]]:
    """``text`` with the findings' secrets replaced, and the kinds replaced in it."""
    kinds = []
    # The distinctive kinds first: the marker then names the token, not "high entropy".
    for finding in sorted(findings, key=lambda f: f.kind in _GENERIC_KINDS):
        new = _redact_string(text, finding)
        if new != text:
            kinds.append(finding.kind)
            text = new
    return text, kinds


def holds(text: str, findings: list[Finding]) -> bool:
    """Whether ``text`` holds one of the findings' secrets."""
    return bool(redact_text(text, findings)[1])


def _redact_string(text: str, finding: Finding) -> str:
    marker = REDACTED.format(kind=finding.kind)
    if finding.kind == "Private Key":  # the detector sees the header; the key is the block
        text = _PRIVATE_KEY_BLOCK.sub(marker, text)
    if finding.kind == "JSON Web Token":  # the detector stops before the signature
        text = re.sub(re.escape(finding.secret) + r"[A-Za-z0-9_\-.+/=]*", lambda _: marker, text)
    if len(finding.secret) >= 8:
        text = text.replace(finding.secret, marker)
        # As it appears in a JSON document held in a string (quotes, backslashes escaped).
        escaped = json.dumps(finding.secret, ensure_ascii=False)[1:-1]
        if escaped != finding.secret:
            text = text.replace(escaped, marker)
        return text
    # Some detectors report only part of the token (a prefix): redact what their patterns match.
    for pattern in _patterns(finding.kind):
        text = pattern.sub(marker, text)
    return text


def _patterns(kind: str) -> list[Any]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    found: type | None = get_mapping_from_secret_type_to_class().get(kind)
    return list(getattr(found, "denylist", []) or []) if found else []
