"""What the viewer shows of each entry: the serve-specific views of a session's log.

The static HTML export has its own, simpler views (render/html.py); these add what a page
with a browser behind it can show: Markdown (``markdown``), attached images, a one-line
summary of each tool call, model badges, collapsible injected context (the system prompt),
and the commands to copy. Agent noise is folded as `show` folds it (render/noise.py).

Everything here is data from a session: strings are escaped by the templates (and made
visible by ``safe.visible``); the only HTML built here is ``markdown.render``'s and comes
out escaped. Nothing recurses into entry values (a line can be nested 900 deep), and every
text is clipped, so no entry can make an answer fail or grow without bound.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from typing import Any

from ..render.noise import fold, speaker, subagent
from ..render.text import clip as cut
from ..render.text import compact, content_text
from .markdown import Budget, render

Entry = dict[str, Any]
View = dict[str, Any]

TEXT_LIMIT = 200_000  # characters of one text shown (the rest: `gitsess show`)
OUTPUT_LIMIT = 20_000  # characters of a tool's output or input field shown
BRIEF = 100  # characters of a one-line summary
IMAGE_LIMIT = 5 << 20  # bytes of base64 of one image shown
# The raster types a browser shows safely as data: images (never SVG: it can hold script).
IMAGE_TYPES = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/gif": b"GIF8",
    "image/webp": b"RIFF",
}
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_DATA_URL = re.compile(r"data:(image/[a-z+.-]+);base64,", re.IGNORECASE)
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+)$", re.MULTILINE)

# Input keys that say what a tool call is about, the most telling first: the path for
# Read/Edit/Write (Claude Code, Gemini, Kimi), the command for Bash/exec_command, the
# pattern for Grep/Glob, the query of a web search, a subagent's description.
_PATH_KEYS = ("file_path", "path", "notebook_path", "absolute_path", "dir_path", "directory")
_BRIEF_KEYS = (
    ("command", "cmd", "commands"),
    ("pattern", "glob", "regex"),
    ("query", "queries", "q"),
    ("url",),
    ("description", "subagent_type", "skill", "prompt", "plan", "todos", "content"),
)


def views(entries: list[Entry], session_id: str, model: str | None = None) -> list[View]:
    """The views of ``entries`` (a page, a segment or new entries of a session), tool
    results beside their calls. ``model``: the model of the entry before them, so that a
    badge marks only where the model changes."""
    results: dict[str, Entry] = {}
    for e in entries:
        if e.get("type") == "tool_result" and _call_key(e) is not None:
            results.setdefault(_call_key(e) or "", e)
    calls = {_call_key(e) for e in entries if e.get("type") == "tool_call"} - {None}
    paired = {id(results[key]) for key in calls if key in results}
    budget = Budget()
    shown: list[View] = []
    for entry in entries:
        if id(entry) in paired:
            continue  # shown with its call
        call = _call_key(entry)
        answer = (
            results.get(call) if call is not None and entry.get("type") == "tool_call" else None
        )
        view = _view(entry, answer, budget)
        view["fork"] = _fork_command(session_id, view["id"])
        now = entry.get("model")
        if isinstance(now, str) and now and now != model and view["kind"] != "noise":
            view["model_change"] = now
            model = now
        shown.append(view)
    return [v for v in shown if not v.get("hidden")]


def last_model(entries: list[Entry]) -> str | None:
    """The model of the last entry that names one."""
    for entry in reversed(entries):
        model = entry.get("model")
        if isinstance(model, str) and model:
            return model
    return None


def _call_key(entry: Entry) -> str | None:
    """What pairs a call with its result: its ``call_id``, when it is a string."""
    value = entry.get("call_id")
    return value if isinstance(value, str) and value else None


def _fork_command(session_id: str, entry_id: str) -> str:
    """The command that forks the session after this entry, quoted for a shell: an id is
    data, and a copied command must not run what a crafted one holds."""
    return f"gitsess fork {shlex.quote(session_id)} --at {shlex.quote(entry_id)}"


def _view(entry: Entry, result: Entry | None, budget: Budget) -> View:
    kind = str(entry.get("type", "?"))
    meta = entry.get("meta")
    entry_id = entry.get("id")
    view: View = {
        "kind": kind,
        "id": entry_id if isinstance(entry_id, str) else "",
        "ts": str(entry.get("ts", ""))[:19].replace("T", " "),
        "inactive": isinstance(meta, dict) and bool(meta.get("inactive")),
        "subagent": subagent(entry),
    }
    noise = fold(entry)
    if noise is not None:
        view.update(kind="noise", noise=noise.kind, text=noise.text, hidden=noise.hidden)
        if noise.kind == "injected":  # the system prompt and context: collapsed, whole
            view["full"] = clip(_injected_text(entry), TEXT_LIMIT)
        return view
    if kind == "message":
        role = str(entry.get("role", ""))
        text, images = _content(entry.get("content"))
        view.update(
            role=role if role in ("user", "assistant", "system") else "other",
            who=speaker(entry) or role,
            html=render(clip(text, TEXT_LIMIT), budget),
            images=images,
        )
    elif kind in ("reasoning", "summary"):
        text, images = _content(entry.get("content"))
        view.update(html=render(clip(text, TEXT_LIMIT), budget), images=images)
        if kind == "summary":
            view.update(first=_str(entry.get("first")), last=_str(entry.get("last")))
    elif kind == "tool_call":
        view.update(_tool_call(entry, result))
    elif kind == "tool_result":
        view.update(_output(entry), call=_str(entry.get("call_id")))
    elif kind == "commit":
        view.update(sha=str(entry.get("sha", "")), subject=_str(entry.get("subject")))
    elif kind == "event":
        data = entry.get("data")
        line = "" if data in (None, {}, []) else compact(_json(data, pretty=False))
        view.update(
            name=_str(entry.get("name")),
            data=cut(line, BRIEF),
            full=clip(_json(data), TEXT_LIMIT) if len(line) > BRIEF else None,
        )
    else:
        view.update(text=clip(_json(entry), TEXT_LIMIT))
    return view


# -- tool calls ------------------------------------------------------------------------


def _tool_call(entry: Entry, result: Entry | None) -> View:
    tool_input = entry.get("input")
    view: View = {
        "name": _str(entry.get("name")) or "tool",
        "brief": tool_brief(tool_input),
        "fields": _fields(tool_input),
        "call": _str(entry.get("call_id")),
        "answered": result is not None,
    }
    if result is not None:
        view.update(_output(result))
    return view


def tool_brief(tool_input: Any) -> str:
    """One line that says what a call does: its file, command, pattern or query."""
    if isinstance(tool_input, str):  # Codex's apply_patch: the patch itself
        files = _PATCH_FILE.findall(tool_input[:OUTPUT_LIMIT])
        return cut(", ".join(files) if files else compact(tool_input[:1000]), BRIEF)
    if not isinstance(tool_input, dict):
        return cut(compact(_json(tool_input, pretty=False)[:1000]), BRIEF)
    path = _first(tool_input, _PATH_KEYS)
    for keys in _BRIEF_KEYS:
        value = _first(tool_input, keys)
        if value:
            where = f" in {path}" if path and keys[0] == "pattern" else ""
            return cut(value + where, BRIEF)
    if path:
        return cut(path, BRIEF)
    return cut(compact(_json(tool_input, pretty=False)[:1000]), BRIEF)


def _first(values: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            return compact(value[:1000])
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value[:50]):
            return compact(" ".join(value[:50])[:1000])  # a command as argv
        if isinstance(value, list) and value:
            return f"{len(value)} item{'s' if len(value) != 1 else ''}"  # a plan, todos
    return ""


def _fields(tool_input: Any) -> list[tuple[str, str]]:
    """The call's input as (name, text) pairs: strings as they are (a command, a file's
    new content), anything else as JSON."""
    if isinstance(tool_input, dict):
        return [
            (cut(str(key), BRIEF), clip(_plain(value), OUTPUT_LIMIT))
            for key, value in list(tool_input.items())[:100]
        ]
    if tool_input is None:
        return []
    return [("", clip(_plain(tool_input), OUTPUT_LIMIT))]


def _output(result: Entry) -> View:
    text, images = _content(result.get("output"))
    lines = text.count("\n") + 1 if text else 0
    return {
        "output": clip(text, OUTPUT_LIMIT),
        "output_lines": lines,
        "output_images": images,
        "is_error": result.get("is_error") is True,
    }


# -- content: text and images -------------------------------------------------------------


def _content(content: Any) -> tuple[str, list[str]]:
    """The text of a content value and the data: URLs of the images it holds."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        return ("" if content is None else _plain(content)), []
    texts: list[str] = []
    images: list[str] = []
    for part in content[:1000]:
        if isinstance(part, dict) and part.get("type") == "image":
            url = image_url(part)
            if url is not None:
                images.append(url)
            else:
                texts.append(_image_note(part))
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part, str):
            texts.append(part)
        else:
            texts.append(content_text([part]) if isinstance(part, dict) else _plain(part))
    return "\n\n".join(texts), images


def image_url(part: dict[str, Any]) -> str | None:
    """A safe data: URL of an image part, as each agent stores one, or None: Claude Code's
    ``source: {type: base64, media_type, data}``, Codex's ``url: "data:image/...;base64,..."``,
    Gemini's ``media_type`` and ``data``. Only PNG, JPEG, GIF and WebP whose bytes are what
    the type says, at most IMAGE_LIMIT: never SVG (it can hold script), never a remote URL
    (it would tell its server who reads the session)."""
    media: Any = None
    data: Any = None
    source = part.get("source")
    if isinstance(source, dict) and source.get("type") == "base64":
        media, data = source.get("media_type"), source.get("data")
    elif isinstance(part.get("url"), str):
        found = _DATA_URL.match(part["url"])
        if found:
            media, data = found.group(1), part["url"][found.end() :]
    elif isinstance(part.get("data"), str):
        media, data = part.get("media_type") or part.get("mimeType"), part["data"]
    if not isinstance(media, str) or not isinstance(data, str):
        return None
    media = media.lower()
    magic = IMAGE_TYPES.get(media)
    if magic is None or len(data) > IMAGE_LIMIT or not _BASE64.fullmatch(data):
        return None
    try:
        head = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4))
    except (binascii.Error, ValueError):
        return None
    if not head.startswith(magic):
        return None
    return f"data:{media};base64,{data}"


def _image_note(part: dict[str, Any]) -> str:
    url = part.get("url")
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return f"[image: {cut(url, 300)} (not loaded)]"
    return "[image not shown: not a PNG, JPEG, GIF or WebP within 5 MB]"


def _injected_text(entry: Entry) -> str:
    if entry.get("type") == "message":
        return _content(entry.get("content"))[0]
    data = entry.get("data")
    if isinstance(data, dict) and isinstance(data.get("systemPrompt"), str):
        return str(data["systemPrompt"])
    return _json(data)


# -- text ------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters not shown)"


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _json(value, pretty=False)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _json(value: Any, pretty: bool = True) -> str:
    """Any JSON value as text. Indented JSON is written by Python code that recurses, so a
    value nested deeper than the stack allows is written on one line instead."""
    try:
        return json.dumps(value, indent=2 if pretty else None, ensure_ascii=False)
    except RecursionError:
        if pretty:
            return _json(value, pretty=False)
        return "(nested too deeply to show)"
    except (TypeError, ValueError):
        return str(value)
