"""One self-contained HTML page per session: inline styles, no scripts, no network.

Jinja2 renders it with autoescaping on, so every piece of conversation text
is escaped whatever it holds.
"""

from __future__ import annotations

import json
from typing import Any

from .markdown import OUTPUT_LIMIT
from .noise import fold, speaker
from .text import clip, compact, content_text

EVENT_LIMIT = 160

Entry = dict[str, Any]


def session_html(summary: dict[str, Any], entries: list[Entry], full: bool = False) -> str:
    """The page: agent noise folded to a line each (render/noise.py), unless ``full``."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("gitsess.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("session.html.j2")
    return template.render(session=summary, entries=entry_views(entries, full), count=len(entries))


def entry_views(entries: list[Entry], full: bool = False) -> list[dict[str, Any]]:
    """What a page shows of each entry: tool results beside their calls, agent noise folded
    to a line (render/noise.py) unless ``full``."""
    results = {e.get("call_id"): e for e in entries if e.get("type") == "tool_result"}
    shown, paired = [], set()
    for entry in entries:
        if entry.get("type") == "tool_call" and entry.get("call_id") in results:
            paired.add(id(results[entry["call_id"]]))
    for entry in entries:
        if id(entry) in paired:
            continue
        noise = None if full else fold(entry)
        if noise is None:
            shown.append(_view(entry, results.get(entry.get("call_id"))))
        elif not noise.hidden:
            shown.append({"kind": "noise", "id": entry.get("id", ""), "text": noise.text})
    return shown


def _view(entry: Entry, result: Entry | None) -> dict[str, Any]:
    kind = str(entry.get("type", "?"))
    meta = entry.get("meta")
    view: dict[str, Any] = {
        "kind": kind,
        "id": entry.get("id", ""),
        "ts": str(entry.get("ts", ""))[:19].replace("T", " "),
        "inactive": isinstance(meta, dict) and bool(meta.get("inactive")),
        "model": entry.get("model"),
    }
    if kind == "message":
        role = entry.get("role", "")
        who = speaker(entry) or role
        view.update(role=role, who=who, text=content_text(entry.get("content")))
    elif kind == "tool_call":
        view.update(
            name=entry.get("name", ""),
            brief=clip(compact(entry.get("input")), 100),
            input=json.dumps(entry.get("input"), indent=2, ensure_ascii=False),
            output=_clip(_text(result.get("output")), OUTPUT_LIMIT) if result else None,
            is_error=bool(result and result.get("is_error")),
        )
    elif kind == "tool_result":
        view.update(
            output=_clip(_text(entry.get("output")), OUTPUT_LIMIT),
            is_error=bool(entry.get("is_error")),
        )
    elif kind in ("reasoning", "summary"):
        view.update(text=content_text(entry.get("content")))
    elif kind == "commit":
        view.update(sha=str(entry.get("sha", "")), subject=entry.get("subject", ""))
    elif kind == "event":
        data = entry.get("data")
        shown = "" if data in (None, {}, []) else compact(data)
        view.update(
            name=entry.get("name", ""),
            data=_clip(shown, EVENT_LIMIT),
            full=shown if len(shown) > EVENT_LIMIT else None,
        )
    else:
        view.update(text=json.dumps(entry, indent=2, ensure_ascii=False))
    return view


def _text(value: Any) -> str:
    return value if isinstance(value, str) else content_text(value) or json.dumps(value)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters cut)"
