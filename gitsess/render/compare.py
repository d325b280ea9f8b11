"""`compare` for people: one row per attempt, the numbers a reviewer weighs."""

from __future__ import annotations

from typing import Any

from .safe import visible
from .text import when


def number(value: Any) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def checks(row: dict[str, Any]) -> str:
    if not row.get("checks"):
        return "–"
    passed, failed = row.get("checks_passed", 0), row.get("checks_failed", 0)
    return f"✓{passed}" + (f" ✗{failed}" if failed else "")


def table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    grid = Table(box=None, pad_edge=False, header_style="bold")
    grid.add_column("id", style="yellow", no_wrap=True)
    grid.add_column("title", overflow="ellipsis", no_wrap=True, ratio=1, min_width=8)
    for name in ("entries", "turns", "tools", "commits", "files", "+", "-", "checks", "tokens"):
        grid.add_column(name, justify="right", no_wrap=True)
    grid.add_column("updated", no_wrap=True, overflow="ellipsis")
    for row in rows:
        archived = " (archived)" if row.get("status") == "archived" else ""
        grid.add_row(
            visible(str(row["id"])),
            visible(str(row.get("title") or "")) + archived,
            number(row.get("entries")),
            number(row.get("user_turns")),
            number(row.get("tool_calls")),
            number(row.get("commits")),
            number(row.get("files_changed")),
            number(row.get("insertions")),
            number(row.get("deletions")),
            checks(row),
            number(row.get("tokens")),
            when(row.get("updated")),
        )
    return grid
