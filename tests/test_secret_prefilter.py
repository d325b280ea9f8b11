"""The scan's prefilter never lets a line through unscanned that detect-secrets would flag.

The gate (gitsess/secret_prefilter.py) is built from the plugins' own patterns: these
tests check it against those patterns (generated matches of every one), against the
whole scan over the real-transcript corpus and a token of every kind, and that the
findings with the gate are the findings without it.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gitsess import secret_prefilter as prefilter
from gitsess import secrets

from .conftest import CORPUS
from .test_secrets import FORMATS, fill


@contextmanager
def scan_settings() -> Iterator[Any]:
    """detect-secrets set up as gitsess scans (its plugins and filters)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import get_plugins, transient_settings

    with transient_settings({"plugins_used": secrets._plugins()}) as configured:
        configured.disable_filters(secrets.INDIRECT_REFERENCE_FILTER)
        get_mapping_from_secret_type_to_class.cache_clear()
        yield get_plugins()


def gate_patterns() -> list[re.Pattern[str]]:
    with scan_settings() as plugins:
        return prefilter.gate_patterns(plugins, "scan.properties")


PATTERNS = gate_patterns()
GATE = prefilter.Gate(PATTERNS)


@pytest.mark.parametrize("index", range(len(PATTERNS)), ids=lambda i: f"pattern-{i}")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_match_of_every_plugin_pattern_passes_the_gate(index: int, data: Any) -> None:
    """Any match of any plugin's pattern (as hypothesis generates them from the pattern
    itself, case variants included), alone or with text around it, passes the gate."""
    pattern = PATTERNS[index]
    found = data.draw(st.from_regex(pattern))
    around = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)
    for line in (found, data.draw(around) + found + data.draw(around)):
        line = line.replace("\n", " ").replace("\r", " ").rstrip()
        if pattern.search(line):
            assert GATE.passes(line), (pattern.pattern, line)


@pytest.mark.parametrize(
    "line",
    [
        'ſecret = "a1b2c3d4e5"',  # long s: re matches it as s, case-insensitively
        'PASSWORD = "a1b2c3d4e5"',
        'İ_API_KEY = "a1b2c3d4e5f6a7"',
        '"Fak3T0kenN0tRea1Xq9y8W7v"',  # a quoted base64 run long enough for entropy
    ],
)
def test_case_folded_and_quoted_lines_pass(line: str) -> None:
    assert any(p.search(line) for p in PATTERNS)
    assert GATE.passes(line)


def test_the_gate_cuts_most_prose() -> None:
    lines = ["Refactor the parser so that it reads one line at a time.", "ok"]
    assert not any(GATE.passes(line) for line in lines)


def corpus_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(CORPUS.rglob("*.json*")) if CORPUS.is_dir() else []:
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            lines += secrets.texts(value)
    return lines


def token_lines() -> list[str]:
    """A token of every kind gitsess finds, in free text, quoted, and as assignments."""
    lines: list[str] = []
    for _name, text, secret, _kinds in FORMATS:
        lines += secrets.texts({"type": "message", "content": text})
        lines += [f'"{secret}"', f"password = {secret}", f"note: {secret};"]
    lines += [
        'aws_secret = "' + fill(40) + '"',
        "AccountKey="
        + fill(88, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"),
        "https://user:hunter2hunter2@example.com/repo.git",
        "-----BEGIN RSA PRIVATE KEY-----",
        "mc = 0123456789abcdef0123456789abcdef-us12",
        "bot 123456789:" + fill(35),
        "sq0csp-" + fill(43),
        "AKC" + fill(12),
        "AC" + fill(32, "0123456789abcdef"),
        "ibm_cloud_iam_api_key = " + fill(44),
        "'abc' == password",
        "# pragma: allowlist nextline secret",
        'password = "Fak3T0kenN0tRea1"',
    ]
    return lines


def full_scan(lines: list[str]) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """(detect-secrets' own scan_file, the gated scan) findings of one file of ``lines``."""
    from detect_secrets.core.secrets_collection import SecretsCollection

    text = "\n".join(line.replace("\r", " ") for line in lines) + "\n"
    handle, path = tempfile.mkstemp(prefix="gitsess-scan-", suffix=".properties")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as out:
            out.write(text)
        with scan_settings():
            collection = SecretsCollection()
            collection.scan_file(path)
            whole = [(s.line_number, s.type, s.secret_value) for _, s in collection]
            gated = [(s.line_number, s.type, s.secret_value) for s in secrets._detect(path)]
    finally:
        os.unlink(path)
    return whole, gated


def test_the_gated_scan_finds_what_the_whole_scan_finds() -> None:
    """Over the real transcripts and a token of every kind (in one file, as a push scans
    them): the same findings, on the same lines, and every flagged line passed the gate."""
    lines = list(dict.fromkeys(["A plain first line", *corpus_lines(), *token_lines()]))
    whole, gated = full_scan(lines)
    assert whole == gated
    assert {kind for _, kind, _ in whole} >= {"Secret Keyword", "AWS Access Key", "Private Key"}
    for number, _kind, _value in whole:
        assert GATE.passes(lines[number - 1].replace("\r", " ").rstrip()), lines[number - 1]


def test_each_token_alone_is_found_as_before() -> None:
    """One token in a file of prose (the gate then passes one line of many)."""
    prose = [f"Step {n}: read the file and report." for n in range(30)]
    for line in token_lines():
        whole, gated = full_scan([*prose, line, *prose])
        assert whole == gated, line


def test_an_ini_like_file_is_scanned_whole() -> None:
    """detect-secrets reads a file it can parse as INI (a section header first) as
    `key = "value"` lines, which finds an unquoted high-entropy value: the gate leaves
    such a file to it, whole."""
    value = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWpr"
    lines = ["[settings]", f"data: {value}"]
    whole, gated = full_scan(lines)
    assert whole == gated
    assert [kind for _, kind, _ in whole] == ["Base64 High Entropy String"]
    assert not GATE.passes(lines[1])  # as a plain line, nothing could flag it
    assert secrets.scan_texts([("e1", lines)])


def test_a_plugin_the_gate_does_not_know_turns_it_off() -> None:
    from detect_secrets.plugins.base import BasePlugin

    class Novel(BasePlugin):
        secret_type = "Novel"

        def analyze_string(self, string: str) -> Iterator[str]:
            yield from ()

    with pytest.raises(prefilter.UnknownPlugin):
        prefilter.gate_patterns([Novel()], "scan.properties")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet=" \ta=:[]#;x", min_size=0, max_size=6),
        min_size=1,
        max_size=6,
    )
)
def test_ini_certainly_fails_only_when_configparser_fails(lines: list[str]) -> None:
    """Whenever the test says configparser rejects the lines, it does: as they are, and
    with the `[global]` header detect-secrets adds on its second try."""
    assume(prefilter.ini_certainly_fails([line + "\n" for line in lines]))
    content = "\n".join(lines) + "\n"
    for text in (content, "[global]\n" + content):
        parser = configparser.ConfigParser()
        with pytest.raises(configparser.Error):
            parser.read_string(text)


def test_corpus_present_or_skipped() -> None:
    if not CORPUS.is_dir():
        pytest.skip("no real-transcript corpus")
    assert corpus_lines()
    assert isinstance(CORPUS, Path)
