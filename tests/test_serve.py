"""`gitsess serve`'s app through Starlette's test client: the checks every request passes,
and the pages over a real repository."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .conftest import forge_log as forge
from .conftest import git, run_cli

pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2 (the dev extra)")

from starlette.testclient import TestClient

from gitsess.serve.app import create_app
from gitsess.serve.reader import Reader
from gitsess.serve.security import Guard
from gitsess.sessions import Sessions
from gitsess.storage.repo import Repository

TOKEN = "t0ken-for-tests"
PORT = 7420
HOST = f"127.0.0.1:{PORT}"


def new(repo: Path, title: str) -> str:
    result = run_cli(repo, "new", title, "--no-checkout", "--json")
    assert result.code == 0, result.err
    return str(result.json()["id"])


def record(repo: Path, sid: str, *entries: dict[str, object]) -> None:
    lines = "".join(json.dumps(entry) + "\n" for entry in entries)
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=lines.encode()).code == 0


@pytest.fixture
def client(repo: Path) -> Iterator[TestClient]:
    reader = Reader(Sessions(Repository(repo)))
    app = Guard(create_app(reader), TOKEN, {HOST, f"localhost:{PORT}"}, PORT)
    with TestClient(app, base_url=f"http://{HOST}") as test_client:
        yield test_client
    reader.close()


def signed_in(client: TestClient) -> TestClient:
    answer = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert "HttpOnly" in answer.headers["set-cookie"]
    return client


def test_every_page_needs_the_token(client: TestClient, repo: Path) -> None:
    sid = new(repo, "Private work")
    for path in ("/", f"/s/{sid}", "/static/app.js"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert "Private work" not in answer.text
    assert client.get("/?token=wrong").status_code == 401
    assert signed_in(client).get("/").status_code == 200


def test_the_host_must_be_the_address_served(client: TestClient, repo: Path) -> None:
    new(repo, "Private work")
    signed_in(client)
    for host in ("evil.example", f"127.0.0.1:{PORT + 1}", "rebind.attacker.test:7420"):
        answer = client.get("/", headers={"host": host})
        assert answer.status_code == 403 and "Private work" not in answer.text
    assert client.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200


def test_read_only_and_locked_down(client: TestClient, repo: Path) -> None:
    signed_in(client)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, "/").status_code == 405
    answer = client.get("/", headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-frame-options"] == "DENY"


def test_index_and_session_pages_escape_what_sessions_hold(client: TestClient, repo: Path) -> None:
    sid = new(repo, "Title <script>alert(1)</script>")
    record(
        repo,
        sid,
        {"id": "m1", "type": "message", "role": "user", "content": "<img src=x onerror=alert(2)>"},
    )
    signed_in(client)
    index = client.get("/")
    assert "Title &lt;script&gt;alert(1)&lt;/script&gt;" in index.text
    assert "<script>alert" not in index.text
    page = client.get(f"/s/{sid}")
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert(2)&gt;" in page.text and "<img src=x" not in page.text
    assert 'id="e-m1"' in page.text
    assert client.get("/s/nosuchsession").status_code == 404


def test_live_entries_after_a_count(client: TestClient, repo: Path) -> None:
    sid = new(repo, "Growing")
    record(repo, sid, {"id": "a1", "type": "message", "role": "user", "content": "first"})
    signed_in(client)
    assert client.get(f"/s/{sid}/entries?after=1").headers["x-gitsess-count"] == "1"
    record(repo, sid, {"id": "a2", "type": "message", "role": "assistant", "content": "second"})
    answer = client.get(f"/s/{sid}/entries?after=1")
    assert answer.headers["x-gitsess-count"] == "2"
    assert "second" in answer.text and "first" not in answer.text


# -- the session page: every entry type, rendered -----------------------------------------

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ"
    "RU5ErkJggg=="
)
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(30)).decode()
WEBP = base64.b64encode(b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(20)).decode()
SVG = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>').decode()


def sections(html: str) -> dict[str, str]:
    """Each `section.entry#e-<id>` of a page, by id: its HTML."""
    found = re.findall(
        r'<section class="entry[^"]*" id="e-([^"]*)"[^>]*>(.*?)</section>', html, re.S
    )
    return dict(found)


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def assert_inert(html: str, where: str) -> None:
    """Nothing from a session became markup that acts: the viewer's own script alone,
    no event handler, no link but http(s), in-page and the viewer's own, no image but
    a raster data: URL, no raw control character."""
    parser = Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        if tag == "script":
            assert attrs == {"src": "/static/app.js", "defer": ""}, (where, attrs)
        assert tag not in ("iframe", "object", "embed", "form", "base", "meta") or (
            tag in ("form", "meta") and "http-equiv" not in attrs
        ), (where, tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, attrs)
            if name in ("href", "src", "action", "formaction", "style", "srcset"):
                assert "javascript:" not in value.lower().replace(" ", ""), (where, tag, attrs)
        if tag == "a":
            href = attrs.get("href", "")
            assert href.startswith(("/", "#", "?", "http://", "https://")), (where, attrs)
            if href.startswith("http"):
                assert attrs.get("rel") == "noopener noreferrer nofollow", (where, attrs)
        if tag == "img":
            assert re.match(r"data:image/(png|jpeg|gif|webp);base64,", attrs["src"]), where
        if tag == "link":
            assert attrs["href"] in ("/static/style.css", "/static/code.css", "data:,"), (
                where,
                attrs,
            )
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", html), where
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", html), where


def test_every_entry_type_is_rendered(client: TestClient, repo: Path) -> None:
    sid = new(repo, "Every kind")
    record(
        repo,
        sid,
        {
            "id": "sys",
            "type": "message",
            "role": "system",
            "content": "You are a careful coding agent. " * 20,
            "meta": {"injected": True, "kind": "base_instructions"},
        },
        {"id": "u1", "type": "message", "role": "user", "content": "Add **dark mode**"},
        {
            "id": "a1",
            "type": "message",
            "role": "assistant",
            "model": "model-one",
            "content": "Plan:\n\n1. `style.css`\n2. [docs](https://example.com/docs)",
        },
        {"id": "r1", "type": "reasoning", "model": "model-one", "content": "The CSS *uses*"},
        {
            "id": "t1",
            "type": "tool_call",
            "name": "Read",
            "call_id": "c1",
            "input": {"file_path": "src/style.css", "limit": 20},
        },
        {"id": "t1r", "type": "tool_result", "call_id": "c1", "output": "body {}\nmain {}"},
        {
            "id": "t2",
            "type": "tool_call",
            "name": "Bash",
            "call_id": "c2",
            "input": {"command": "make test"},
        },
        {
            "id": "t2r",
            "type": "tool_result",
            "call_id": "c2",
            "output": "1 failed",
            "is_error": True,
        },
        {
            "id": "t3",
            "type": "tool_call",
            "name": "Grep",
            "call_id": "c3",
            "input": {"pattern": "dark", "path": "src"},
        },
        {
            "id": "t4",
            "type": "tool_call",
            "name": "exec_command",
            "call_id": "c4",
            "input": {"cmd": ["git", "status"]},
        },
        {
            "id": "t5",
            "type": "tool_call",
            "name": "apply_patch",
            "call_id": "c5",
            "input": "*** Begin Patch\n*** Update File: src/app.ts\n@@\n-a\n+b\n*** End Patch",
        },
        {"id": "orphan", "type": "tool_result", "call_id": "gone", "output": "orphan output"},
        {
            "id": "a2",
            "type": "message",
            "role": "assistant",
            "model": "model-two",
            "content": "Done.",
        },
        {
            "id": "s1",
            "type": "summary",
            "content": "We added *dark mode*.",
            "first": "u1",
            "last": "a2",
        },
        {"id": "ev", "type": "event", "name": "session_start", "data": {"cwd": "/work"}},
        {
            "id": "cmd",
            "type": "message",
            "role": "user",
            "content": "<command-name>/clear</command-name>",
        },
        {"id": "tok", "type": "event", "name": "token_count", "data": {"usage": {"in": 3}}},
        {"id": "odd", "type": "checkpoint", "label": "unknown kind"},
    )
    signed_in(client)
    page = client.get(f"/s/{sid}")
    assert page.status_code == 200
    html = page.text
    assert_inert(html, "session page")
    shown = sections(html)
    # The system prompt: folded to a line, the whole text inside a closed <details>.
    assert "injected: system prompt" in shown["sys"] and "<details" in shown["sys"]
    assert "You are a careful coding agent." in shown["sys"]
    # Markdown in messages, reasoning and summaries.
    assert "Add <strong>dark mode</strong>" in shown["u1"]
    assert "<code>style.css</code>" in shown["a1"] and "<ol>" in shown["a1"]
    assert '<a href="https://example.com/docs" rel="noopener noreferrer nofollow"' in shown["a1"]
    assert '<details class="reasoning">' in shown["r1"] and "<em>uses</em>" in shown["r1"]
    assert '<details class="summary" open>' in shown["s1"] and "<em>dark mode</em>" in shown["s1"]
    # Model badges where the model changes, not on every entry.
    assert 'class="model"' in shown["a1"] and "model-one" in shown["a1"]
    assert "model-one" not in shown["r1"]
    assert 'data-model="model-two"' in html and "model-two" in shown["a2"]
    # Tool calls folded to their tool and what they act on, their results inside.
    assert re.search(
        r'tool-name">Read</span> <code class="brief">src/style.css</code>', shown["t1"]
    )
    assert "body {}\nmain {}" in shown["t1"] and "t1r" not in shown
    assert "make test" in shown["t2"] and 'class="tool error"' in shown["t2"]
    assert "1 failed" in shown["t2"]
    assert '<code class="brief">dark in src</code>' in shown["t3"]
    assert '<code class="brief">git status</code>' in shown["t4"]
    assert '<code class="brief">src/app.ts</code>' in shown["t5"]
    assert "orphan output" in shown["orphan"] and 'data-result="gone"' in shown["orphan"]
    # Events, agent noise folded as `show` folds it, types gitsess does not know.
    assert "session_start" in shown["ev"]
    assert "command: /clear" in shown["cmd"] and "<command-name>" not in html
    assert "tok" not in shown  # bookkeeping: left out, as in the exports
    assert "unknown kind" in shown["odd"]
    # Every entry can be linked to, and forked from.
    for entry_id in ("u1", "a1", "t1", "s1"):
        assert f'href="/s/{sid}/e/{entry_id}"' in shown[entry_id]
        assert f'data-copy="gitsess fork {sid} --at {entry_id}"' in shown[entry_id]
    assert f'data-copy="gitsess resume {sid}"' in html


def test_images_in_content_are_shown_but_never_svg_or_remote(
    client: TestClient, repo: Path
) -> None:
    sid = new(repo, "Screenshots")
    record(
        repo,
        sid,
        {  # Claude Code's shape
            "id": "claude",
            "type": "message",
            "role": "user",
            "content": [
                {"type": "text", "text": "this page"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
            ],
        },
        {  # Codex's
            "id": "codex",
            "type": "message",
            "role": "user",
            "content": [{"type": "image", "url": f"data:image/jpeg;base64,{JPEG}"}],
        },
        {  # Gemini's
            "id": "gemini",
            "type": "message",
            "role": "user",
            "content": [{"type": "image", "media_type": "image/webp", "data": WEBP}],
        },
        {
            "id": "svg",
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/svg+xml", "data": SVG},
                },
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": SVG},
                },
                {"type": "image", "url": f"data:image/svg+xml;base64,{SVG}"},
                {"type": "image", "url": "https://tracker.example/pixel.png"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "!!"},
                },
            ],
        },
        {"id": "shot", "type": "tool_call", "name": "screenshot", "call_id": "k", "input": {}},
        {
            "id": "shot-r",
            "type": "tool_result",
            "call_id": "k",
            "output": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                }
            ],
        },
    )
    signed_in(client)
    html = client.get(f"/s/{sid}").text
    assert_inert(html, "images")
    shown = sections(html)
    assert f'<img src="data:image/png;base64,{PNG}"' in shown["claude"]
    assert "this page" in shown["claude"]
    assert f'<img src="data:image/jpeg;base64,{JPEG}"' in shown["codex"]
    assert f'<img src="data:image/webp;base64,{WEBP}"' in shown["gemini"]
    assert "<img" not in shown["svg"] and SVG not in shown["svg"]
    assert "not loaded" in shown["svg"] and "not a PNG, JPEG, GIF or WebP" in shown["svg"]
    assert f'<img src="data:image/png;base64,{PNG}"' in shown["shot"]


def test_markdown_links_work_only_to_http_and_anchors(client: TestClient, repo: Path) -> None:
    sid = new(repo, "Links")
    text = "\n\n".join(
        [
            "[js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [ent](&#106;avascript:alert(1))",
            "[data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox) [file](file:///etc/passwd)",
            "[rel](../../etc/passwd) [proto](//evil.example/x) <javascript:alert(3)>",
            "[ref][r]\n\n[r]: javascript:alert(4)",
            "![pixel](https://tracker.example/p.png) ![inline](data:image/png;base64,AAAA)",
            '<script>alert(5)</script> <img src=x onerror=alert(6)> <a href="javascript:x">a</a>',
            "[ok](https://example.com/a?b=1&c=2) [here](#e-m1) <https://example.org>",
            '[quote](http://x.example/"onmouseover="alert(7))',
        ]
    )
    record(repo, sid, {"id": "m1", "type": "message", "role": "assistant", "content": text})
    signed_in(client)
    html = client.get(f"/s/{sid}").text
    assert_inert(html, "links")
    message = sections(html)["m1"]
    links = re.findall(r'<a [^>]*?href="([^"]*)"', message.split('class="md"', 1)[1])
    assert links == [
        "https://tracker.example/p.png",  # an image: a link to it, never loaded
        "https://example.com/a?b=1&amp;c=2",
        "#e-m1",
        "https://example.org",
        "http://x.example/%22onmouseover=%22alert(7)",
    ]
    assert "[js](javascript:alert(1))" in message  # shown as typed, inert
    assert "&lt;script&gt;alert(5)&lt;/script&gt;" in message
    assert "&lt;img src=x onerror=alert(6)&gt;" in message
    assert "image: pixel" in message and "<img" not in message


# Everything a page could take for markup or a terminal for a command, between words that
# must stay readable.
HOSTILE = (
    "KEEP-A <script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)> "
    "javascript:alert(4) [x](javascript:alert(5)) {{ 7*7 }} \x1b]0;pwned\x07 \x1b[2J "
    "\u202eevil\u202c &amp; &lt;b&gt; KEEP-Z"
)


def test_hostile_content_in_every_field_is_escaped_and_inert(
    client: TestClient, repo: Path
) -> None:
    sid = new(repo, "Soon hostile")
    deep = b'{"id":"deep","type":"message","role":"user","content":' + b"[" * 200_000
    deep += b"]" * 200_000 + b"}"
    nested = {
        "id": "nested",
        "type": "tool_call",
        "name": "x",
        "input": {"a": json.loads("[" * 900 + "]" * 900)},
    }
    entries: list[dict[str, Any]] = [
        {"id": "m", "type": "message", "role": "user", "content": HOSTILE},
        {"id": "role", "type": "message", "role": HOSTILE, "content": "odd role"},
        {"id": "mod", "type": "message", "role": "assistant", "content": "x", "model": HOSTILE},
        {
            "id": "sub",
            "type": "message",
            "role": "user",
            "content": "y",
            "meta": {"subagent": HOSTILE},
        },
        {
            "id": "parts",
            "type": "message",
            "role": "user",
            "content": [{"type": HOSTILE, HOSTILE: HOSTILE}, 5, None],
        },
        {"id": "think", "type": "reasoning", "content": HOSTILE},
        {
            "id": "call",
            "type": "tool_call",
            "name": HOSTILE,
            "call_id": HOSTILE,
            "input": {HOSTILE: HOSTILE, "command": HOSTILE},
        },
        {
            "id": "res",
            "type": "tool_result",
            "call_id": HOSTILE,
            "output": [{"type": "text", "text": HOSTILE}],
            "is_error": HOSTILE,
        },
        {
            "id": "call2",
            "type": "tool_call",
            "name": ["not", "text"],
            "call_id": ["x"],
            "input": HOSTILE,
        },
        {"id": "sum", "type": "summary", "content": HOSTILE, "first": HOSTILE, "last": {"x": 1}},
        {"id": "commit", "type": "commit", "sha": HOSTILE, "subject": HOSTILE},
        {"id": "ev", "type": "event", "name": HOSTILE, "data": {HOSTILE: HOSTILE * 10}},
        {
            "id": "inj",
            "type": "message",
            "role": "system",
            "content": HOSTILE,
            "meta": {"injected": True},
        },
        {"id": HOSTILE, "type": "message", "role": "user", "content": "hostile id"},
        {
            "id": "x; rm -rf ~ $(touch pwned)",
            "type": "message",
            "role": "user",
            "content": "quoted",
        },
        {"id": "kind", "type": HOSTILE, HOSTILE: HOSTILE},
        {
            "id": "big",
            "type": "message",
            "role": "assistant",
            "content": "[" * 50_000 + "y" * (10 << 20),
        },
        {"id": 5, "type": "message", "role": "user", "content": "a number for an id"},
        nested,
    ]
    lines = [json.dumps({"ts": HOSTILE, **e}).encode() for e in entries]
    lines[3:3] = [deep, b"not json at all " + HOSTILE.encode(), b"[1, 2]"]
    change = {
        "title": HOSTILE,
        "tags": [HOSTILE, 7, None],
        "branch": HOSTILE,
        "author": {"name": HOSTILE, "email": HOSTILE},
        "agent": HOSTILE,
        "task": HOSTILE,
        "updated": HOSTILE,
        "parent": {"session": HOSTILE, "entry": HOSTILE},
        "status": HOSTILE,
        "visibility": HOSTILE,
    }
    tip = forge(repo, sid, change, lines)
    other = new(repo, "Types a forger chose")
    forge(
        repo,
        other,
        {"title": ["a", "list"], "tags": 7, "author": "no object", "updated": 5, "parent": "x"},
        [b"{}"],
    )
    signed_in(client)
    quoted = quote(HOSTILE, safe="")
    for path in (
        "/",
        f"/?q={quoted}&tag={quoted}&author={quoted}",
        f"/s/{sid}",
        f"/s/{sid}?page=0",
        f"/s/{sid}/page/0?at={tip}&model={quoted}",
        f"/s/{sid}/entries?after=0&model={quoted}",
        f"/s/{sid}/entries?after=5",
        f"/s/{other}",
        f"/search?q={quote('KEEP-A')}",
        f"/search?q={quoted}",
        f"/search?q={quoted}&regex=1&type={quoted}",
        f"/s/{quoted}",
        f"/s/{sid}/e/{quoted}",
        f"/s/{sid}/page/0?at={quoted}",
    ):
        answer = client.get(path)
        assert answer.status_code in (200, 400, 404), (path, answer.status_code)
        assert_inert(answer.text, path)
        assert "<script>alert" not in answer.text and "onerror=alert" not in answer.text.replace(
            "&lt;img src=x onerror=alert", ""
        )
    page = client.get(f"/s/{sid}").text
    assert page.count("KEEP-A") >= 10 and page.count("KEEP-Z") >= 10  # shown, not lost
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\u001b]0;pwned\\u0007" in page and "\\u202eevil\\u202c" in page
    assert "{{ 7*7 }}" in page  # data, never a template
    # A copied command never runs what an id holds.
    parsed = Tags()
    parsed.feed(page)
    copied = {attrs["data-copy"] for _, attrs in parsed.tags if "data-copy" in attrs}
    assert f"gitsess fork {sid} --at 'x; rm -rf ~ $(touch pwned)'" in copied
    # The 10 MB message is cut, and said so; the deep line is kept, as data.
    assert len(page) < 2_000_000
    assert "more characters not shown" in page
    index = client.get("/").text
    assert "[&#34;a&#34;, &#34;list&#34;]" in index or "[&quot;a&quot;, &quot;list&quot;]" in index


# -- search ---------------------------------------------------------------------------------


def test_search_page_lists_hits_linked_to_their_entries(client: TestClient, repo: Path) -> None:
    first = new(repo, "Dark mode")
    other = new(repo, "Unrelated work")
    record(
        repo,
        first,
        {
            "id": "q1",
            "type": "message",
            "role": "user",
            "content": "Please add a dark theme toggle",
        },
        {
            "id": "q2",
            "type": "tool_call",
            "name": "Bash",
            "call_id": "b",
            "input": {"command": "grep -r Theme src"},
        },
    )
    record(repo, other, {"id": "q3", "type": "message", "role": "user", "content": "nothing here"})
    signed_in(client)
    index = client.get("/").text
    assert 'formaction="/search"' in index  # the index's box searches the conversations too
    answer = client.get("/search?q=theme")
    assert answer.status_code == 200
    assert_inert(answer.text, "search")
    hits = re.findall(r'<li class="hit">(.*?)</li>', answer.text, re.S)
    assert len(hits) == 2, hits
    assert f'href="/s/{first}/e/q1"' in hits[0] and ">Dark mode</a>" in hits[0]
    assert '<span class="kind">user</span>' in hits[0]
    assert "add a dark <mark>theme</mark> toggle" in hits[0]
    assert f'href="/s/{first}/e/q2"' in hits[1] and "<mark>Theme</mark>" in hits[1]
    assert "Unrelated" not in answer.text
    # A title is a hit too, linked to its session; a type narrows the search.
    titled = client.get("/search?q=unrelated").text
    assert f'href="/s/{other}"' in titled and "<mark>Unrelated</mark>" in titled
    only_tools = client.get("/search?q=theme&type=tool_call").text
    assert "/e/q2" in only_tools and "/e/q1" not in only_tools
    # A hit's link opens the page that holds the entry, scrolled to it.
    jump = client.get(f"/s/{first}/e/q2", follow_redirects=False)
    assert jump.status_code == 303 and jump.headers["location"] == f"/s/{first}?page=0#e-q2"
    # Bad input is said on the page, never a 500; no text, no search.
    bad = client.get("/search?q=%28unclosed&regex=1")
    assert bad.status_code == 400 and "error-message" in bad.text
    empty = client.get("/search")
    assert empty.status_code == 200 and 'class="hit"' not in empty.text


# -- long sessions and live update ------------------------------------------------------


def test_a_20000_entry_session_opens_at_its_first_segment_and_pages(
    client: TestClient, repo: Path
) -> None:
    sid = new(repo, "Long")
    lines = "".join(
        json.dumps(
            {
                "id": f"n{n}",
                "type": "message",
                "role": "user" if n % 2 == 0 else "assistant",
                "content": f"entry {n} *said*",
                **({"model": "m-early" if n < 15_000 else "m-late"} if n % 2 else {}),
            }
        )
        + "\n"
        for n in range(20_000)
    )
    assert run_cli(repo, "record", sid, "--jsonl", "-", stdin=lines.encode()).code == 0
    log = git(repo, "rev-parse", f"refs/sessions/{sid}")
    signed_in(client)
    page = client.get(f"/s/{sid}").text
    shown = sections(page)
    assert len(shown) == 1000 and "n0" in shown and "n999" in shown and "n1000" not in shown
    assert 'data-pages="20"' in page and 'data-count="20000"' in page
    assert f'data-log="{log}"' in page
    assert 'id="more"' in page and 'href="?page=1"' in page
    # Later segments load as fragments, on the log the page was opened on.
    later = client.get(f"/s/{sid}/page/15?at={log}&model=m-early")
    ids = list(sections(later.text))
    assert ids[0] == "n15000" and ids[-1] == "n15999" and len(ids) == 1000
    assert "<html" not in later.text
    assert re.findall(r'data-model="([^"]*)"', later.text) == ["m-late"]
    last = sections(client.get(f"/s/{sid}/page/19?at={log}").text)
    assert list(last)[-1] == "n19999"
    assert client.get(f"/s/{sid}/page/20?at={log}").text.strip() == ""
    # A link to one entry opens the segment that holds it.
    jump = client.get(f"/s/{sid}/e/n12345", follow_redirects=False)
    assert jump.headers["location"] == f"/s/{sid}?page=12#e-n12345"
    middle = client.get(jump.headers["location"]).text
    assert "n12345" in sections(middle) and 'href="?page=11"' in middle
    assert client.get(f"/s/{sid}/e/nosuch").status_code == 404
    # New entries after the first N, with the counts the page keeps up to date.
    tail = client.get(f"/s/{sid}/entries?after=19990&model=m-late")
    assert list(sections(tail.text)) == [f"n{n}" for n in range(19990, 20000)]
    assert tail.headers["x-gitsess-count"] == "20000"
    assert tail.headers["x-gitsess-pages"] == "20"
    assert "data-model" not in tail.text  # the model did not change


def test_segments_are_read_only_from_this_sessions_log_commits(
    client: TestClient, repo: Path
) -> None:
    """`?at=` comes from a URL: a branch name, HEAD or another session's log is refused."""
    mine = new(repo, "Mine")
    secret = new(repo, "Secret")
    record(repo, secret, {"id": "s1", "type": "message", "role": "user", "content": "the secret"})
    signed_in(client)
    for at in (
        "HEAD",
        "main",
        f"refs/sessions/{secret}",
        git(repo, "rev-parse", f"refs/sessions/{secret}"),
        git(repo, "rev-parse", "HEAD"),
        "0" * 40,
    ):
        answer = client.get(f"/s/{mine}/page/0?at={quote(at, safe='')}")
        assert answer.status_code == 404, at
        assert "the secret" not in answer.text


def test_live_fragments_carry_the_model_and_the_segment_count(
    client: TestClient, repo: Path
) -> None:
    sid = new(repo, "Live")
    record(
        repo,
        sid,
        {"id": "l1", "type": "message", "role": "assistant", "model": "m1", "content": "a"},
    )
    signed_in(client)
    record(
        repo,
        sid,
        {"id": "l2", "type": "message", "role": "assistant", "model": "m1", "content": "b"},
        {"id": "l3", "type": "message", "role": "assistant", "model": "m2", "content": "c"},
    )
    answer = client.get(f"/s/{sid}/entries?after=1&model=m1")
    assert list(sections(answer.text)) == ["l2", "l3"]
    assert re.findall(r'data-model="([^"]*)"', answer.text) == ["m2"]
    assert answer.headers["x-gitsess-count"] == "3" and answer.headers["x-gitsess-pages"] == "1"


# -- real transcripts ------------------------------------------------------------------------


def test_real_transcripts_render_with_their_tools_and_system_prompts(
    client: TestClient, repo: Path
) -> None:
    """Each agent's real transcript from the corpus: tool calls folded to what they act
    on, the system prompt folded and whole, every page inert."""
    from .conftest import CORPUS

    files = {
        "codex": next(iter(sorted((CORPUS / "codex").glob("*.jsonl"))), None)
        if (CORPUS / "codex").is_dir()
        else None,
        "claude-code": CORPUS / "claude-code" / "compaction.jsonl",
        "gemini": next(iter(sorted((CORPUS / "gemini").glob("*.json"))), None)
        if (CORPUS / "gemini").is_dir()
        else None,
    }
    if not all(path is not None and path.is_file() for path in files.values()):
        pytest.skip(f"the real transcripts are not in {CORPUS}")
    sessions = {}
    for agent, path in files.items():
        imported = run_cli(repo, "import", str(path), "--no-checkout", "--json")
        assert imported.code == 0, imported.err
        sessions[agent] = str(imported.json()["id"])
    signed_in(client)
    pages = {}
    for agent, sid in sessions.items():
        answer = client.get(f"/s/{sid}")
        assert answer.status_code == 200, agent
        assert_inert(answer.text, agent)
        pages[agent] = answer.text
    codex, claude, gemini = pages["codex"], pages["claude-code"], pages["gemini"]
    assert "injected: system prompt" in codex and '<span class="model"' in codex
    assert re.search(r'tool-name">exec_command</span> <code class="brief">sed -n', codex)
    assert re.search(r'tool-name">Read</span> <code class="brief">/Users/[^<]*\.go</code>', claude)
    assert re.search(r'tool-name">Bash</span> <code class="brief">mise run test', claude)
    assert '<details class="reasoning">' in claude
    assert re.search(r'tool-name">read_file</span> <code class="brief">/Users/[^<]*</code>', gemini)


class IndexRows(HTMLParser):
    """The session titles of the index's table, in order, and its count line."""

    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []
        self.count = ""
        self._in: str | None = None
        self.more: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and (found.get("href") or "").startswith("/s/"):
            self._in = "title"
            self.titles.append("")
        elif tag == "p" and found.get("class") == "count":
            self._in = "count"
        elif tag == "a" and self._in == "count" and (found.get("href") or "").startswith("/?"):
            self.more = found["href"]

    def handle_endtag(self, tag: str) -> None:
        if (tag, self._in) in (("a", "title"), ("p", "count")):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.titles[-1] += data
        elif self._in == "count":
            self.count += data


def index_of(client: TestClient, query: str = "") -> IndexRows:
    answer = client.get(f"/{query}")
    assert answer.status_code == 200, answer.text
    parsed = IndexRows()
    parsed.feed(answer.text)
    return parsed


def test_the_index_is_a_page_of_the_most_recent_with_more_to_ask_for(
    client: TestClient, repo: Path
) -> None:
    """However many sessions there are, the index shows a page (pinned first, then the
    most recent) and says how many there are; "show more" asks for another page."""
    ids = [new(repo, f"Session {n}") for n in range(5)]
    assert run_cli(repo, "pin", ids[1]).code == 0
    signed_in(client)
    first = index_of(client, "?limit=2")
    assert first.titles == ["Session 1", "Session 4"]
    assert " ".join(first.count.split()).startswith("2 of 5 sessions · show more")
    assert first.more == "/?limit=4"
    second = index_of(client, first.more[1:])
    assert second.titles == ["Session 1", "Session 4", "Session 3", "Session 2"]
    assert index_of(client, second.more[1:] if second.more else "").titles[-1] == "Session 0"
    whole = index_of(client)  # the default page holds them all
    assert len(whole.titles) == 5 and whole.more is None


def test_index_filters_read_every_session_and_keep_a_page(client: TestClient, repo: Path) -> None:
    """A filter or a text looks at every session (not only the page shown), keeps the
    first page of matches and counts them all; its values are offered from the rows
    shown, and any other can be typed in."""
    ids = [new(repo, f"Work {n}") for n in range(4)]
    for sid in ids[:3]:
        assert run_cli(repo, "tag", sid, "alpha").code == 0
    assert run_cli(repo, "tag", ids[0], "<b>rare</b>").code == 0
    signed_in(client)
    tagged = index_of(client, "?tag=alpha&limit=2")
    assert tagged.titles == ["Work 2", "Work 1"]
    assert " ".join(tagged.count.split()).startswith("2 of 3 matching, of 4 sessions")
    assert tagged.more is not None and "tag=alpha" in tagged.more and "limit=4" in tagged.more
    assert index_of(client, "?tag=<b>rare</b>").titles == ["Work 0"]  # not on the first page
    assert index_of(client, "?q=work+3").titles == ["Work 3"]
    assert index_of(client, "?tag=nosuch").titles == []
    page = client.get("/?limit=2").text  # Work 3 and Work 2
    assert '<option value="alpha">' in page and "rare" not in page  # values of the rows shown
    assert "<b>" not in client.get("/").text  # a tag is data
