"""What `resume --agent` hands an agent: the latest summary and the entries after it (or,
with ``full``, everything), large tool output capped, so a long session fits the agent's
context.

The summary goes in the agent's own form of a compacted history (agents/claude_code.py
writes a `compact_boundary` and an `isCompactSummary` line, agents/codex.py a
`compacted` record); a summary `gitsess compact` wrote gets the preamble that agent puts
before its own summaries, so the agent reads it as its own compaction.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from .compact import latest_summary, made_by_compact
from .render.text import content_text

if TYPE_CHECKING:
    from .storage.repo import Repository

Entry = dict[str, Any]

TOOL_OUTPUT_KEY = "gitsess.handoffToolOutput"
SIZE_KEY = "gitsess.handoffSize"
DEFAULT_TOOL_OUTPUT = 16 << 10  # characters of one tool output handed to an agent
DEFAULT_SIZE = 400 << 10  # characters of text past which `resume --compact` compacts

# How each agent opens the summary of its own compaction (Claude Code 2.x; Codex's
# templates/compact/summary_prefix.md).
PREAMBLES = {
    "claude-code": (
        "This session is being continued from a previous conversation that ran out of "
        "context. The conversation is summarized below:\n"
    ),
    "codex": (
        "Another language model started to solve this problem and produced a summary of "
        "its thinking process. You also have access to the state of the tools that were "
        "used by that language model. Use this to build on the work that has already been "
        "done and avoid duplicating work. Here is the summary produced by the other "
        "language model, use the information in this summary to assist with your own "
        "analysis:\n"
    ),
}


class Handoff(NamedTuple):
    entries: list[Entry]  # what the agent is given, in order
    summary: Entry | None  # the summary it starts from (None: the whole conversation)
    tail: int  # entries after the summary
    capped: int  # tool outputs cut to the cap
    size: int  # characters of text handed over


def handoff(
    entries: list[Entry], agent: str, full: bool = False, cap: int = DEFAULT_TOOL_OUTPUT
) -> Handoff:
    """The entries ``agent`` is handed: from the latest summary on (everything with
    ``full``, but the summaries `gitsess compact` wrote), tool outputs over ``cap``
    characters cut."""
    active = [e for e in entries if not _inactive(e)]
    at = None if full else latest_summary(active)
    summary: Entry | None = None
    if at is None:
        chosen = [e for e in active if not made_by_compact(e)]
    else:
        summary = active[at]
        chosen = [_introduced(summary, agent), *_tail(active, at)]
    chosen = answered(chosen, agent)
    capped = 0
    out = []
    for entry in chosen:
        cut = cap_output(entry, cap)
        capped += cut is not entry
        out.append(cut)
    tail = len(out) - 1 if summary is not None else 0
    return Handoff(out, summary, tail, capped, text_size(out))


def _tail(active: list[Entry], at: int) -> list[Entry]:
    """The entries after the summary at ``at``: from the one after the last it covers
    (an entry appended while it was being made is not covered), without summaries
    `gitsess compact` wrote, and without results whose call the summary covers (an agent
    refuses a result with no call before it)."""
    summary = active[at]
    last = summary.get("last")
    start = at + 1
    for index in range(at - 1, -1, -1):
        if active[index].get("id") == last:
            start = index + 1
            break
    tail = [e for i, e in enumerate(active[start:], start) if i != at and not made_by_compact(e)]
    calls = {e.get("call_id") for e in tail if e.get("type") == "tool_call"}
    return [e for e in tail if e.get("type") != "tool_result" or e.get("call_id") in calls]


NO_RESULT = "(no result of this call was recorded; gitsess gives this one for the hand-off)"


def answered(entries: list[Entry], agent: str) -> list[Entry]:
    """``entries`` with a stand-in result right after each tool call that has none: both
    agents' APIs refuse a call left unanswered (Claude Code's interrupted calls, Codex's
    web searches, whose results only its server kept). A native Codex web search handed
    back to Codex needs none."""
    results = {e.get("call_id") for e in entries if e.get("type") == "tool_result"}
    out: list[Entry] = []
    for entry in entries:
        out.append(entry)
        if entry.get("type") != "tool_call" or entry.get("call_id") in results:
            continue
        if agent == "codex" and _codex_item(entry) == "web_search_call":
            continue
        out.append(
            {
                "id": f"{entry.get('id')}:gitsess-result",
                "ts": entry.get("ts"),
                "type": "tool_result",
                "call_id": entry.get("call_id"),
                "output": NO_RESULT,
                "is_error": False,
            }
        )
    return out


def _codex_item(entry: Entry) -> str | None:
    source, meta = entry.get("source"), entry.get("meta")
    if isinstance(source, dict) and source.get("format") == "codex" and isinstance(meta, dict):
        kind = meta.get("item_type")
        return kind if isinstance(kind, str) else None
    return None


def _introduced(summary: Entry, agent: str) -> Entry:
    """A summary `gitsess compact` wrote, opened as ``agent`` opens its own."""
    if not made_by_compact(summary):
        return summary
    text = content_text(summary.get("content"))
    return {**summary, "content": PREAMBLES.get(agent, "") + text}


def cap_output(entry: Entry, cap: int) -> Entry:
    """``entry`` itself, or for a tool result longer than ``cap`` characters a copy whose
    output keeps its start and end and says what was left out, and the cap."""
    if entry.get("type") != "tool_result" or cap <= 0:
        return entry
    output = entry.get("output")
    if _size(output) <= cap:
        return entry
    text = output if isinstance(output, str) else content_text(output)
    head = text[: cap * 3 // 4]
    tail = text[len(text) - cap // 4 :] if cap // 4 else ""
    left_out = len(text) - len(head) - len(tail)
    note = (
        f"\n\n[… {left_out:,} characters of this output left out by gitsess: tool output "
        f"handed to an agent is capped at {cap:,} characters ({TOOL_OUTPUT_KEY}); "
        "`gitsess show --full` has all of it …]\n\n"
    )
    copy = {**entry, "output": head + note + tail}
    meta = entry.get("meta")
    if isinstance(meta, dict) and "toolUseResult" in meta:
        # Claude Code keeps a copy of the output there (stdout, file contents): cut too.
        copy["meta"] = {k: v for k, v in meta.items() if k != "toolUseResult"}
    return copy


def text_size(entries: list[Entry]) -> int:
    """Characters of text in ``entries``: contents, tool inputs and outputs."""
    total = 0
    for entry in entries:
        for key in ("content", "input", "output"):
            if key in entry:
                total += _size(entry[key])
    return total


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if value is None:
        return 0
    return len(json.dumps(value, ensure_ascii=False))


def limits(repo: Repository) -> tuple[int, int]:
    """(tool output cap, hand-off size) from git config: counts of characters, with k
    and m suffixes (1024 and 1024²) as git's own sizes; 0 turns the cap off."""
    return (
        _setting(repo, TOOL_OUTPUT_KEY, DEFAULT_TOOL_OUTPUT),
        _setting(repo, SIZE_KEY, DEFAULT_SIZE),
    )


def _setting(repo: Repository, key: str, default: int) -> int:
    from .errors import BadInput

    text = (repo.config(key) or "").strip().lower()
    if not text:
        return default
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit():
        raise BadInput(f"{key} must be a number of characters (k and m suffixes), not {text!r}")
    return int(digits) * scale


def _inactive(entry: Entry) -> bool:
    meta = entry.get("meta")
    return isinstance(meta, dict) and bool(meta.get("inactive"))
