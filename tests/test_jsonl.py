"""gitsess/jsonl.py: msgspec reads and writes long inputs, and json's verdicts still hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gitsess import jsonl
from gitsess.storage.log import encode_json

from .conftest import log_lines, run_cli

FILLER = QUICK = jsonl.QUICK_AFTER + 5  # lines before the one under test: msgspec's part


def batch(tail: list[bytes]) -> bytes:
    """QUICK plain lines, then ``tail``: lines past QUICK_AFTER are msgspec's to read."""
    plain = b"".join(
        json.dumps({"type": "message", "role": "user", "content": f"turn {n}"}).encode() + b"\n"
        for n in range(FILLER)
    )
    return plain + b"".join(line + b"\n" for line in tail)


def message(content: str) -> bytes:
    return b'{"type":"message","role":"user","content":' + content.encode() + b"}"


TRICKY = [
    message('"\\ud83d\\ude00 escaped pair"'),
    message('"\\u00e9 and \\u0000 and \\"quotes\\""'),
    b'{"type":"event","name":"n","data":[1e16,1e-7,-0.0,123456789012345678901234567890]}',
    b'{"type":"event","name":"n","data":{"a":1,"a":2}}',
    b'{"type":"event","name":"n","data":null,"meta":{"x":[null,"null"]}}',
    b' {"type":"event","name":"spaces", "data": [ 1 , 2 ] }  ',
]


def test_long_input_is_stored_as_json_reads_it(repo: Path) -> None:
    made = run_cli(repo, "new", "Long", "--json")
    session = json.loads(made.out)["id"]
    result = run_cli(repo, "record", "--jsonl", "-", stdin=batch(TRICKY))
    assert result.code == 0, result.err
    stored = log_lines(repo, session)[FILLER:]
    for line, entry in zip(TRICKY, stored, strict=True):
        wanted = json.loads(line)
        assert {k: v for k, v in entry.items() if k not in ("id", "ts", "head")} == wanted


HOSTILE = [
    (message('"\\ud800 lone"'), None),  # json reads a lone surrogate; msgspec refuses it
    (b'{"type":"event","name":"n","data":NaN}', "NaN or an infinite number"),
    (b'{"type":"event","name":"n","data":1e400}', "NaN or an infinite number"),
    (b"[" * 300 + b"]" * 300, "an entry must be a JSON object, not list"),
    (b"[" * 5000 + b"]" * 5000, "not JSON"),
    (b"\xef\xbb\xbf" + message('"bom"'), "not JSON"),
    (b'{"type":"message","role":"user","content":"\xff"}', "not valid UTF-8"),
    (b'{"type":"message","role":"user","content":"x"', "not JSON"),
    (b'{"type":"message","role":"robot","content":"x"}', "message entry: role:"),
]


@pytest.mark.parametrize(("line", "refusal"), HOSTILE)
def test_past_the_first_lines_every_verdict_and_message_is_json_s(
    repo: Path, line: bytes, refusal: str | None
) -> None:
    """The same line as line 2 (json reads it) and past QUICK_AFTER (msgspec first): the
    same verdict, and the same message but for the line number."""
    made = run_cli(repo, "new", "Hostile", "--json")
    session = json.loads(made.out)["id"]
    early = run_cli(repo, "record", "--jsonl", "-", stdin=message('"first"') + b"\n" + line + b"\n")
    late = run_cli(repo, "record", "--jsonl", "-", stdin=batch([line]))
    number = FILLER + 1
    assert (early.code, late.code) == ((2, 2) if refusal else (0, 0)), (early.err, late.err)
    assert same(late.err.replace(f"line {number}", "line 2")) == same(early.err)
    if refusal:
        assert refusal in late.err and len(late.err.splitlines()) == 1
    assert len(log_lines(repo, session)) == (0 if refusal else 2 + number)


def same(err: str) -> str:
    """A message with the new entries' random ids blanked."""
    return re.sub(r"entry '[0-9a-z]{16}'", "entry 'ID'", err)


def test_encoding_gives_json_the_entries_msgspec_would_write_otherwise() -> None:
    entries: list[Any] = [{"a": float("nan")}, {"a": "\udc00"}, {1: "x"}, {"a": 1e16}]
    entries += [{"n": n} for n in range(jsonl.QUICK_AFTER)]
    strict = [encode_json(e) for e in entries[1:]]

    def refuse_nan(entry: Any) -> bytes:
        return encode_json(entry, allow_nan=False)

    with pytest.raises(ValueError):
        jsonl.encode_lines(entries, refuse_nan)  # NaN: refused, as json refuses it
    lines = jsonl.encode_lines(entries[1:], refuse_nan)
    assert [json.loads(line) for line in lines] == [json.loads(line) for line in strict]
    assert lines[:2] == strict[:2]  # the lone surrogate and the int key: json wrote them


def test_a_null_is_read_back_to_tell_none_from_nan() -> None:
    """msgspec writes None and NaN alike (`null`): a line holding null is kept only when
    reading it back gives the entry, so a NaN or an infinity beside a None still goes to
    json (and is refused), and Nones alone keep msgspec's line."""

    def refuse_nan(entry: Any) -> bytes:
        return encode_json(entry, allow_nan=False)

    fill = [{"n": n} for n in range(jsonl.QUICK_AFTER)]
    for bad in (float("nan"), float("inf"), -float("inf")):
        hidden = {"a": None, "deep": [{"x": None}, {"y": [None, bad]}], "s": "null"}
        with pytest.raises(ValueError):
            jsonl.encode_lines([*fill, hidden], refuse_nan)
    nones = {"a": None, "b": [None, {"c": None}], "s": "null", "f": 0.5}
    lines = jsonl.encode_lines([*fill, nones], refuse_nan)
    assert json.loads(lines[-1]) == nones and lines[-1] == encode_json(nones)
