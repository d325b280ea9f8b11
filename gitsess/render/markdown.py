"""Markdown for pull requests and issues: messages as text, tool work folded in <details>."""

from __future__ import annotations

import json
import re
from typing import Any

from .noise import BOOKKEEPING, fold, speaker
from .text import compact, content_text, plural

Entry = dict[str, Any]
OUTPUT_LIMIT = 4000
# Agents' bookkeeping, kept in the log but not worth a reader's attention (render/noise.py).
HIDDEN_EVENTS = BOOKKEEPING


def session_markdown(
    summary: dict[str, Any], entries: list[Entry], level: int = 1, full: bool = False
) -> str:
    """A whole session: a header table, then the conversation (agent noise folded to a
    line each, unless ``full``)."""
    heading = "#" * level
    rows = [
        ("Session", inline_code(str(summary.get("id", "")))),
        ("Branch", inline_code(str(summary.get("branch", "")))),
        ("Author", cell(_author(summary))),
    ]
    if summary.get("agent"):
        rows.append(("Agent", cell(str(summary["agent"]))))
    models = sorted({str(e["model"]) for e in entries if e.get("model")})
    if models:
        rows.append(("Model", ", ".join(inline_code(m) for m in models)))
    rows.append(("Entries", str(len(entries))))
    table = "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    title = one_line(str(summary.get("title", "")))
    return f"{heading} {title}\n\n{table}\n\n{conversation_markdown(entries, full)}"


def conversation_markdown(entries: list[Entry], full: bool = False) -> str:
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
        noise = None if full else fold(entry)
        if noise is not None:
            if not noise.hidden:
                blocks.append(f"<sub>· {html_text(noise.text)}</sub>")
            continue
        block = entry_markdown(entry, results.get(entry.get("call_id")))
        if block:
            blocks.append(block)
    if inactive:
        blocks.append(
            f"<sub>{plural(inactive, 'entry')} from abandoned branches of the conversation "
            f"{'is' if inactive == 1 else 'are'} not shown.</sub>"
        )
    return "\n\n".join(blocks) + "\n"


def entry_markdown(entry: Entry, result: Entry | None = None) -> str:
    kind = entry.get("type")
    if kind == "message":
        role = speaker(entry) or str(entry.get("role", "message"))
        role = one_line(role[:1].upper() + role[1:])
        text = escape_text(content_text(entry.get("content")).strip()) or "*(empty)*"
        return f"**{role}**\n\n{text}"
    if kind == "tool_call":
        return _tool_markdown(entry, result)
    if kind == "tool_result":
        call_id = html_code(str(entry.get("call_id", "?")))
        return details(f"↳ result of {call_id}", fenced(_text(entry.get("output"))))
    if kind == "reasoning":
        return details("Thinking", escape_text(content_text(entry.get("content")).strip()))
    if kind == "summary":
        text = escape_text(content_text(entry.get("content")).strip())
        return "> **Summary of earlier conversation**\n>\n" + "\n".join(
            f"> {line}" for line in text.splitlines()
        )
    if kind == "commit":
        sha, subject = str(entry.get("sha", ""))[:12], str(entry.get("subject", ""))
        return f"● commit {inline_code(sha)} {one_line(subject)}"
    if kind == "event":
        name = str(entry.get("name", ""))
        data = entry.get("data")
        extra = f" {inline_code(clip(compact(data), 120))}" if data not in (None, {}, []) else ""
        return f"<sub>event: {one_line(name)}{extra}</sub>"
    return details(f"{html_text(str(kind))} entry", fenced(json.dumps(entry, indent=2)))


def _tool_markdown(call: Entry, result: Entry | None) -> str:
    name = html_text(str(call.get("name", "tool")))
    summary = f"⚙ {name}: {html_code(clip(compact(call.get('input')), 80))}"
    body = fenced(json.dumps(call.get("input"), indent=2, ensure_ascii=False), "json")
    if result is not None:
        label = "Error" if result.get("is_error") else "Output"
        body += f"\n\n{label}:\n\n" + fenced(_text(result.get("output")))
        if result.get("is_error"):
            summary += " ⚠"
    return details(summary, body)


def details(summary: str, body: str) -> str:
    """A folded block. ``summary`` is HTML (the line is an HTML block, where Markdown is
    not read): build it with html_text and html_code only."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def fenced(text: str, language: str = "", limit: int | None = OUTPUT_LIMIT) -> str:
    """A code block that no backtick run in ``text`` can close early; long text is cut."""
    if limit is not None and len(text) > limit:
        cut = len(text) - limit
        text = text[:limit] + f"\n… ({cut:,} more characters cut)"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    text = content_text(value)
    return text if text else json.dumps(value, indent=2, ensure_ascii=False)


# -- text from sessions, made inert ---------------------------------------------------
#
# What a session holds (a teammate's, or a transcript) goes into Markdown that GitHub and
# other CommonMark renderers turn into HTML, with raw HTML passed through. So no character
# of it may reach the output as markup of its own: `<` and `&` are always entities (no
# tag, comment or autolink can start), code spans become <code> elements whose text is all
# entities (a backtick in the text cannot end them early), a fence in a message is closed
# where the message ends, and link schemes that run script are broken. Text keeps its
# Markdown formatting (emphasis, lists, links); gitsess's own <details> stay balanced.


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# What Markdown or HTML could read something into, even between <code> and </code>.
_ACTIVE = re.compile(r"[&<>`|*_~\[\]\\!]")  # never in an attribute: quotes are text
_SCRIPT_SCHEME = re.compile(r"(?i)((?:java|vb|live)script)(\s*\\?:)")


def html_text(text: str) -> str:
    """``text`` as one line of HTML text that Markdown cannot read anything into."""
    return _ACTIVE.sub(lambda m: f"&#{ord(m.group())};", " ".join(text.split()))


def html_code(text: str) -> str:
    """``text`` as inline code: safe in Markdown, in HTML blocks and in table cells."""
    return f"<code>{html_text(text)}</code>"


def inline_code(text: str) -> str:
    """``text`` as a Markdown code span where nothing can end it early (nor a table cell),
    else as html_code."""
    text = " ".join(text.split())
    # Backticks only round text with nothing HTML could read: a backslash before them
    # (a teammate's text ends with one) would leave it outside the code span.
    return f"`{text}`" if not re.search(r"[`|<>&\\]", text) else html_code(text)


def cell(text: str) -> str:
    """``text`` for a Markdown table cell: one line, no raw HTML, no `|` ending the cell."""
    return one_line(text).replace("|", "&#124;")


def one_line(text: str) -> str:
    """``text`` for places that take one line (headings, list items, labels)."""
    return _inline(" ".join(text.split()))


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
# A code span within one paragraph; bounded, so unmatched backticks cost linear time.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).){1,2000}?)(?<!`)\1(?!`)", re.DOTALL)


def escape_text(text: str) -> str:
    """Markdown as written, but nothing in it is raw HTML or can reach past its own text:
    not a tag (a message cannot open or close the <details> blocks around it), not a
    fence left open, not a code span whose backticks a renderer pairs otherwise."""
    out: list[str] = []
    lines = text.split("\n")
    prose: list[str] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            end = i + 1
            closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            while end < len(lines) and not closing.match(lines[end]):
                end += 1
            out.append(_inline("\n".join(prose)))
            prose = []
            language = re.sub(r"[^\w+.#-]", "", opening.group(2).strip().split(" ")[0])
            out.append(fenced("\n".join(lines[i + 1 : end]), language, None))
            i = end + 1
            continue
        prose.append(lines[i])
        i += 1
    out.append(_inline("\n".join(prose)))
    return "\n".join(part for part in out if part)


def _inline(text: str) -> str:
    """Prose: code spans as <code>, every other `<`, `&` and backtick inert."""
    pieces = []
    at = 0
    for match in _CODE_SPAN.finditer(text):
        pieces.append(_prose(text[at : match.start()]))
        code = match.group(2)
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        pieces.append(f"<code>{_ACTIVE.sub(lambda m: f'&#{ord(m.group())};', code)}</code>")
        at = match.end()
    pieces.append(_prose(text[at:]))
    return "".join(pieces)


def _prose(text: str) -> str:
    # Entities, not backslashes: a backslash of the text's own could escape the escape.
    text = _SCRIPT_SCHEME.sub("\\1\u200b\\2", escape_html(text)).replace("`", "&#96;")
    text = text.replace("~~~", "&#126;&#126;&#126;")  # no fence opens in a list or a quote
    # A backslash right before a <code> gitsess writes would make its `<` text.
    return text[:-1] + "&#92;" if text.endswith("\\") else text


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _author(summary: dict[str, Any]) -> str:
    author = summary.get("author")
    if isinstance(author, dict):
        return str(author.get("name") or author.get("email") or "")
    return ""
