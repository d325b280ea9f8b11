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
        text = f"{text}  ({lines} line{'s' if lines != 1 else ''})"
    elif kind == "commit":
        text = f"{str(entry.get('sha', ''))[:12]} {entry.get('subject', '')}"
    elif kind == "event":
        data = entry.get("data")
        text = str(entry.get("name", "")) + (f" {compact(data)}" if data not in (None, {}) else "")
    elif kind == "summary":
        span = f"{entry.get('first', '?')}..{entry.get('last', '?')}"
        text = f"[{span}] {compact(content_text(entry.get('content')))}"
    elif kind in ("message", "reasoning"):
        text = compact(content_text(entry.get("content")))
    elif kind == "invalid":
        text = compact(entry.get("raw"))
    else:
        rest = {k: v for k, v in entry.items() if k not in ("id", "ts", "type", "head")}
        text = compact(rest)
    return clip(text, width)


def when(ts: Any) -> str:
    """A timestamp to the minute, for people."""
    text = str(ts or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def header_parts(summary: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A session's two header lines as (text, style) spans, for rich or for plain text."""
    parts = [(str(summary.get("title", "")), "bold"), (f"  {summary.get('id', '')}", "yellow")]
    if summary.get("status") == "archived":
        parts.append(("  (archived)", "dim"))
    details = [
        f"branch {summary.get('branch', '')}",
        f"{summary.get('entries', 0)} entries",
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
