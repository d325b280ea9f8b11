"""`gitsess serve`'s pages about code: a commit's diff, a session's whole diff, the fork tree,
two sessions compared. Real repositories, commits linked to sessions by gitsess's own git
hooks, hostile names and contents; and one real browser following a commit link."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Result, git, log_lines, run_cli
from .test_terminal import forge

pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2 (the dev extra)")

from starlette.testclient import TestClient

from gitsess.serve.app import create_app
from gitsess.serve.reader import Reader
from gitsess.serve.security import Guard
from gitsess.sessions import Sessions
from gitsess.storage.repo import Repository

TOKEN = "t0ken-for-code-tests"
PORT = 7421
HOST = f"127.0.0.1:{PORT}"
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def client(repo: Path) -> Iterator[TestClient]:
    reader = Reader(Sessions(Repository(repo)))
    app = Guard(create_app(reader), TOKEN, {HOST}, PORT)
    with TestClient(app, base_url=f"http://{HOST}", raise_server_exceptions=False) as test_client:
        answer = test_client.get(f"/?token={TOKEN}", follow_redirects=False)
        assert answer.status_code == 303
        yield test_client
    reader.close()


def ok(result: Result) -> None:
    assert result.code == 0, result.err


def new_session(repo: Path, title: str, *options: str) -> str:
    """A session checked out here, with gitsess's git hooks linking its commits."""
    ok(run_cli(repo, "hooks", "install"))
    result = run_cli(repo, "new", title, "--json", *options)
    ok(result)
    return str(result.json()["id"])


def commit(repo: Path, files: dict[str, bytes], message: str) -> str:
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
        git(repo, "add", "--", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def commit_entries(repo: Path, sid: str) -> list[dict[str, object]]:
    return [e for e in log_lines(repo, sid) if e["type"] == "commit"]


def no_raw_html(page: str, controls: bool = True) -> None:
    """Nothing from the repository became markup: no script or image of its own (the
    viewer's one script has a src); with ``controls``, no escape character either."""
    assert "<script>" not in page and not re.search(r"<img\b", page)
    assert not controls or "\x1b" not in page


# -- a commit ---------------------------------------------------------------------------


def test_a_commit_entry_links_to_its_highlighted_diff(repo: Path, client: TestClient) -> None:
    sid = new_session(repo, "Parser work")
    sha = commit(
        repo,
        {"parse.py": b"def parse(text):\n    return text.split()\n", "README.md": b"hello\nmore\n"},
        "Add a parser\n\nIt splits words.",
    )
    (entry,) = commit_entries(repo, sid)
    assert entry["sha"] == sha
    session_page = client.get(f"/s/{sid}").text
    assert f'<a class="commit-link" href="/commit/{sha}">' in session_page
    page = client.get(f"/commit/{sha}")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Add a parser</h1>" in text and "It splits words." in text
    assert "Ada Tester &lt;ada@example.com&gt;" in text
    assert git(repo, "log", "-1", "--format=%aI")[:19] in text.replace(" ", "T")
    assert "2 files changed" in text and "+3" in text and "−0" in text
    assert "parse.py" in text and "README.md" in text
    # Highlighted by pygments' Python lexer, as classes (the CSP forbids inline styles).
    assert '<span class="k">def</span>' in text and '<span class="nf">parse</span>' in text
    assert "style=" not in text
    assert f'href="/s/{sid}"' in text  # the session its trailer names
    parent = git(repo, "rev-parse", "HEAD~1")
    assert f'href="/commit/{parent}"' in text
    assert client.get("/static/code.css").status_code == 200
    # A short sha names the same commit.
    assert "<h1>Add a parser</h1>" in client.get(f"/commit/{sha[:10]}").text


def test_the_first_commit_and_a_merge(repo: Path, client: TestClient) -> None:
    root = git(repo, "rev-list", "--max-parents=0", "HEAD")
    page = client.get(f"/commit/{root}").text
    assert "none (the first commit)" in page and "README.md" in page and "added" in page
    git(repo, "switch", "-q", "-c", "side")
    commit(repo, {"side.txt": b"side\n"}, "Side work")
    git(repo, "switch", "-q", "main")
    commit(repo, {"main.txt": b"main\n"}, "Main work")
    git(repo, "merge", "-q", "--no-edit", "side")
    merged = client.get(f"/commit/{git(repo, 'rev-parse', 'HEAD')}").text
    assert "shown against its first parent" in merged
    assert "side.txt" in merged and "main.txt" not in merged


def test_hostile_names_messages_and_contents_are_escaped(repo: Path, client: TestClient) -> None:
    sid = new_session(repo, f"Title {SCRIPT}")
    name = "<img src=x onerror=alert(1)>.py"
    body = b"x = '</td></table><script>alert(1)</script>'\n\x1b[2J\x1b]0;owned\x07\rhidden\n"
    message = f"Subject {SCRIPT}\x1b[8m\n\nBody <img src=x onerror=alert(2)>\x1b]0;x\x07"
    sha = commit(repo, {name: body}, message)
    page = client.get(f"/commit/{sha}")
    assert page.status_code == 200
    text = page.text
    no_raw_html(text)
    assert "Subject &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in text
    assert "&lt;/td&gt;&lt;/table&gt;&lt;script&gt;" in text.replace('<span class="o">', "")
    shown = re.sub(r"<[^>]+>", "", text)
    assert "␛[2J" in shown and "␍hidden" in shown  # control characters shown, not acted on
    # The session page's commit entry: its subject escaped inside the link.
    session_page = client.get(f"/s/{sid}").text
    assert f'href="/commit/{sha}"' in session_page
    no_raw_html(session_page, controls=False)  # (the entry itself is the session page's)


def test_a_huge_diff_is_cut_and_a_binary_file_named(repo: Path, client: TestClient) -> None:
    new_session(repo, "Big change")
    big = b"".join(b"line %07d of a generated file\n" % n for n in range(180_000))  # 5.6 MB
    one_line = b"y" * 3_000_000 + b"\n"
    binary = bytes(range(256)) * 64 + b"\0BINARY-MARKER\0"
    sha = commit(
        repo,
        {"a_line.txt": one_line, "b_big.txt": big, "c_blob.bin": binary, "d_last.txt": b"end\n"},
        "A lot",
    )
    page = client.get(f"/commit/{sha}")
    assert page.status_code == 200
    text = page.text
    assert len(page.content) < 4_000_000  # bounded: a page, not the 8.6 MB diff
    assert "4 files changed" in text and "+180002" in text  # every file counted
    assert "line 0000000 of a generated file" in text
    assert "line 0179999" not in text and "This file's diff was cut" in text
    assert "y" * 2_000 + "…" in text and "y" * 2_001 not in text  # one long line: its start
    assert "Binary file: not shown." in text and "BINARY-MARKER" not in text
    assert "d_last.txt" in text


def test_a_diff_over_the_page_budget_lists_the_rest(repo: Path, client: TestClient) -> None:
    new_session(repo, "Many files")
    files = {f"f{n:03}.txt": b"".join(b"%d\n" % i for i in range(4_000)) for n in range(60)}
    sha = commit(repo, files, "Sixty files")
    text = client.get(f"/commit/{sha}").text
    assert "60 files changed" in text
    assert "it was cut after" in text
    assert "Not shown: the diff was cut before this file." in text
    assert 'href="#file-59"' in text  # every file listed


def test_renames_and_type_changes_keep_each_file_its_own_patch(
    repo: Path, client: TestClient
) -> None:
    """git writes a file that became a symlink as two patches: the files after it still
    show their own lines."""
    new_session(repo, "Moves")
    commit(
        repo,
        {"a_link": b"a plain file\n", "b_old.txt": b"kept\n", "c_after.py": b"x = 1\n"},
        "Start",
    )
    (repo / "a_link").unlink()
    (repo / "a_link").symlink_to("c_after.py")
    git(repo, "mv", "b_old.txt", "b_new.txt")
    git(repo, "add", "a_link")
    sha = commit(repo, {"c_after.py": b"x = 2\n"}, "Move things")
    text = client.get(f"/commit/{sha}").text
    sections = {
        re.sub(r"<[^>]+>", "", part.split("</h3>", 1)[0]): part
        for part in text.split('<section class="file"')[1:]
    }
    link, moved, after = (sections[k] for k in sorted(sections))
    assert "type changed" in link and "c_after.py" in re.sub(r"<[^>]+>", "", link)
    assert "b_old.txt → b_new.txt" in re.sub(r"<[^>]+>", "", moved).replace("&gt;", ">")
    assert "No changed lines (a rename or a mode change)." in moved
    plain = re.sub(r"<[^>]+>", "", after)
    assert "−x = 1" in plain and "+x = 2" in plain and "a plain file" not in plain


@pytest.mark.parametrize(
    "bad",
    [
        "--output=x",
        "-p",
        "HEAD",
        "main",
        "zzzzzzz",
        "abc",  # too short to be a sha
        "0" * 40,  # not here
        "%2e%2e",
        "..%2f..%2fetc%2fpasswd",
        "%2d%2doutput=x",
        "HEAD~1",
        "deadbeef%0a--output=x",
        "a" * 65,
    ],
)
def test_what_is_not_a_commit_here_is_a_404(repo: Path, client: TestClient, bad: str) -> None:
    answer = client.get(f"/commit/{bad}")
    assert answer.status_code == 404, bad
    assert "Not found" in answer.text
    assert not (repo / "x").exists() and not (repo / "git").exists()


def test_a_blob_tree_or_tag_sha_is_a_404(repo: Path, client: TestClient) -> None:
    blob = git(repo, "rev-parse", "HEAD:README.md")
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    git(repo, "tag", "-a", "-m", "v1", "v1")
    tag = git(repo, "rev-parse", "v1")
    for sha in (blob, tree, tag):
        answer = client.get(f"/commit/{sha}")
        assert answer.status_code == 404 and "hello" not in answer.text


def test_a_branch_named_like_a_sha_does_not_win(repo: Path, client: TestClient) -> None:
    """A short hex that a branch also names: the page is about the object, or nothing."""
    commit(repo, {"other.txt": b"other\n"}, "Other")
    git(repo, "branch", "cafe123", "HEAD~1")
    answer = client.get("/commit/cafe123")
    assert answer.status_code == 404


# -- a session's whole diff ---------------------------------------------------------------


def test_the_session_diff_is_its_branch_since_it_started(repo: Path, client: TestClient) -> None:
    commit(repo, {"before.txt": b"before\n"}, "Before the session")
    sid = new_session(repo, "Two commits")
    commit(repo, {"one.py": b"one = 1\n"}, "One")
    commit(repo, {"two.py": b"two = 2\n", "before.txt": b"changed\n"}, "Two")
    page = client.get(f"/s/{sid}/diff")
    assert page.status_code == 200
    text = page.text
    assert "2 commits" in text and "3 files changed" in text
    assert "one.py" in text and "two.py" in text and "before.txt" in text
    assert '<td class="code">−before</td>' in text
    base = json.loads(git(repo, "cat-file", "blob", f"refs/sessions/{sid}:session.json"))["base"]
    assert f'href="/commit/{base}"' in text
    assert f'href="/s/{sid}/diff"' in client.get(f"/s/{sid}").text


def test_without_a_base_the_diff_starts_where_the_branch_left(
    repo: Path, client: TestClient
) -> None:
    sid = new_session(repo, "Imported")
    commit(repo, {"mine.txt": b"mine\n"}, "Mine")
    git(repo, "switch", "-q", "main")
    commit(repo, {"later.txt": b"later on main\n"}, "Main moved on")
    forge(repo, sid, {"base": None}, [{"type": "message", "role": "user", "content": "hi"}])
    text = client.get(f"/s/{sid}/diff").text
    assert "mine.txt" in text and "later.txt" not in text and "1 commit." in text
    # compare reads the same range: numbers where there were none.
    row = run_cli(repo, "compare", sid, "--json").json()[0]
    assert (row["commits"], row["files_changed"], row["insertions"]) == (1, 1, 1)


def test_a_session_without_code(repo: Path, client: TestClient) -> None:
    sid = new_session(repo, "Talk only")
    assert "No changes since it started." in client.get(f"/s/{sid}/diff").text
    git(repo, "switch", "-q", "main")
    branch = json.loads(git(repo, "cat-file", "blob", f"refs/sessions/{sid}:session.json"))
    git(repo, "branch", "-q", "-D", branch["branch"])
    text = client.get(f"/s/{sid}/diff").text
    assert "there is no code to show" in text
    assert client.get("/s/nosuchsession/diff").status_code == 404


def test_a_hostile_branch_name_is_escaped(repo: Path, client: TestClient) -> None:
    sid = new_session(repo, "Branchy")
    forge(repo, sid, {"branch": f"session/x{SCRIPT}\x1b[31m"}, [])
    for path in (f"/s/{sid}/diff", f"/s/{sid}/tree", f"/compare?a={sid}&b={sid}"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        no_raw_html(answer.text)


# -- the fork tree and compare ---------------------------------------------------------


def family(repo: Path) -> dict[str, str]:
    """root -> (a -> a2), (b)."""
    ids = {}
    result = run_cli(repo, "new", f"Root {SCRIPT}", "--no-checkout", "--json")
    ids["root"] = str(result.json()["id"])
    ok(run_cli(repo, "record", ids["root"], "--role", "user", "first"))
    for name, source in (("a", "root"), ("b", "root"), ("a2", "a")):
        result = run_cli(
            repo, "fork", ids[source], "--title", f"Try {name}", "--no-checkout", "--json"
        )
        ok(result)
        ids[name] = str(result.json()["id"])
    return ids


def tree_items(page: str) -> list[str]:
    block = page.split('<ul class="tree">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<li class="([^"]*)">', block)


def test_the_fork_tree_on_the_session_page(repo: Path, client: TestClient) -> None:
    ids = family(repo)
    page = client.get(f"/s/{ids['a']}").text
    assert tree_items(page) == ["depth-0", "depth-1 current", "depth-2", "depth-1"]
    for sid in ids.values():
        assert f'<a class="node" href="/s/{sid}">' in page
    assert f'href="/compare?a={ids["a"]}&amp;b={ids["b"]}"' in page
    assert f'href="/compare?a={ids["a"]}&amp;b={ids["a"]}"' not in page  # not with itself
    no_raw_html(page)
    tree = client.get(f"/s/{ids['a2']}/tree").text
    assert tree_items(tree) == ["depth-0", "depth-1", "depth-2 current", "depth-1"]
    alone = run_cli(repo, "new", "Alone", "--no-checkout", "--json").json()["id"]
    assert '<ul class="tree">' not in client.get(f"/s/{alone}").text
    assert "has no forks" in client.get(f"/s/{alone}/tree").text


def test_a_missing_parent_is_a_placeholder(repo: Path, client: TestClient) -> None:
    ids = family(repo)
    ok(run_cli(repo, "delete", ids["root"]))
    page = client.get(f"/s/{ids['b']}/tree").text
    assert '<span class="node missing" title="not in this repository' in page
    assert f"{ids['root']} (not here)" in page
    assert f'href="/s/{ids["root"]}"' not in page


def test_compare_two_attempts_side_by_side(repo: Path, client: TestClient) -> None:
    result = run_cli(repo, "try", f"Dark {SCRIPT}", "-n", "2", "--json")
    ok(result)
    one, two = (str(row["id"]) for row in result.json())
    ok(run_cli(repo, "record", one, "--role", "user", "make it dark"))
    ok(run_cli(repo, "record", two, "--role", "user", "use a <b>theme</b>"))
    git(
        repo,
        "switch",
        "-q",
        json.loads(git(repo, "cat-file", "blob", f"refs/sessions/{one}:session.json"))["branch"],
    )
    ok(run_cli(repo, "hooks", "install"))
    commit(repo, {"dark.css": b"body { color: white }\n"}, "Dark")
    page = client.get(f"/s/{one}").text
    assert f'href="/compare?a={one}&amp;b={two}"' in page  # the task's other attempt
    answer = client.get(f"/compare?a={one}&b={two}")
    assert answer.status_code == 200
    text = answer.text
    no_raw_html(text)
    assert "make it dark" in text and "use a &lt;b&gt;theme&lt;/b&gt;" in text
    sides = text.split('<div class="side">')[1:3]
    assert one in sides[0] and two in sides[1]
    assert '<td class="num">1</td>' in sides[0]  # one commit, one file
    assert '<span class="ins">+1</span>' in sides[0] and '<span class="ins">+0</span>' in sides[1]
    assert client.get(f"/compare?a={one}&b=nosuchsession").status_code == 404
    picker = client.get(f"/compare?a={one}").text
    assert f'<option value="{one}" selected>' in picker and '<div class="side">' not in picker


# -- a real browser --------------------------------------------------------------------


@pytest.fixture
def chromium() -> str:
    """Debian's chromium and playwright, or a skip that says which is missing."""
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium): browser test skipped")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]'): browser test skipped")
    return found


@pytest.fixture
def served(repo: Path) -> Iterator[str]:
    """The real `gitsess serve` in ``repo``: the address it prints on its first line."""
    proc = subprocess.Popen(
        [shutil.which("gitsess") or "gitsess", "serve", "--no-open", "--port", "0"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_browser_follows_a_commit_link_to_its_diff(
    chromium: str, served: str, repo: Path
) -> None:
    from playwright.sync_api import sync_playwright

    sid = new_session(repo, "Browser work")
    sha = commit(repo, {"app.py": b"import os\nprint(os.name)\n"}, f"Add app {SCRIPT}")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--headless=new"]
        )
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(served)  # trades the token for a cookie
            page.goto(served.split("/?")[0] + f"/s/{sid}")
            page.click("a.commit-link")
            page.wait_for_url(f"**/commit/{sha}")
            assert page.locator("h1").inner_text() == f"Add app {SCRIPT}"
            assert page.locator("section.file h3").inner_text().startswith("app.py")
            keyword = page.locator("table.diff span.kn").first
            assert keyword.inner_text() == "import"
            # Coloured by the static stylesheet (the CSP lets no inline style through).
            assert keyword.evaluate("e => getComputedStyle(e).fontWeight") == "700"
            assert page.locator("tr.add").count() == 2
            assert dialogs == []
        finally:
            browser.close()
