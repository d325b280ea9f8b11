"""The review views: `pr` as Markdown, `why` and `log` for a terminal.

Each view draws a document built by `gitsess.review` (the one `--json` prints),
so what a person reads and what a program reads never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .markdown import (
    HIDDEN_EVENTS,
    conversation_markdown,
    details,
    escape_text,
    inline_code,
    one_line,
)
from .text import clip, compact, plural

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

Entry = dict[str, Any]
Document = dict[str, Any]

PROMPT_LIMIT = 300  # characters of each prompt in the pull request's list
PROMPTS_SHOWN = 30
FILES_SHOWN = 25
# GitHub refuses a pull request description longer than this.
GITHUB_BODY_LIMIT = 65536


def short(sha: Any) -> str:
    return str(sha or "")[:12]


def code(text: str) -> str:
    """``text`` as inline code that nothing in it can end early (markdown.html_code)."""
    return inline_code(text)


# -- Markdown for a pull request -------------------------------------------------------


def pr_markdown(doc: Document, conversation: bool = True, full: bool = False) -> str:
    commits = doc["commits"]
    sessions = doc["sessions"]
    if not commits:
        return f"No commits in {code(doc['range'])}.\n"
    explained = sum(1 for c in commits if c["sessions"])
    parts = ["## Agent sessions"]
    if sessions:
        line = (
            f"{explained} of {plural(len(commits), 'commit')} came from "
            f"{plural(len(sessions), 'agent session')}."
        )
    else:
        line = f"No agent session is behind the {plural(len(commits), 'commit')} here."
    links = [c for s in sessions for c in s["commits"] if not c["verified"]]
    recorded = sum(1 for c in links if c.get("matched_by") == "sha")
    unverified = len(links) - recorded
    if unverified:
        verb = "rests" if unverified == 1 else "rest"
        line += (
            f" {plural(unverified, 'link')} {verb} only on a `Session:` trailer that the "
            "session's log does not confirm (marked ⚠ unverified)."
        )
    if recorded:
        verb = "is" if recorded == 1 else "are"
        line += (
            f" {plural(recorded, 'link')} {verb} recorded in a session's log without the "
            "commit's tree and parents that prove it (marked ⚠ recorded, unverified)."
        )
    parts.append(line)
    for item in sessions:
        parts.append(_session_markdown(item, conversation, full))
    without = doc["without_session"]
    if without:
        rows = []
        for commit in without:
            row = f"- {short(commit['sha'])} {one_line(commit['subject'])}"
            if commit.get("unknown_sessions"):
                row += " — " + _unknown_note(commit["unknown_sessions"])
            rows.append(row)
        parts.append("### Commits without a session\n\n" + "\n".join(rows))
    parts.append(f"<sub>Sessions found by gitsess for {code(doc['range'])}.</sub>")
    return "\n\n".join(parts) + "\n"


def _session_markdown(item: Document, conversation: bool, full: bool = False) -> str:
    summary = item["session"]
    entries = item["entries"]
    title = one_line(str(summary.get("title", "")))
    facts = [f"**Author:** {one_line(_author(summary))}"]
    if summary.get("agent"):
        facts.append(f"**Agent:** {one_line(str(summary['agent']))}")
    models = sorted({str(e["model"]) for e in entries if e.get("model")})
    if models:
        facts.append("**Models:** " + ", ".join(code(m) for m in models))
    facts.append(f"**Branch:** {code(str(summary.get('branch', '')))}")
    parts = [f"### {title} ({code(str(summary.get('id', '')))})", " · ".join(facts)]

    prompts = item["prompts"]
    if prompts:
        rows = [
            f"{n}. {escape_text(clip(compact(text), PROMPT_LIMIT)) or '*(empty)*'}"
            for n, text in enumerate(prompts[:PROMPTS_SHOWN], start=1)
        ]
        if len(prompts) > PROMPTS_SHOWN:
            rows.append(f"\n… and {len(prompts) - PROMPTS_SHOWN} more prompts in the conversation.")
        parts.append("**Prompts**\n\n" + "\n".join(rows))
    parts.append("**What the agent did:** " + account_text(item))

    rows = []
    for commit in item["commits"]:
        subject = one_line(commit["subject"])
        if commit["verified"]:
            rows.append(f"- ✓ {short(commit['sha'])} {subject}")
        else:
            reason = _why_unverified(commit)
            label = "recorded, unverified" if commit.get("matched_by") == "sha" else "unverified"
            rows.append(f"- ⚠ **{label}** {short(commit['sha'])} {subject}: {reason}")
    parts.append("**Commits**\n\n" + "\n".join(rows))
    if conversation:
        count = plural(len(entries), "entry", "entries")
        body = conversation_markdown(entries, full).rstrip()
        parts.append(details(f"Conversation ({count})", body))
    return "\n\n".join(parts)


def account_text(item: Document) -> str:
    tools: dict[str, int] = item["tools"]
    calls = sum(tools.values())
    if not calls:
        text = "no tool calls."
    else:
        counts = ", ".join(f"{one_line(name)} ×{n}" for name, n in tools.items())
        text = f"{plural(calls, 'tool call')} ({counts})"
        if item["tool_errors"]:
            text += f", {item['tool_errors']} of them failed"
        text += "."
    files = item["files"]
    if files:
        named = ", ".join(code(clip(path, 120)) for path in files[:FILES_SHOWN])
        more = f" and {len(files) - FILES_SHOWN} more" if len(files) > FILES_SHOWN else ""
        text += f" Files named in tool calls: {named}{more}."
    return text


RECORDED_UNPROVEN = (
    "the session's log records this sha, but not the commit's tree and parents that prove "
    "it (written by `record --jsonl`, an importer, or an older gitsess; or not this commit's)"
)


def _why_unverified(link: Document) -> str:
    if link.get("matched_by") == "sha":
        return RECORDED_UNPROVEN
    text = "its `Session:` trailer names this session, but the session's log does not record it"
    if link.get("matched_by") == "subject":
        text += (
            f"; the log records {one_line(short(link.get('recorded_sha')))} with the same subject "
            "(rebased or amended since?)"
        )
    return text


def _unknown_note(ids: list[str]) -> str:
    names = ", ".join(code(str(sid)) for sid in ids)
    return f"its `Session:` trailer names {names}, not in this repository (unknown)"


def _author(summary: dict[str, Any]) -> str:
    author = summary.get("author")
    if isinstance(author, dict):
        return str(author.get("name") or author.get("email") or "")
    return ""


# -- the terminal: why and log ---------------------------------------------------------


def link_text(item: Document) -> Text:
    from rich.text import Text

    if item["verified"]:
        return Text("✓ recorded in the session's log", style="green")
    text = Text("⚠ unverified: ", style="bold red")
    if item.get("matched_by") == "sha":
        text = Text("⚠ recorded, unverified: ", style="bold red")
        reason = RECORDED_UNPROVEN
    elif item.get("matched_by") == "subject":
        reason = (
            "the commit's Session: trailer names this session, but its log does not record this "
            f"commit; it records {short(item.get('recorded_sha'))} with the same subject "
            "(rebased or amended since?), shown below"
        )
    else:
        reason = (
            "the commit's Session: trailer names this session, but nothing in its log "
            "records this commit"
        )
    text.append(reason, style="red")
    return text


def unknown_text(ids: list[str]) -> Text:
    from rich.text import Text

    names = ", ".join(ids)
    return Text(
        f"⚠ unknown: the commit's Session: trailer names {names}, which is not in this "
        "repository (gitsess fetch may bring it)",
        style="red",
    )


def commit_text(commit: Document, plain: bool = False) -> Text:
    from rich.text import Text

    from .text import when

    text = Text()
    text.append("● " if not plain else "  ", style="bold yellow")
    text.append(short(commit["sha"]), style="yellow")
    text.append(f" {commit['subject']}", style="" if plain else "bold")
    text.append(f"  {commit['author'].get('name', '')} · {when(commit['date'])}", style="dim")
    return text


def _shown(entry: Entry) -> bool:
    return not (entry.get("type") == "event" and entry.get("name") in HIDDEN_EVENTS)


def earlier_text(item: Document, sha: str) -> Text | None:
    """How many entries before these the session has, and how to see them."""
    from rich.text import Text

    count = item.get("earlier") or 0
    if not count:
        return None
    what = plural(count, "earlier entry", "earlier entries")
    return Text(f"  … {what} not shown: gitsess why {short(sha)} --full", style="dim")


def lead_up(
    out: Console, item: Document, drop_commit: bool, sha: str = "", full: bool = False
) -> None:
    """The prompt and the entries that led to a commit; non-message entries and agent
    noise one line each (``full``: everything whole)."""
    from rich.text import Text

    from .terminal import entry_text, print_entries

    entries = [e for e in item["entries"] if full or _shown(e)]
    if drop_commit and entries and entries[-1].get("type") == "commit":
        entries = entries[:-1]
    prompt = item.get("prompt")
    ids = {e.get("id") for e in entries}
    previous_folded = False
    note = earlier_text(item, sha)
    if note is not None:
        out.print(note)
    if prompt and prompt.get("id") not in ids:
        out.print()
        out.print(entry_text(prompt, out.width))
        out.print(Text("  …", style="dim"))
        previous_folded = True
    print_entries(out, entries, previous_folded, full)


def why_view(out: Console, doc: Document, full: bool = False) -> None:
    from rich.text import Text

    from .terminal import session_header

    line = doc.get("line")
    if line:
        out.print(Text(f"{line['file']}:{line['line']}  {line['text']}", style="dim"))
    commit = doc["commit"]
    out.print(commit_text(commit))
    sessions = doc["sessions"]
    if not sessions:
        if doc["unknown_sessions"]:
            out.print(unknown_text(doc["unknown_sessions"]))
        else:
            out.print(Text("No session knows this commit."))
        return
    for item in sessions:
        out.print()
        out.print(session_header(item["session"]))
        out.print(link_text(item))
        if item["entries"]:
            lead_up(out, item, drop_commit=False, sha=commit["sha"], full=full)
    if doc["unknown_sessions"]:
        out.print()
        out.print(unknown_text(doc["unknown_sessions"]))


def log_view(out: Console, doc: Document) -> None:
    from rich.text import Text

    items = doc["commits"]
    if not items:
        out.print(Text(f"No commits in {doc['range']}."))
        return
    if doc.get("max_count") and len(items) == doc["max_count"]:
        last = plural(len(items), "commit") if len(items) != 1 else "commit"
        out.print(Text(f"The last {last} of {doc['range']}:", style="dim"))
    previous: list[Any] | None = None
    for item in items:
        sessions = item["sessions"]
        if previous is not None and (sessions or previous):
            out.print()
        previous = sessions
        for session in sessions:
            summary = session["session"]
            head = Text("── ", style="dim")
            head.append(str(summary.get("title", "")), style="bold")
            head.append(f"  {summary.get('id', '')}", style="yellow")
            if session["verified"]:
                head.append("  ✓", style="green")
            else:
                recorded = session.get("matched_by") == "sha"
                label = "  ⚠ recorded, unverified" if recorded else "  ⚠ unverified"
                head.append(label, style="bold red")
                if session.get("matched_by") == "subject":
                    hint = f": its log has {short(session.get('recorded_sha'))} with this subject"
                    head.append(hint, style="red")
            out.print(head)
            if session["entries"]:
                lead_up(out, session, drop_commit=True, sha=item["commit"]["sha"])
            else:
                out.print(link_text(session))
            out.print()
        out.print(commit_text(item["commit"], plain=not sessions))
        if item["unknown_sessions"]:
            out.print(unknown_text(item["unknown_sessions"]))
