"""`gitsess export`: portable JSONL, Markdown for pull requests, one self-contained HTML page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

HOSTILE = "<script>alert('x')</script> & </details><details open> ``` `tick`"


@pytest.fixture
def session(repo: Path, gs) -> str:
    sid = gs("new", "Export <me> & friends", "--json").json()["id"]
    entries = [
        {"type": "message", "role": "user", "content": f"Please fix it. {HOSTILE}"},
        {"type": "reasoning", "content": "Look at the files first."},
        {"type": "tool_call", "name": "Bash", "input": {"command": "ls -la"}, "call_id": "c1"},
        {"type": "tool_result", "call_id": "c1", "output": "a.txt\n```\nb.txt\n" + "x" * 9000},
        {"type": "tool_call", "name": "Read", "input": {"path": "missing"}, "call_id": "c2"},
        {"type": "tool_result", "call_id": "c2", "output": "no such file", "is_error": True},
        {"type": "summary", "content": "Earlier: we listed files.", "first": "a", "last": "b"},
        {"type": "commit", "sha": "a" * 40, "subject": "Fix <it>"},
        {"type": "message", "role": "assistant", "content": "Fixed **it**.", "model": "m-1"},
        {"type": "future_type", "payload": {"k": [1, 2]}},
    ]
    gs("record", "--jsonl", "-", stdin="\n".join(json.dumps(e) for e in entries))
    return sid


def test_jsonl_reimports_to_the_same_entries(repo: Path, gs, session: str, tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    assert gs("export", session, "-o", str(path)).code == 0
    original = gs("show", session, "--json").json()
    imported = gs("import", str(path), "--no-checkout", "--json")
    assert imported.code == 0, imported.err
    copy = gs("show", imported.json()["id"], "--json").json()
    assert copy["entries"] == original["entries"]
    assert copy["session"]["title"] == original["session"]["title"]
    assert copy["session"]["source"]["id"] == session
    assert gs("export", session, "--format", "jsonl").out.splitlines()[1:] == [
        line for line in path.read_text().splitlines()[1:]
    ]


def test_markdown_folds_tools_and_cannot_be_broken_by_content(repo: Path, gs, session: str) -> None:
    result = gs("export", session, "--format", "md")
    assert result.code == 0
    md = result.out
    assert md.startswith("# Export &lt;me&gt; &amp; friends")
    assert '<details><summary>⚙ Bash: <code>{"command": "ls -la"}</code>' in md
    assert "<details><summary>⚙ Read" in md and "⚠" in md and "Error:" in md
    # The user's HTML is inert outside code; the <details> structure stays balanced.
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert md.count("<details>") == md.count("</details>")
    # A fence inside tool output does not end the code block: the fence is longer.
    assert "````\na.txt\n```\nb.txt" in md
    assert "more characters cut" in md
    assert "**Assistant**\n\nFixed **it**." in md and "`m-1`" in md
    assert "Summary of earlier conversation" in md and "Fix &lt;it&gt;" in md


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_one_self_contained_escaped_page(
    repo: Path, gs, session: str, tmp_path: Path
) -> None:
    path = tmp_path / "out.html"
    result = gs("export", session, "-o", str(path))
    assert result.code == 0 and "Wrote" in result.err
    page = path.read_text()
    parsed = _Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert not [v for k, v in parsed.attrs if k in ("src", "href") and v]
    assert not re.search(r"https?://", page)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    text = "".join(parsed.text)
    assert HOSTILE in text and "Export <me> & friends" in text
    assert "Please fix it." in text and "ls -la" in text and "no such file" in text


def test_export_errors(repo: Path, gs, session: str, tmp_path: Path) -> None:
    assert gs("export", "nope").code == 2
    bad = gs("export", session, "-o", str(tmp_path / "no" / "dir" / "x.md"))
    assert bad.code == 2 and "cannot write" in bad.err
    assert not list((tmp_path).glob("**/*.gitsess-tmp"))
    assert gs("export", session, "--format", "pdf").code == 2


def test_export_never_overwrites_without_force(repo: Path, session: str, tmp_path: Path) -> None:
    from .conftest import run_cli

    out = tmp_path / "out"
    out.mkdir()
    target = out / "notes.md"
    target.write_text("my own notes\n")
    refused = run_cli(repo, "export", session, "-o", str(target))
    assert refused.code == 2 and refused.out == ""
    assert refused.err == f"gitsess: {target} exists: --force overwrites it\n"
    assert target.read_text() == "my own notes\n"
    link = out / "dangling.md"
    link.symlink_to(out / "nowhere.md")  # a name taken, if by a dangling link
    assert run_cli(repo, "export", session, "-o", str(link)).code == 2
    assert not (out / "nowhere.md").exists()

    # A failed export with --force leaves what was there, and no temporary file.
    assert run_cli(repo, "export", "no-such", "-o", str(target), "--force").code == 2
    assert target.read_text() == "my own notes\n"
    folder = out / "folder.md"
    (folder / "inside").mkdir(parents=True)
    failed = run_cli(repo, "export", session, "-o", str(folder), "--force")
    assert failed.code == 2 and failed.err.startswith(f"gitsess: cannot write {folder}")
    assert (folder / "inside").is_dir()
    assert sorted(p.name for p in out.iterdir()) == ["dangling.md", "folder.md", "notes.md"]

    done = run_cli(repo, "export", session, "-o", str(target), "--force")
    assert done.code == 0, done.err
    assert target.read_text().startswith("# Export &lt;me&gt; &amp; friends")
    fresh = out / "new.md"
    assert run_cli(repo, "export", session, "-o", str(fresh)).code == 0 and fresh.exists()
    assert not list(out.glob(".*gitsess-tmp"))


def test_import_errors_create_nothing(repo: Path, gs, tmp_path: Path) -> None:
    from .conftest import session_ids

    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01\x02 not a transcript")
    for path in (garbage, tmp_path / "missing.jsonl"):
        result = gs("import", str(path))
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert gs("import", str(garbage), "--format", "nope").code == 2
    assert session_ids(repo) == []
