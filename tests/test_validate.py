"""gitsess/validate.py: the checks that spare pydantic plainly valid entries agree with it."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitsess import model, validate

from .conftest import log_lines, run_cli

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.5,
    "",
    "text",
    "user",
    "assistant",
    "system",
    "User",
    "\ud800",
    "f" * 40,
    "0" * 64,
    "f" * 40 + "\n",
    "F" * 40,
    "f" * 39,
    [],
    [{}],
    [{"type": "text", "text": "hi"}],
    [{"a": 1}, "x"],
    [1],
    [[{}]],
    {},
    {"k": "v"},
]
FIELDS = {
    "message": ["role", "content"],
    "reasoning": ["content"],
    "tool_call": ["name", "input", "call_id"],
    "tool_result": ["call_id", "output", "is_error"],
    "summary": ["content", "first", "last"],
    "commit": ["sha", "subject"],
    "event": ["name", "data"],
}


def verdict(normalize: Any, raw: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", normalize(dict(raw))
    except ValueError as exc:
        return "refused", str(exc)


def entries(count: int) -> list[dict[str, Any]]:
    rng = random.Random(16)
    made = []
    for number in range(count):
        kind = rng.choice(list(FIELDS))
        raw: dict[str, Any] = {"id": f"e{number}", "ts": "2026-12-01T00:00:00Z", "type": kind}
        for key in FIELDS[kind]:
            if rng.random() < 0.85:
                raw[key] = rng.choice(VALUES)
        if rng.random() < 0.3:
            raw["extra"] = rng.choice(VALUES)
        made.append(raw)
    return made


def test_it_covers_every_type_the_model_checks() -> None:
    assert set(validate.PLAINLY_VALID) == set(model._BY_TYPE) == set(FIELDS)


def test_it_and_pydantic_agree_on_every_entry() -> None:
    """Whatever the shortcut accepts, pydantic accepts; whatever pydantic refuses is refused
    with pydantic's message."""
    accepted = refused = 0
    for raw in entries(6000):
        mine, theirs = verdict(validate.normalize_entry, raw), verdict(model.normalize_entry, raw)
        assert mine == theirs, raw
        if validate.PLAINLY_VALID[raw["type"]](raw):
            assert theirs[0] == "ok", raw
            accepted += 1
        refused += theirs[0] == "refused"
    assert accepted > 500 and refused > 500  # both sides were exercised


def test_every_pair_of_values_for_a_message() -> None:
    for role, content in itertools.product(VALUES, VALUES):
        raw = {"id": "m", "ts": "2026-12-01T00:00:00Z", "type": "message"}
        raw.update(role=role, content=content)
        assert verdict(validate.normalize_entry, raw) == verdict(model.normalize_entry, raw)


PROBE = (
    "import sys\n"
    "from gitsess.__main__ import main\n"
    "code = main(sys.argv[1:])\n"
    "print('PYDANTIC', any(m.split('.')[0] == 'pydantic' for m in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def record(repo: Path, lines: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    data = "".join(json.dumps(line) + "\n" for line in lines)
    return subprocess.run(
        [sys.executable, "-c", PROBE, "record", "--jsonl", "-"],
        cwd=repo,
        input=data,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"type": "message", "role": "robot", "content": "x"}, "line 2: message entry: role:"),
        ({"type": "tool_result", "call_id": "c"}, "line 2: tool_result entry: output: Field"),
        ({"type": "commit", "sha": "f" * 40 + "\n", "subject": "s"}, "line 2: commit entry: sha:"),
    ],
)
def test_record_loads_pydantic_only_for_an_entry_not_plainly_valid(
    repo: Path, bad: dict[str, Any], message: str
) -> None:
    made = run_cli(repo, "new", "Plain", "--json")
    assert made.code == 0, made.err
    session = json.loads(made.out)["id"]
    good = {"type": "message", "role": "user", "content": "hello"}
    call = {"type": "tool_call", "name": "Bash", "input": {"command": "ls"}, "call_id": "c1"}
    plain = record(repo, [good, call])
    assert plain.returncode == 0 and "PYDANTIC False" in plain.stderr, plain.stderr
    refused = record(repo, [good, bad])
    assert refused.returncode == 2 and "PYDANTIC True" in refused.stderr
    assert refused.stderr.startswith(f"gitsess: {message}"), refused.stderr
    assert len(log_lines(repo, session)) == 2  # nothing of the refused batch was written


META_VALUES: list[Any] = [
    *VALUES,
    "abcdefghjk",
    "ABCDEFGHJK",
    "abcdefghj",
    "active",
    "archived",
    "private",
    "shared",
    ["t"],
    ["t", 1],
    {"name": "n", "email": "e"},
    {"name": "n"},
    {"name": "n", "email": None},
    {"session": "abcdefghjk"},
    {"session": "abcdefghjk", "entry": None},
    {"session": "abcdefghjk", "entry": 3},
    {"session": None},
]
META_FIELDS = [
    *("format", "id", "title", "branch", "base", "created", "updated", "author", "agent"),
    *("parent", "status", "visibility", "tags", "from_branch", "task"),
]


def metas(count: int) -> list[dict[str, Any]]:
    """session.json values, each field left out, well formed or anything else at random."""
    rng = random.Random(6)
    good: dict[str, Any] = {
        "format": 1,
        "id": "abcdefghjk",
        "title": "t",
        "branch": "session/t",
        "base": None,
        "created": "2026-12-01T00:00:00Z",
        "updated": "2026-12-01T00:00:00Z",
        "author": {"name": "n", "email": "e"},
        "agent": None,
        "parent": {"session": "abcdefghjk"},
        "status": "active",
        "visibility": "private",
        "tags": ["t"],
        "from_branch": None,
        "task": "x",
    }
    made = []
    for _ in range(count):
        meta = dict(good)
        for key in META_FIELDS:
            roll = rng.random()
            if roll < 0.06:
                del meta[key]
            elif roll < 0.14:
                meta[key] = rng.choice(META_VALUES)
        made.append(meta)
    return made


def test_plainly_valid_metas_are_valid_to_pydantic() -> None:
    """doctor asks pydantic only about a session.json the shortcut doubts: whatever the
    shortcut accepts, pydantic accepts (and it accepts most good ones)."""
    accepted = doubted = 0
    for meta in metas(6000):
        if validate.plainly_valid_meta(meta):
            model.SessionMeta.model_validate(meta)  # raises if the shortcut was wrong
            accepted += 1
        else:
            try:
                model.SessionMeta.model_validate(meta)
            except model.ValidationError:
                doubted += 1
    assert accepted > 500 and doubted > 500  # both sides were exercised
