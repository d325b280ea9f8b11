"""Finding and redacting secrets in entries, with detect-secrets.

Entries are JSON, but what agents saw (files, command output, tool input)
sits inside their string values. So each string is scanned as the text it
is: a one-line value as ``key = "value"`` (which lets the keyword and
entropy detectors see it as an assignment), a multi-line value line by line.
Identical lines are scanned once. Hex high-entropy detection is off: every
transcript is full of git commit ids, and each would be a finding; public IP
addresses are not secrets either.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

REDACTED = "[REDACTED:{kind}]"
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
    re.DOTALL,
)
INDIRECT_REFERENCE_FILTER = "detect_secrets.filters.heuristic.is_indirect_reference"
SKIPPED_PLUGINS = {"HexHighEntropyString", "IPPublicDetector"}
# Fields gitsess itself fills with ids and hashes: never secrets.
SAFE_KEYS = {"id", "ts", "type", "head", "sha", "call_id", "parent", "first", "last", "source"}


@dataclass(frozen=True)
class Finding:
    kind: str
    secret: str
    secret_hash: str


def _texts(value: Any, key: str = "") -> Iterator[str]:
    """The lines to scan for one JSON value."""
    if isinstance(value, str):
        if "\n" in value:
            yield from (line for line in value.splitlines() if line.strip())
        elif value.strip():
            yield f'{key or "value"} = "{value}"'
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in SAFE_KEYS:
                yield from _texts(v, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, key)


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
    for number, finding in _scan_lines(unique):
        for item in dict.fromkeys(owners[unique[number]]):
            if finding not in findings.setdefault(item, []):
                findings[item].append(finding)
    return findings


def scan_entries(entries: Iterable[tuple[Any, Any]]) -> dict[Any, list[Finding]]:
    """Findings per key, for (key, JSON value) pairs such as (entry id, entry)."""
    return scan_texts((key, list(_texts(value))) for key, value in entries)


def _scan_lines(lines: list[str]) -> Iterator[tuple[int, Finding]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    plugins = [{"name": c.__name__} for c in classes if c.__name__ not in SKIPPED_PLUGINS]
    # Lines may not hold newlines of their own: they were split on them.
    text = "\n".join(line.replace("\r", " ") for line in lines) + "\n"
    # As a .properties file, unquoted `key=value` and `key: value` lines are checked too.
    handle, path = tempfile.mkstemp(prefix="gitsess-scan-", suffix=".properties")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as out:
            out.write(text)
        collection = SecretsCollection()
        with transient_settings({"plugins_used": plugins}) as settings:
            # This filter's regex backtracks badly on long lines (about 6 ms a line of prose):
            # run on every line it dominates the scan, so it is applied to the findings only.
            settings.disable_filters(INDIRECT_REFERENCE_FILTER)
            collection.scan_file(path)
        from detect_secrets.filters.heuristic import is_indirect_reference

        for _, secret in collection:
            number = secret.line_number - 1
            if is_indirect_reference(lines[number]):
                continue
            value = secret.secret_value or ""
            yield number, Finding(secret.type, value, secret.secret_hash)
    finally:
        os.unlink(path)


def redact(value: Any, findings: list[Finding]) -> Any:
    """``value`` with every finding's secret replaced by a marker naming its kind."""
    if isinstance(value, str):
        for finding in findings:
            value = _redact_string(value, finding)
        return value
    if isinstance(value, dict):
        return {k: v if k in SAFE_KEYS else redact(v, findings) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, findings) for item in value]
    return value


def _redact_string(text: str, finding: Finding) -> str:
    marker = REDACTED.format(kind=finding.kind)
    if finding.kind == "Private Key":  # the detector sees the header; the key is the block
        text = _PRIVATE_KEY_BLOCK.sub(marker, text)
    if len(finding.secret) >= 8 and finding.secret in text:
        return text.replace(finding.secret, marker)
    # Some detectors report only part of the token (a prefix): redact what their patterns match.
    for pattern in _patterns(finding.kind):
        text = pattern.sub(marker, text)
    return text


def _patterns(kind: str) -> list[Any]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    found: type | None = get_mapping_from_secret_type_to_class().get(kind)
    return list(getattr(found, "denylist", []) or []) if found else []
