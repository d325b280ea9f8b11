"""`gitsess serve`'s app through Starlette's test client: the checks every request passes,
and the pages over a real repository."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import run_cli

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
