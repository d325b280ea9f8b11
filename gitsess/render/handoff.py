"""Text for compaction and hand-off: the Markdown a summarizer command reads, and what
`compact` and `resume --agent` tell people."""

from __future__ import annotations

import json
from typing import Any

from .noise import fold, speaker
from .text import content_text, plural

Entry = dict[str, Any]

TOOL_TEXT = 2_000  # characters of a tool call's input or output a summarizer is given
INSTRUCTIONS = (
    "Summarize this coding-agent conversation for whoever carries on with it: what the "
    "user asked for, the decisions taken and why, the results, the files changed, the "
    "commits, and what is still open. Print only the summary, as Markdown."
)


def summarizer_input(
    meta: dict[str, Any], previous: Entry | None, entries: list[Entry], focus: str | None
) -> str:
    """The conversation as Markdown for a summarizer command: instructions, the focus,
    the earlier summary it continues (when there is one) and the entries after it."""
    parts = [f"# Conversation: {_one_line(str(meta.get('title', '')))}", INSTRUCTIONS]
    if focus:
        parts.append(
            f"Focus: {focus}\n\nKeep everything about the focus in full; shorten the rest."
        )
    if previous is not None:
        parts.append(
            "## Summary of the conversation before this point\n\n"
            + content_text(previous.get("content")).strip()
        )
    parts.append("## The conversation" + (" since that summary" if previous is not None else ""))
    results = {e.get("call_id"): e for e in entries if e.get("type") == "tool_result"}
    for entry in entries:
        block = _entry_block(entry, results)
        if block:
            parts.append(block)
    return "\n\n".join(parts) + "\n"


def _entry_block(entry: Entry, results: dict[Any, Entry]) -> str:
    meta = entry.get("meta")
    if isinstance(meta, dict) and meta.get("inactive"):
        return ""
    kind = entry.get("type")
    noise = fold(entry)
    if noise is not None:
        return "" if noise.hidden else f"_({noise.text})_"
    if kind == "message":
        who = speaker(entry) or str(entry.get("role", "message"))
        return f"### {who}\n\n{content_text(entry.get('content')).strip()}"
    if kind == "tool_call":
        result = results.get(entry.get("call_id"))
        name = _one_line(str(entry.get("name", "?")))
        text = f"**Tool call** `{name}`: {_clip(_as_text(entry.get('input')))}"
        if result is not None:
            failed = " (failed)" if result.get("is_error") else ""
            output = _clip(_as_text(result.get("output")))
            text += f"\n\n**Result{failed}:**\n\n```\n{output}\n```"
        return text
    if kind == "commit":
        subject = _one_line(str(entry.get("subject", "")))
        return f"**Commit** {str(entry.get('sha', ''))[:12]} {subject}"
    if kind == "summary":
        return "### Summary (earlier)\n\n" + content_text(entry.get("content")).strip()
    return ""  # tool results go with their calls; events and reasoning are left out


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return content_text(value)
    return json.dumps(value, ensure_ascii=False)


def _clip(text: str) -> str:
    text = text.strip().replace("```", "ʼʼʼ")  # a fence in the output must not end ours
    if len(text) <= TOOL_TEXT:
        return text
    return text[:TOOL_TEXT] + f"\n… ({len(text) - TOOL_TEXT:,} more characters)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def compacted_lines(entry: Entry | None, covered: int, previous: Entry | None) -> list[str]:
    """What `compact` says it did."""
    if entry is None:
        if covered == 0:
            return ["Nothing to compact: the session has no entries yet."]
        where = f" (entry {previous.get('id')})" if previous is not None else ""
        return [
            f"Nothing new since the latest summary{where}: it already covers "
            f"{plural(covered, 'entry')}. Nothing was written."
        ]
    files = entry.get("files") or {}
    facts = [
        plural(len(files.get("modified") or []), "file") + " modified",
        plural(len(files.get("read") or []), "file") + " read",
        plural(len(entry.get("commits") or []), "commit"),
    ]
    by = "the built-in summarizer" if entry.get("summarizer") == "builtin" else "your summarizer"
    lines = [f"Appended a summary of {plural(covered, 'entry')} ({', '.join(facts)}), by {by}."]
    if entry.get("focus"):
        lines.append(f"Focus: {entry['focus']}")
    if previous is not None:
        lines.append(f"It covers the earlier summary {previous.get('id')} too.")
    lines.append(
        "Nothing was removed: `gitsess show` shows every entry; "
        "`resume --agent` hands over the summary and what follows."
    )
    return lines


def handed_lines(handed: dict[str, Any]) -> list[str]:
    """What `resume --agent` says it handed over."""
    lines = []
    if handed.get("compacted"):
        lines.append(
            "Compacted first: the hand-off was over gitsess.handoffSize "
            f"(summary {handed['compacted']})."
        )
    count = int(handed.get("entries") or 0)
    if handed.get("summary"):
        after = f"the {plural(count - 1, 'entry')} after it" if count > 1 else "nothing after it"
        lines.append(
            f"Handed over the summary {handed['summary']} and {after} (--full hands everything)."
        )
    else:
        lines.append(f"Handed over {plural(count, 'entry')}.")
    if handed.get("capped"):
        lines.append(
            f"{plural(int(handed['capped']), 'tool output')} cut to gitsess.handoffToolOutput."
        )
    lines.append(f"Wrote the conversation to {handed['transcript']}")
    return lines
