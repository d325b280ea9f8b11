"""`gitsess serve` in a real Chromium (Playwright driving Debian's chromium): the token
flow, the Host check, hostile sessions whose payloads must never run, live updates, and the
screenshots the README shows. Skipped, with the reason, where there is no Chromium."""

from __future__ import annotations

import base64
import http.client
import json
import os
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import (
    HANG_GUARD,
    REBOUND_NAME,
    Served,
    Watched,
    launched_chromium,
    serving,
    signed_in,
    watched,
)
from .conftest import CORPUS, run_cli

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
WAIT_MS = HANG_GUARD * 1000  # what a wait_for_* may take before the test fails, not a goal


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def new(repo: Path, title: str, *args: str) -> str:
    result = run_cli(repo, "new", title, "--no-checkout", *args, "--json")
    assert result.code == 0, result.err
    return str(result.json()["id"])


def record(repo: Path, sid: str, *entries: dict[str, Any]) -> None:
    lines = "".join(json.dumps(entry) + "\n" for entry in entries).encode()
    result = run_cli(repo, "record", sid, "--jsonl", "-", stdin=lines)
    assert result.code == 0, result.err


def status_of(served: Served, path: str, host: str, cookie: str = "") -> tuple[int, str]:
    """A raw request with any Host header (a browser cannot forge one)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=HANG_GUARD)
    try:
        headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


# -- the token and the Host --------------------------------------------------------------


def test_the_token_becomes_a_cookie_and_leaves_the_address(chromium: Any, repo: Path) -> None:
    sid = new(repo, "Private work")
    with serving(repo) as served:
        watch, page = signed_in(chromium, served)
        assert page.url == served.base + "/"  # the address bar (and history) lose the token
        assert "Private work" in page.content()
        cookies = watch.context.cookies()
        assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
            (f"gitsess-{served.port}", True, "Strict")
        ]
        assert page.evaluate("document.cookie") == ""  # no script can read it
        assert page.goto(f"{served.base}/s/{sid}").status == 200  # the cookie is enough

        stranger = watched(chromium)  # another browser profile: no cookie
        other = stranger.page()
        for path in ("/", f"/s/{sid}", "/static/app.js", "/?token=wrong", f"/?token={sid}"):
            answer = other.goto(served.base + path)
            assert answer.status == 401, path
            assert "Private work" not in other.content()
        assert stranger.context.cookies() == []
        stranger.context.close()
        watch.context.close()


def test_a_forged_host_is_refused(chromium: Any, repo: Path) -> None:
    new(repo, "Private work")
    with serving(repo) as served:
        watch, page = signed_in(chromium, served)
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in watch.context.cookies())
        good = f"127.0.0.1:{served.port}"
        assert status_of(served, "/", good, cookie)[0] == 200  # the same request, real Host
        for host in ("evil.example", f"evil.example:{served.port}", f"127.0.0.1:{served.port + 1}"):
            status, body = status_of(served, "/", host, cookie)
            assert status == 403 and "Private work" not in body, host
        # DNS rebinding as a browser sees it: a name the attacker controls now resolves to
        # 127.0.0.1, and the page at it asks this server, with the token even.
        rebound = f"http://{REBOUND_NAME}:{served.port}"
        answer = page.goto(f"{rebound}/?token={served.token}")
        assert answer.status == 403 and "Private work" not in page.content()
        assert page.goto(f"{rebound}/").status == 403
        watch.context.close()


# -- hostile sessions ----------------------------------------------------------------------


def payload(where: str) -> str:
    """Markup, handlers and links that would set window.__pwned (or alert) if they ran."""
    mark = f"window.__pwned='{where}'"
    return (
        f'<script>{mark}</script><img src=x onerror="{mark}"><svg onload="{mark}"></svg>'
        f'"\'><b onmouseover="{mark}">q</b> [markdown link](javascript:{mark}) '
        f"![markdown image](javascript:{mark}) <javascript:alert('{where}')> "
        f'<a href="javascript:{mark}">html link</a> [data link](data:text/html,<script>'
        f"{mark}</script>) javascript:alert('{where}') {where}"
    )


HOSTILE_ID = "pwn3dabcde"  # session ids are checked (a ref name); everything else is free
HOSTILE_TOO = "pwn3dfghjk"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def hostile_meta(session_id: str, **fields: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "format": 1,
        "id": session_id,
        "title": payload("title"),
        "branch": f"session/{payload('branch')}-{session_id}",
        "base": None,
        "created": "2026-11-22T10:00:00.000Z",
        "updated": "2026-11-22T10:05:00.000Z",
        "author": {"name": payload("author name"), "email": payload("author email")},
        "agent": payload("agent"),
        "parent": {"session": payload("parent session"), "entry": payload("parent entry")},
        "status": "active",
        "visibility": "shared",
        "tags": [payload("tag"), "<svg/onload=alert('tag')>"],
        "task": payload("task"),
        "from_branch": payload("from branch"),
        "source": {"format": payload("source format"), "file": payload("source file")},
        "recovered": {payload("recovered key"): payload("recovered")},
    }
    meta.update(fields)
    return meta


def hostile_entries() -> list[dict[str, Any]]:
    """Every entry type, with a payload in every field, ids included."""
    ids = iter(f"{HOSTILE_ID}-{n}<img src=x onerror=alert('id{n}')>" for n in range(100))
    common = {"model": payload("model"), "agent": payload("entry agent")}
    svg = base64.b64encode(SVG).decode()
    return [
        {"id": next(ids), "ts": "2026-11-22T10:00:00.000Z", "type": "message", "role": "user",
         "content": payload("user text"), "author": payload("entry author"), **common},
        {"id": next(ids), "ts": payload("ts"), "type": "message", "role": "assistant",
         "content": [
             {"type": "text", "text": payload("assistant part")},
             {"type": "image", "source": {"type": "url", "url": f"javascript:{payload('u')}"}},
             {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml",
                                          "data": svg}},
             {"type": "image", "url": "javascript:alert('image url')"},
             {"type": payload("part type"), "text": payload("unknown part")},
         ], **common},
        {"id": next(ids), "ts": "2026-11-22T10:00:01.000Z", "type": "message",
         "role": payload("role"), "content": payload("text of an odd role")},
        {"id": next(ids), "ts": "2026-11-22T10:00:02.000Z", "type": "message", "role": "system",
         "content": payload("system prompt"), "meta": {"injected": payload("injected")}},
        {"id": next(ids), "ts": "2026-11-22T10:00:03.000Z", "type": "reasoning",
         "content": payload("reasoning")},
        {"id": next(ids), "ts": "2026-11-22T10:00:04.000Z", "type": "tool_call",
         "name": payload("tool name"), "call_id": payload("call id"),
         "input": {"command": payload("tool input"), payload("input key"): [payload("deep")]}},
        {"id": next(ids), "ts": "2026-11-22T10:00:05.000Z", "type": "tool_result",
         "call_id": payload("call id"), "output": payload("tool output"), "is_error": True},
        {"id": next(ids), "ts": "2026-11-22T10:00:06.000Z", "type": "tool_result",
         "call_id": "lonely", "output": {"stdout": payload("structured output")}},
        {"id": next(ids), "ts": "2026-11-22T10:00:07.000Z", "type": "summary",
         "content": payload("summary"), "first": payload("first"), "last": payload("last")},
        {"id": next(ids), "ts": "2026-11-22T10:00:08.000Z", "type": "commit",
         "sha": "82aebeb0257c3d1e9f4a6b8c0d2e4f6a8b0c2d4e", "subject": payload("subject")},
        {"id": next(ids), "ts": "2026-11-22T10:00:09.000Z", "type": "commit",
         "sha": payload("sha"), "subject": payload("subject of a bad sha")},
        {"id": next(ids), "ts": "2026-11-22T10:00:10.000Z", "type": "event",
         "name": payload("event name"), "data": {"detail": payload("event data")}},
        {"id": next(ids), "ts": "2026-11-22T10:00:11.000Z", "type": "event",
         "name": "model_change", "data": {"model": payload("model change")}},
        {"id": next(ids), "ts": "2026-11-22T10:00:12.000Z", "type": payload("type"),
         "text": payload("unknown type")},
        {"id": next(ids), "ts": "2026-11-22T10:00:13.000Z", "type": "message", "role": "user",
         "content": payload("subagent prompt"), "meta": {"subagent": payload("subagent")},
         "parent": payload("entry parent"), "source": {"format": payload("entry source")}},
        {"id": next(ids), "ts": "2026-11-22T10:00:14.000Z", "type": "message",
         "role": "assistant", "content": payload("inactive"), "meta": {"inactive": True}},
    ]  # fmt: skip


def plumb(repo: Path, *args: str, data: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=data, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode().strip()


def forge(repo: Path, meta: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """A log written by hand with git plumbing, as a teammate's fetched session can be."""
    segment = "".join(json.dumps(entry) + "\n" for entry in entries).encode()
    blob = plumb(repo, "hash-object", "-w", "--stdin", data=segment)
    log = plumb(repo, "mktree", data=f"100644 blob {blob}\t00000000.jsonl\n".encode())
    meta_blob = plumb(repo, "hash-object", "-w", "--stdin", data=json.dumps(meta).encode())
    root = f"100644 blob {meta_blob}\tsession.json\n040000 tree {log}\tlog\n".encode()
    tree = plumb(repo, "mktree", data=root)
    message = f"append\n\nSession: {meta['id']}\nEntries: {len(entries)}"
    commit = plumb(repo, "commit-tree", tree, "-m", message)
    plumb(repo, "update-ref", f"refs/sessions/{meta['id']}", commit)


@pytest.fixture
def hostile(repo: Path) -> Path:
    forge(repo, hostile_meta(HOSTILE_ID), hostile_entries())
    forge(
        repo,
        hostile_meta(
            HOSTILE_TOO,
            title=payload("second title"),
            status=payload("status"),
            visibility=payload("visibility"),
            created=payload("created"),
            updated=payload("updated"),
            tags=payload("tags not a list"),
            author=payload("author not an object"),
        ),
        hostile_entries()[:2],
    )
    # A session of our own forked from the hostile one: the fork marker and the family.
    result = run_cli(repo, "fork", HOSTILE_ID, "--no-checkout", "--title", "my fork", "--json")
    assert result.code == 0, result.err
    return repo


INERT_CHECK = """() => {
  const elements = [...document.querySelectorAll("*")];
  const handlers = elements.flatMap((el) => [...el.attributes]
    .filter((a) => a.name.startsWith("on")).map((a) => el.tagName + " " + a.name));
  const scripts = [...document.scripts].map((s) => s.getAttribute("src") || "(inline)")
    .filter((src) => src !== "/static/app.js");
  const urls = elements.flatMap((el) => ["href", "src", "action", "formaction", "xlink:href"]
    .map((name) => el.getAttribute(name) || "")
    .filter((value) => /^\\s*(javascript|data:text|vbscript)/i.test(value)));
  const embedded = [...document.querySelectorAll(
    "iframe, object, embed, frame, base, meta[http-equiv]")].map((el) => el.outerHTML.slice(0, 80));
  return {pwned: window.__pwned === undefined ? null : String(window.__pwned),
          violations: window.__violations || [], handlers, scripts, urls, embedded};
}"""


def assert_inert(page: Any, where: str) -> None:
    """Nothing from a session became markup that runs: no handler, script or script URL
    in the document, no blocked attempt (CSP violations), and no payload ran."""
    found = page.evaluate(INERT_CHECK)
    assert found == {
        "pwned": None,
        "violations": [],
        "handlers": [],
        "scripts": [],
        "urls": [],
        "embedded": [],
    }, f"{where}: {found}"


def open_everything(page: Any) -> None:
    """Unfold every folded part (tool calls, reasoning, the system prompt)."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def click_every_link(watch: Watched, page: Any, base: str, path: str) -> int:
    """Click each link of the page at ``path`` in turn (folded ones too) and check the
    page it leads to; returns how many links there were."""
    page.goto(base + path)
    count = page.locator("a").count()
    for index in range(count):
        page.goto(base + path)
        open_everything(page)
        link = page.locator("a").nth(index)
        target = str(link.evaluate("(a) => a.href"))
        where = f"{path} -> link {index} {link.get_attribute('href')!r}"
        if target.startswith(("http:", "https:")) and not target.startswith(base + "/"):
            continue  # a link out of the viewer (allowed): this machine has no network
        click = "(a) => a.click()"  # a real activation: a javascript: URL would run
        in_page = "#" in target and target.split("#")[0] == page.url.split("#")[0]
        if target.startswith(base + "/") and not in_page:
            with page.expect_navigation():
                link.evaluate(click)
        else:
            link.evaluate(click)
            page.evaluate(SETTLE)
        assert_inert(page, f"{where} -> {page.url}")
    for other in watch.context.pages:  # a link that opened a window
        if other is not page:
            assert_inert(other, f"{path}: a window opened by a link: {other.url}")
    return count


# Lets what a click queued (a javascript: URL runs in a task of its own) happen first.
SETTLE = "() => new Promise((done) => setTimeout(done, 100))"


@pytest.mark.parametrize("csp", [True, False], ids=["with CSP", "escaping alone (CSP bypassed)"])
def test_no_payload_in_any_field_of_a_session_ever_runs(
    chromium: Any, hostile: Path, csp: bool
) -> None:
    with serving(hostile) as served:
        watch, page = signed_in(chromium, served, bypass_csp=not csp)
        paths = ["/", f"/s/{HOSTILE_ID}", f"/s/{HOSTILE_TOO}"]
        links = 0
        for path in paths:
            answer = page.goto(served.base + path)
            assert answer.status == 200, (path, page.content()[:500])
            open_everything(page)
            page.mouse.move(400, 300)
            assert_inert(page, path)
            links += click_every_link(watch, page, served.base, path)
        assert links >= 5  # the pages have links to follow
        page.goto(f"{served.base}/s/{HOSTILE_ID}")
        open_everything(page)
        text = page.inner_text("body")
        for shown in ("title", "user text", "tool name", "reasoning", "event name"):
            assert payload(shown).split("[markdown")[0] in text or f"'{shown}'" in text, shown
        assert watch.dialogs == [], watch.dialogs
        assert watch.errors == [], watch.errors
        watch.context.close()


# -- live -------------------------------------------------------------------------------


def test_an_entry_recorded_while_the_page_is_open_appears_without_reload(
    chromium: Any, repo: Path
) -> None:
    sid = new(repo, "Agent at work")
    record(repo, sid, {"type": "message", "role": "user", "content": "Start the work"})
    with serving(repo) as served:
        watch, page = signed_in(chromium, served)
        page.goto(f"{served.base}/s/{sid}")
        page.wait_for_selector("text=Start the work")
        page.evaluate("() => { window.__samePage = true; }")
        assert page.locator("text=Written while you watch").count() == 0
        record(
            repo,
            sid,
            {"type": "message", "role": "assistant", "content": "Written while you watch"},
        )
        page.wait_for_selector("#entries >> text=Written while you watch", timeout=WAIT_MS)
        assert page.evaluate("() => window.__samePage") is True  # no reload happened
        assert watch.errors == [] and watch.dialogs == []
        watch.context.close()


# -- screenshots for the README ------------------------------------------------------------


def realistic_repository(repo: Path) -> tuple[str, str]:
    """Sessions as a user has them: imported from real agent transcripts when the corpus is
    here, else recorded by hand. Returns (the session to show, its title)."""
    transcripts = [
        ("claude-code/compaction.jsonl", "Fix the Claude Code hook handlers"),
        ("codex/rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
         "List the tools Codex can use"),
        ("gemini/session-2025-12-01T21-45-5b959dae.json", "First steps with Gemini"),
    ]  # fmt: skip
    ids = []
    for name, title in transcripts:
        source = CORPUS / name
        if not source.exists():
            continue
        result = run_cli(repo, "import", str(source), "--no-checkout", "--title", title, "--json")
        assert result.code == 0, result.err
        ids.append((str(result.json()["id"]), title))
    if not ids:
        sid = new(repo, "Add a dark mode that follows the system", "--agent", "claude-code")
        record(repo, sid, *made_up_turns())
        ids.append((sid, "Add a dark mode that follows the system"))
    shown, title = ids[0]
    assert run_cli(repo, "tag", shown, "hooks", "review").code == 0
    assert run_cli(repo, "pin", shown).code == 0
    fork = ["fork", shown, "--no-checkout", "--title", f"{title}, another way"]
    assert run_cli(repo, *fork).code == 0
    other = new(repo, "Try a second approach to the cache", "--task", "cache")
    record(repo, other, *made_up_turns()[:4])
    return shown, title


def made_up_turns() -> list[dict[str, Any]]:
    css = ":root {\n  --bg: #fff;\n  --fg: #222;\n}\n"
    turns: list[dict[str, Any]] = [
        {"type": "message", "role": "user", "content": "Add a dark mode that follows the system."},
        {"type": "reasoning", "content": "The styles use CSS variables: a media query swaps them."},
    ]
    for n, (tool, what, output) in enumerate(
        [
            ("Read", {"file_path": "src/style.css"}, css),
            ("Edit", {"file_path": "src/style.css"}, "ok"),
            ("Bash", {"command": "npm test"}, "12 passed"),
        ]
    ):
        turns.append({"type": "tool_call", "name": tool, "input": what, "call_id": f"c{n}"})
        turns.append({"type": "tool_result", "call_id": f"c{n}", "output": output})
    reply = "Dark mode now follows `prefers-color-scheme`; the tests pass."
    turns.append({"type": "message", "role": "assistant", "content": reply})
    return turns


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshots_of_the_index_and_a_session_page(
    chromium: Any, repo: Path, tmp_path: Path
) -> None:
    """Saved to the test's folder always, and to docs/images for the README when
    GITSESS_UPDATE_SCREENSHOTS=1."""
    shown, title = realistic_repository(repo)
    folders = [tmp_path]
    if os.environ.get("GITSESS_UPDATE_SCREENSHOTS", "") not in ("", "0"):
        IMAGES.mkdir(parents=True, exist_ok=True)
        folders.append(IMAGES)
    with serving(repo) as served:
        watch, page = signed_in(chromium, served)
        page.wait_for_selector(f"text={title}")
        shots = {"serve-index.png": page.screenshot()}
        page.goto(f"{served.base}/s/{shown}")
        page.wait_for_selector("#entries .entry")
        page.wait_for_load_state("networkidle")
        shots["serve-session.png"] = page.screenshot()
        assert watch.errors == [] and watch.dialogs == []
        watch.context.close()
    for folder in folders:
        for name, data in shots.items():
            (folder / name).write_bytes(data)
            assert png_size(folder / name) == (1280, 860)
