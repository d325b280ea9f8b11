"""Markdown export and `gitsess pr` hold a session's text inert, whatever it holds.

The Markdown goes to GitHub and other CommonMark renderers, which pass raw HTML through.
Each test renders gitsess's output with markdown-it-py (CommonMark, HTML enabled), parses
the HTML and checks that only the tags gitsess writes (and Markdown's own) appear, with no
event handler and no script URL, and that gitsess's <details> blocks are intact: as many
as it opened, each closed in order.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gitsess.render.markdown import session_markdown

from .conftest import git, run_cli
from .test_terminal import HOSTILE, forge

# Tags gitsess writes, and those CommonMark makes of Markdown a message may hold.
ALLOWED = {
    *("details", "summary", "code", "pre", "p", "strong", "em", "sub", "br", "hr", "a", "img"),
    *("ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"),
}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:text")
RENDER = MarkdownIt("commonmark", {"html": True})


class Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.details = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name} on <{tag}>")
            url = "".join((value or "").split()).lower()
            if name in ("href", "src") and url.startswith(SCRIPT_SCHEMES):
                self.problems.append(f"{name}={value!r}")
            fence_language = tag == "code" and name == "class"
            if fence_language and not re.fullmatch(r"language-[\w+.#-]*", value or ""):
                self.problems.append(f"class={value!r}")
            if name not in ("href", "src", "alt", "title") and not fence_language:
                self.problems.append(f"attribute {name} on <{tag}>")
        if tag == "details":
            self.details += 1
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            if not self.stack:
                self.problems.append("</details> closing nothing gitsess opened")
            else:
                self.stack.pop()

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")


def assert_inert(markdown: str, details: int) -> None:
    html = RENDER.render(markdown)
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert not checker.problems, (checker.problems, markdown, html)
    assert not checker.stack, ("<details> left open", markdown, html)
    assert checker.details == details, (checker.details, details, markdown, html)


TOKENS = [
    *("<", ">", "`", "``", "```", "~~~", "&", '"', "'", "/", "\\", "[", "]", "(", ")", "!"),
    *("*", "_", "|", "#", "-", ":", "=", " ", "    ", "\n", "\n\n", "a", "b"),
    *("<details>", "</details>", "<summary>", "</summary>", "<script>", "</script>", "<!--"),
    *("-->", "<![CDATA[", "<?php", "<!DOCTYPE", "&lt;", "&#60;", "&#x3C;", "<a href=x>"),
    *("<img src=x onerror=alert(1)>", "javascript:", "JaVaScRiPt\t:", "java&#115;cript:"),
    *("[x](javascript:alert(1))", "<javascript:alert(1)>", "[x]: javascript:y", "\\`"),
    *("<pre>", "<style>", "<textarea>", "<svg onload=x>", "<http://a.b>", "- ", "1. ", "> "),
]
fuzz = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


def entries_of(text: str, other: str) -> list[dict[str, Any]]:
    """Every kind of entry with ``text`` or ``other`` in each field; 4 of them fold into
    <details> (the call with its result, the unpaired result, the thinking, the unknown)."""
    return [
        {"type": "message", "role": "user", "content": text},
        {"type": "message", "role": other, "content": other, "model": text},
        {"type": "message", "role": "assistant", "content": [{"type": "text", "text": text}]},
        {"type": "tool_call", "name": text, "input": {"k": other}, "call_id": "c1"},
        {"type": "tool_result", "call_id": "c1", "output": text, "is_error": True},
        {"type": "tool_result", "call_id": f"r{other}", "output": other},
        {"type": "reasoning", "content": text},
        {"type": "summary", "content": other, "first": "a", "last": "b"},
        {"type": "commit", "sha": text, "subject": other},
        {"type": "event", "name": text, "data": {"d": other}},
        {"type": f"x{text}", "x": other},
    ]


def summary_of(text: str, other: str) -> dict[str, Any]:
    return {
        "id": text,
        "title": other,
        "branch": text,
        "agent": other,
        "author": {"name": text},
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=fuzz, other=fuzz)
def test_fuzzed_text_never_becomes_html(text: str, other: str) -> None:
    # Reasoning without text is agent noise, folded to a line (render/noise.py), not <details>.
    details = 4 if text.strip() else 3
    assert_inert(session_markdown(summary_of(text, other), entries_of(text, other)), details)


def test_known_breakouts(repo: Path) -> None:
    breakouts = [
        "\\`<img src=x onerror=alert(1)>`",  # an escaped backtick: no code span
        "`` ` `` <img src=x onerror=alert(1)>",
        "```\n</details><script>alert(1)</script>",  # a fence left open
        "<details><summary>x</summary>\n\n<script>alert(1)</script>",
        "[click](javascript:alert(1)) [c](JaVaScRiPt:alert(1)) <javascript:alert(1)>",
        "[c](java&#115;cript:alert(1)) [d](javascript&#58;alert(1)) [e](javascript\\:x)",
        "</details></details></details><img src=x onerror=alert(1)>",
        "<!-- hidden --> <?php x ?> <![CDATA[ x ]]>",
    ]
    for text in breakouts:
        assert_inert(session_markdown(summary_of(text, text), entries_of(text, text)), 4)


def hostile_session(repo: Path) -> str:
    """A session a teammate wrote: HTML in every field, and a commit on its branch."""
    result = run_cli(repo, "new", "current", "--json")
    sid = str(result.json()["id"])
    (repo / "f.txt").write_text("x\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", "subject <img src=x onerror=alert(1)>", "-m", f"Session: {sid}")
    sha = git(repo, "rev-parse", "HEAD")
    html = "</details><img src=x onerror=alert(1)>`<script>`\\`<svg onload=x>`"
    entries = [
        {"type": "message", "role": f"user{html}", "content": f"{html} {HOSTILE}"},
        {"type": "message", "role": "assistant", "content": "ok", "model": html},
        {"type": "tool_call", "name": html, "input": {"cmd": html}, "call_id": html},
        {"type": "tool_result", "call_id": html, "output": html},
        {"type": "reasoning", "content": f"```\n{html}"},
        {"type": "commit", "sha": sha, "subject": html},
        {"type": html, "x": html},
    ]
    forge(repo, sid, {"title": html, "agent": html, "author": {"name": html}}, entries)
    return sid


def test_export_and_pr_of_a_hostile_session(repo: Path) -> None:
    sid = hostile_session(repo)
    exported = run_cli(repo, "export", sid, "--format", "md")
    assert exported.code == 0, exported.err
    # The call with its result, the thinking, the unknown entry.
    assert_inert(exported.out, 3)
    assert "KEEP-A" in exported.out and "KEEP-Z" in exported.out

    pr = run_cli(repo, "pr", "HEAD~1")
    assert pr.code == 0, pr.err
    assert_inert(pr.out, 4)  # and the conversation around them
    assert "\x1b" not in pr.out and "\u202e" not in pr.out


def test_html_export_escapes_everything(repo: Path) -> None:
    sid = hostile_session(repo)
    exported = run_cli(repo, "export", sid, "--format", "html")
    assert exported.code == 0, exported.err
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, attrs))

    Tags().feed(exported.out)
    assert tags
    assert not [t for t, _ in tags if t in ("script", "img", "svg", "iframe")], tags
    assert not [(t, a) for t, attrs in tags for a, _ in attrs if a.startswith("on")], tags
    assert json.dumps(exported.out).count("&lt;img src=x onerror=alert(1)&gt;") > 3
