"""Markdown for pull requests and issues: messages as text, tool work folded in <details>."""

from __future__ import annotations

import json
import re
from typing import Any

from .text import compact, content_text

Entry = dict[str, Any]
OUTPUT_LIMIT = 4000
# Agents' bookkeeping, kept in the log but not worth a reader's attention.
HIDDEN_EVENTS = {"file-history-snapshot", "turn_context", "token_count", "stop_hook_summary"}


def session_markdown(summary: dict[str, Any], entries: list[Entry], level: int = 1) -> str:
    """A whole session: a header table, then the conversation."""
    heading = "#" * level
    rows = [
        ("Session", f"`{summary.get('id', '')}`"),
        ("Branch", f"`{summary.get('branch', '')}`"),
        ("Author", escape_text(_author(summary))),
    ]
    if summary.get("agent"):
        rows.append(("Agent", escape_text(str(summary["agent"]))))
    models = sorted({str(e["model"]) for e in entries if e.get("model")})
    if models:
        rows.append(("Model", ", ".join(f"`{m}`" for m in models)))
    rows.append(("Entries", str(len(entries))))
    table = "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    title = escape_text(str(summary.get("title", "")))
    return f"{heading} {title}\n\n{table}\n\n{conversation_markdown(entries)}"


def conversation_markdown(entries: list[Entry]) -> str:
    results = {e.get("call_id"): e for e in entries if e.get("type") == "tool_result"}
    paired = {
        id(results[e.get("call_id")])
        for e in entries
        if e.get("type") == "tool_call" and e.get("call_id") in results
    }
    blocks = []
    inactive = 0
    for entry in entries:
        meta = entry.get("meta")
        if isinstance(meta, dict) and meta.get("inactive"):
            inactive += 1
            continue
        if id(entry) in paired:
            continue  # shown with its call
        block = entry_markdown(entry, results.get(entry.get("call_id")))
        if block:
            blocks.append(block)
    if inactive:
        blocks.append(
            f"<sub>{inactive} entries from abandoned branches of the conversation "
            "are not shown.</sub>"
        )
    return "\n\n".join(blocks) + "\n"


def entry_markdown(entry: Entry, result: Entry | None = None) -> str:
    kind = entry.get("type")
    if kind == "message":
        role = str(entry.get("role", "message"))
        text = escape_text(content_text(entry.get("content")).strip()) or "*(empty)*"
        return f"**{role.capitalize()}**\n\n{text}"
    if kind == "tool_call":
        return _tool_markdown(entry, result)
    if kind == "tool_result":
        return details(
            f"↳ result of `{entry.get('call_id', '?')}`", fenced(_text(entry.get("output")))
        )
    if kind == "reasoning":
        return details("Thinking", escape_text(content_text(entry.get("content")).strip()))
    if kind == "summary":
        text = escape_text(content_text(entry.get("content")).strip())
        return "> **Summary of earlier conversation**\n>\n" + "\n".join(
            f"> {line}" for line in text.splitlines()
        )
    if kind == "commit":
        sha, subject = str(entry.get("sha", ""))[:12], str(entry.get("subject", ""))
        return f"● commit `{sha}` {escape_text(subject)}"
    if kind == "event":
        name = str(entry.get("name", ""))
        if name in HIDDEN_EVENTS:
            return ""
        data = entry.get("data")
        extra = f" `{clip(compact(data), 120)}`" if data not in (None, {}, []) else ""
        return f"<sub>event: {escape_text(name)}{extra}</sub>"
    return details(f"{escape_text(str(kind))} entry", fenced(json.dumps(entry, indent=2)))


def _tool_markdown(call: Entry, result: Entry | None) -> str:
    name = escape_text(str(call.get("name", "tool")))
    summary = f"⚙ {name}: <code>{escape_html(clip(compact(call.get('input')), 80))}</code>"
    body = fenced(json.dumps(call.get("input"), indent=2, ensure_ascii=False), "json")
    if result is not None:
        label = "Error" if result.get("is_error") else "Output"
        body += f"\n\n{label}:\n\n" + fenced(_text(result.get("output")))
        if result.get("is_error"):
            summary += " ⚠"
    return details(summary, body)


def details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def fenced(text: str, language: str = "") -> str:
    """A code block that no backtick run in ``text`` can close early; long text is cut."""
    if len(text) > OUTPUT_LIMIT:
        cut = len(text) - OUTPUT_LIMIT
        text = text[:OUTPUT_LIMIT] + f"\n… ({cut:,} more characters cut)"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    text = content_text(value)
    return text if text else json.dumps(value, indent=2, ensure_ascii=False)


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_CODE = re.compile(r"(```.*?```|`[^`\n]+`)", re.DOTALL)


def escape_text(text: str) -> str:
    """Markdown as written, but raw HTML outside code made inert: a message cannot open or
    close the <details> blocks around it."""
    parts = _CODE.split(text)
    return "".join(part if i % 2 else escape_html(part) for i, part in enumerate(parts))


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _author(summary: dict[str, Any]) -> str:
    author = summary.get("author")
    if isinstance(author, dict):
        return str(author.get("name") or author.get("email") or "")
    return ""
