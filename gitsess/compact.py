"""Compaction: one `summary` entry that stands for the conversation before it.

Nothing is removed or rewritten: `gitsess compact` appends a summary entry
(docs/format.md section 4) that records the span it covers (`first`, `last`), the
earlier summary it builds on (`previous`), the focus, the files read and modified and
the commits made across the covered entries. `resume --agent` then hands an agent
that summary and what follows it (handoff.py), so a long session fits its context.

The summary's text comes from the built-in summarizer (deterministic, no network) or
from the user's own command (`--with`, `gitsess.summarizer`), which reads the
conversation as Markdown on stdin and prints the summary.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from typing import TYPE_CHECKING, Any, NamedTuple

from .agents.files import Touched, files_touched
from .errors import BadInput, GitsessError
from .ids import new_entry_id
from .render.noise import is_user_prompt, subagent
from .render.text import content_text

if TYPE_CHECKING:
    from .sessions import Sessions

Entry = dict[str, Any]

SUMMARIZER_KEY = "gitsess.summarizer"
TIMEOUT_KEY = "gitsess.summarizerTimeout"
DEFAULT_TIMEOUT = 120.0  # seconds a summarizer command may take
BUILTIN = "builtin"

# Limits of the built-in summary, in characters: it must stay far smaller than what it
# summarises, whatever the session holds.
REQUEST_CLIP = 300  # a request that does not match the focus
FOCUS_CLIP = 160  # with a focus, what does not match it is shortened more
REPORT_CLIP = 1500  # each of the assistant's last reports
REPORTS = 3  # how many of the assistant's last reports are kept
MAX_REQUESTS = 60  # requests listed whole; past that the first and the latest ones
FOCUS_BUDGET = 24_000  # what matches the focus, kept in full up to this much
MAX_FILES = 200
# Words of a focus that say nothing about what it is about.
STOPWORDS = frozenset(
    {
        "the", "and", "for", "with", "about", "keep", "discussion", "discussions", "only",
        "what", "that", "this", "from", "into", "focus", "focused", "please", "all", "any",
        "our", "their", "them", "then", "than", "are", "was", "were",
    }
)  # fmt: skip


class Compacted(NamedTuple):
    """What `compact` did: the summary entry it appended (None: nothing new to cover),
    and the number of entries the summary covers."""

    entry: Entry | None
    covered: int
    previous: Entry | None


def compact(
    sessions: Sessions,
    session_id: str,
    focus: str | None = None,
    command: str | None = None,
    timeout: float | None = None,
) -> Compacted:
    """Append a summary of ``session_id``'s conversation so far (or nothing, when the
    latest summary already covers everything with the same focus)."""
    if focus is not None and not focus.strip():
        raise BadInput("--focus needs some text")
    focus = focus.strip() if focus else None
    if command is None:
        command = sessions.repo.config(SUMMARIZER_KEY) or None
    if command is not None and not command.strip():
        raise BadInput("--with needs a command")
    state = sessions.store.require(session_id)
    last = sessions.store.last_entries(state, 1)  # nothing new: known without reading all
    if not last:
        return Compacted(None, 0, None)
    if _covers_all(last[0], focus):
        return Compacted(None, state.count - 1, last[0])
    entries = sessions.store.entries(state)
    previous_at = latest_summary(entries)
    previous = entries[previous_at] if previous_at is not None else None
    touched = files_touched(entries)
    if command is None:
        text = builtin_summary(entries, focus, touched)
        summarizer = BUILTIN
    else:
        from .render.handoff import summarizer_input

        start = previous_at + 1 if previous_at is not None else 0
        markdown = summarizer_input(state.meta, previous, entries[start:], focus)
        text = run_summarizer(command, markdown, _timeout(sessions, timeout), focus)
        summarizer = "command"
    made = summary_entry(entries, text, focus, previous, summarizer, touched)
    entry = {"id": new_entry_id(), **made}
    sessions.record(session_id, [(1, entry)], trusted=True)
    return Compacted(_stored(sessions, session_id, entry), len(entries), previous)


def _stored(sessions: Sessions, session_id: str, entry: Entry) -> Entry:
    """``entry`` as the log holds it (with its `ts` and `head`)."""
    state = sessions.store.require(session_id)
    for found in reversed(sessions.store.last_entries(state, 64)):
        if found.get("id") == entry["id"]:
            return found
    return entry


def _covers_all(last: Entry, focus: str | None) -> bool:
    """Whether the log's ``last`` entry is a summary `gitsess compact` wrote with this
    ``focus``: a new one would say nothing more."""
    return made_by_compact(last) and last.get("focus") == focus and latest_summary([last]) == 0


def summary_entry(
    entries: list[Entry],
    text: str,
    focus: str | None,
    previous: Entry | None,
    summarizer: str,
    touched: Touched | None = None,
) -> Entry:
    """The summary entry for ``entries`` (the whole log so far)."""
    touched = touched or files_touched(entries)
    commits = [
        {"sha": str(e.get("sha", "")), "subject": str(e.get("subject", ""))}
        for e in entries
        if e.get("type") == "commit"
    ]
    entry: Entry = {
        "type": "summary",
        "content": text,
        "first": entries[0].get("id"),
        "last": entries[-1].get("id"),
        "previous": previous.get("id") if previous is not None else None,
        "covers": len(entries),
        "focus": focus,
        "files": {"read": touched.read, "modified": touched.modified},
        "commits": commits,
        "summarizer": summarizer,
    }
    return entry


def made_by_compact(entry: Entry) -> bool:
    """A summary `gitsess compact` wrote (an agent's own compaction summary has no
    `summarizer`)."""
    return entry.get("type") == "summary" and isinstance(entry.get("summarizer"), str)


def latest_summary(entries: list[Entry]) -> int | None:
    """The index of the last summary of the main conversation (a subagent's or an
    abandoned branch's does not stand for it)."""
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if entry.get("type") == "summary" and not _inactive(entry) and subagent(entry) is None:
            return index
    return None


# -- the built-in summarizer ---------------------------------------------------------------


def builtin_summary(
    entries: list[Entry], focus: str | None = None, touched: Touched | None = None
) -> str:
    """A deterministic summary: the user's requests in order, what the assistant reported
    last, the files touched, the commits and what was still open at the end. With a
    ``focus``, what matches it is kept in full and the rest is shortened more."""
    terms = focus_terms(focus)
    active = [e for e in entries if not _inactive(e) and subagent(e) is None]
    parts = [f"Summary of the conversation's first {len(entries):,} entries (gitsess compact)."]
    if focus:
        parts.append(f"Focus: {focus}")
    parts.append(_requests_section(active, terms))
    parts.append(_reports_section(active, terms))
    if terms:
        parts.append(_focus_section(active, terms, str(focus)))
    parts.append(_files_section(touched or files_touched(entries)))
    parts.append(_commits_section(entries))
    parts.append(_open_section(active))
    return "\n\n".join(p for p in parts if p).strip() + "\n"


def focus_terms(focus: str | None) -> list[str]:
    """The words of a focus that say what it is about (lower case): "Keep the discussion
    about database migrations" is about "database" and "migrations"."""
    if not focus:
        return []
    words = [w for w in re.findall(r"[\w.-]+", focus.lower()) if len(w) >= 3]
    terms = [w for w in words if w not in STOPWORDS]
    return terms or [focus.lower().strip()]


def matches(text: str, terms: list[str]) -> bool:
    lowered = text.lower()
    return any(term in lowered for term in terms)


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: max(limit - 1, 0)].rstrip() + "…"


def _requests_section(entries: list[Entry], terms: list[str]) -> str:
    requests = [_text(e) for e in entries if is_user_prompt(e)]
    requests = [r for r in requests if r.strip()]
    if not requests:
        return ""
    lines = []
    shown = list(range(len(requests)))
    if len(requests) > MAX_REQUESTS:
        head, tail = 10, MAX_REQUESTS - 10
        shown = [i for i in shown if i < head or i >= len(requests) - tail]
        shown += [i for i in range(head, len(requests) - tail) if matches(requests[i], terms)]
        shown.sort()
    previous = -1
    for index in shown:
        if index > previous + 1:
            lines.append(f"   … {index - previous - 1} more requests …")
        text = requests[index]
        if terms and matches(text, terms):
            body = text.strip()
        else:
            body = shorten(text, FOCUS_CLIP if terms else REQUEST_CLIP)
        lines.append(f"{index + 1}. {body}")
        previous = index
    return "## What the user asked, in order\n\n" + "\n".join(lines)


def _reports_section(entries: list[Entry], terms: list[str]) -> str:
    reports = [_text(e) for e in entries if _is_reply(e)]
    reports = [r for r in reports if r.strip()][-REPORTS:]
    if not reports:
        return ""
    blocks = []
    for text in reports:
        if terms and matches(text, terms):
            blocks.append(text.strip())
        else:
            blocks.append(_clip_block(text, FOCUS_CLIP * 4 if terms else REPORT_CLIP))
    return "## What the assistant reported last\n\n" + "\n\n---\n\n".join(blocks)


def _focus_section(entries: list[Entry], terms: list[str], focus: str) -> str:
    """Every message that matches the focus, whole, the latest kept first when they
    exceed the budget."""
    found = [
        (e, _text(e))
        for e in entries
        if (_is_reply(e) or is_user_prompt(e)) and matches(_text(e), terms)
    ]
    kept: list[str] = []
    size = 0
    for entry, text in reversed(found):
        block = f"{'User' if entry.get('role') == 'user' else 'Assistant'}: {text.strip()}"
        if size + len(block) > FOCUS_BUDGET and kept:
            break
        kept.append(block)
        size += len(block)
    if not kept:
        return f"## About the focus\n\nNothing in the conversation mentions {focus!r}."
    kept.reverse()
    left = len(found) - len(kept)
    note = f"({left} earlier matching messages left out)\n\n" if left else ""
    return "## About the focus\n\n" + note + "\n\n".join(kept)


def _files_section(touched: Touched) -> str:
    if not touched.read and not touched.modified:
        return ""
    lines = ["## Files"]
    for label, paths in (("Modified", touched.modified), ("Read", touched.read)):
        if paths:
            more = f", … {len(paths) - MAX_FILES} more" if len(paths) > MAX_FILES else ""
            lines.append(f"{label} ({len(paths)}): {', '.join(paths[:MAX_FILES])}{more}")
    return "\n\n".join(lines)


def _commits_section(entries: list[Entry]) -> str:
    commits = [e for e in entries if e.get("type") == "commit"]
    if not commits:
        return ""
    lines = [
        f"- {str(e.get('sha', ''))[:12]} {shorten(str(e.get('subject', '')), 120)}" for e in commits
    ]
    return "## Commits\n\n" + "\n".join(lines)


def _open_section(entries: list[Entry]) -> str:
    """What was still open at the end: an unanswered request, plan items not done, a
    call with no result, a last command that failed."""
    items = []
    last_request = max((i for i, e in enumerate(entries) if is_user_prompt(e)), default=None)
    last_reply = max((i for i, e in enumerate(entries) if _is_reply(e)), default=-1)
    if last_request is not None and last_request > last_reply:
        items.append(
            f"The last request has no reply yet: {shorten(_text(entries[last_request]), 200)}"
        )
    items += [f"Not done in the plan: {step}" for step in _open_plan(entries)]
    results = {e.get("call_id"): e for e in entries if e.get("type") == "tool_result"}
    calls = [e for e in entries if e.get("type") == "tool_call"]
    if calls:
        last_call = calls[-1]
        result = results.get(last_call.get("call_id"))
        what = f"{last_call.get('name')} {shorten(_input_text(last_call.get('input')), 120)}"
        if result is None:
            items.append(f"The last tool call has no result: {what}")
        elif result.get("is_error"):
            output = shorten(content_text(result.get("output")), 200)
            items.append(f"The last tool call failed: {what} → {output}")
    if not items:
        return ""
    return "## Still open at the end\n\n" + "\n".join(f"- {item}" for item in items)


def _open_plan(entries: list[Entry]) -> list[str]:
    """The steps of the latest plan (Claude Code's TodoWrite, Codex's update_plan) that
    are not completed."""
    for entry in reversed(entries):
        if entry.get("type") != "tool_call":
            continue
        name = str(entry.get("name", "")).lower()
        tool_input = entry.get("input")
        if name not in ("todowrite", "update_plan", "setTodoList".lower()):
            continue
        if not isinstance(tool_input, dict):
            return []
        steps = tool_input.get("todos") or tool_input.get("plan") or []
        if not isinstance(steps, list):
            return []
        found = []
        for step in steps:
            if not isinstance(step, dict) or step.get("status") == "completed":
                continue
            label = step.get("content") or step.get("step") or step.get("title")
            if isinstance(label, str) and label.strip():
                found.append(f"{shorten(label, 200)} ({step.get('status', 'pending')})")
        return found
    return []


def _is_reply(entry: Entry) -> bool:
    return entry.get("type") == "message" and entry.get("role") == "assistant"


def _text(entry: Entry) -> str:
    return content_text(entry.get("content"))


def _input_text(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("command", "cmd", "file_path", "path", "pattern"):
            if isinstance(value.get(key), (str, list)):
                found = value[key]
                return found if isinstance(found, str) else " ".join(map(str, found))
    return content_text(value) if not isinstance(value, str) else value


def _clip_block(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" … ({len(text) - limit:,} more characters)"


def _inactive(entry: Entry) -> bool:
    meta = entry.get("meta")
    return isinstance(meta, dict) and bool(meta.get("inactive"))


# -- a summarizer command -------------------------------------------------------------------


def run_summarizer(command: str, markdown: str, timeout: float, focus: str | None) -> str:
    """Run ``command`` (a shell command line) with ``markdown`` on stdin; its stdout.

    A command that fails, prints nothing, or outlives ``timeout`` (it and everything it
    started is killed) is a GitsessError saying so: nothing is written then.
    """
    env = {**os.environ, "GITSESS_FOCUS": focus or ""}
    try:
        # A session of its own: on a timeout the whole group goes, not only the shell
        # (a child left holding the pipes would keep us waiting).
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise GitsessError(f"the summarizer could not start: {exc.strerror}") from None
    try:
        out, err = proc.communicate(markdown.encode("utf-8", "replace"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise GitsessError(
            f"the summarizer took longer than {timeout:g} seconds and was stopped "
            f"({TIMEOUT_KEY} sets the limit); nothing was written"
        ) from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    if proc.returncode != 0:
        why = _last_line(err) or "no message"
        raise GitsessError(
            f"the summarizer failed (exit status {proc.returncode}: {why}); nothing was written"
        )
    text = out.decode("utf-8", "replace").strip()
    if not text:
        raise GitsessError("the summarizer printed nothing; nothing was written")
    return text + "\n"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return shorten(lines[-1], 200) if lines else ""


def _timeout(sessions: Sessions, given: float | None) -> float:
    if given is not None:
        return given
    text = sessions.repo.config(TIMEOUT_KEY)
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{TIMEOUT_KEY} must be a number of seconds, not {text!r}") from None
    if value <= 0:
        raise BadInput(f"{TIMEOUT_KEY} must be more than 0 seconds")
    return value
