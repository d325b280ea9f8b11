"""docs/format.md is the contract: its examples and tables are held to what gitsess does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from gitsess.cli import cli
from gitsess.model import check_meta, normalize_entry

from .conftest import Result, meta

DOC = Path(__file__).resolve().parents[1] / "docs" / "format.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(title: str) -> str:
    text = _text()
    start = text.index(title)
    end = text.find("\n#", start + len(title))
    return text[start : end if end != -1 else None]


def _table_firsts(section: str) -> list[str]:
    """The first cell of each row of the tables in ``section``, without backticks."""
    rows = re.findall(r"^\| `([^`|]+)`", section, re.MULTILINE)
    return [row.strip() for row in rows]


def test_the_session_json_example_is_valid() -> None:
    block = re.search(r"```json\n(.*?)```", _section("### session.json"), re.DOTALL)
    assert block
    check_meta(json.loads(block.group(1)))


def test_every_session_json_field_gitsess_writes_is_documented(gs: Any, repo: Path) -> None:
    created: Result = gs("new", "Documented", "--json")
    written = meta(repo, created.json()["id"])
    documented = set(_table_firsts(_section("### session.json")))
    assert set(written) <= documented, set(written) - documented


def test_every_entry_example_is_a_valid_entry() -> None:
    examples = re.findall(r"`(\{\"id\":.*?\})` \|$", _section("### Entries"), re.MULTILINE)
    types = {json.loads(example)["type"] for example in examples}
    assert types == {
        "message",
        "reasoning",
        "tool_call",
        "tool_result",
        "summary",
        "commit",
        "event",
    }
    for example in examples:
        assert normalize_entry(json.loads(example)) == json.loads(example)


def test_every_command_is_in_the_contract() -> None:
    table = _section("## 7. Command contract")
    # Each row's first cell names one or more commands, each at the start of a code span.
    cells = re.findall(r"^\| (.*?) \| ", table, re.MULTILINE)
    documented = {word for cell in cells for word in re.findall(r"`([a-z]+)", cell)}
    commands = set(cli.commands) if isinstance(cli, click.Group) else set()
    assert commands and commands <= documented, commands - documented
