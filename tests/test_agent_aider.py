"""aider's .aider.chat.history.md, written the way aider's io.py writes it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import FormatError, detect
from gitsess.agents.aider import FILE_NAME, FORMAT
from gitsess.model import normalize_entry

from .conftest import CORPUS, session_ids

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class History:
    """A chat history file grown by the calls aider's InputOutput makes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.chunks: list[str] = []

    def append(self, text: str, linebreak: bool = False, blockquote: bool = False) -> None:
        if blockquote:
            text = "> " + text.strip()
        if linebreak:
            text = text.rstrip() + "  \n"
        if not text.endswith("\n"):
            text += "\n"
        self.chunks.append(text)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def start(self, when: str) -> None:
        self.append(f"\n# aider chat started at {when}\n\n")

    def user_input(self, text: str) -> None:
        lines = text.splitlines() if text else ["<blank>"]
        self.append("\n#### " + "  \n#### ".join(lines), linebreak=True)

    def ai_output(self, content: str) -> None:
        self.append("\n" + content.strip() + "\n\n")

    def tool_output(self, message: str) -> None:
        if "\n" in message:  # tool_error and tool_warning: a quoted line each
            for line in message.splitlines():
                self.append(line, linebreak=True, blockquote=True)
        else:
            self.append(message, linebreak=True, blockquote=True)

    def confirm(self, question: str, answer: str) -> None:
        self.append(f"{question.strip()} {answer}", linebreak=True, blockquote=True)


REPLY = """To add the flag, change `cli.py`:

cli.py
```python
<<<<<<< SEARCH
#### Usage
> quoted in code
=======
parser.add_argument("--verbose", action="store_true")
>>>>>>> REPLACE
```

Then run the tests."""


def two_chats(path: Path) -> History:
    h = History(path)
    h.start("2024-05-10 14:02:11")
    h.tool_output("/usr/local/bin/aider --model gpt-4o")
    h.tool_output("Aider v0.50.1")
    h.tool_output("Main model: gpt-4o with diff edit format")
    h.tool_output("Git repo: .git with 12 files")
    h.user_input("/add cli.py")
    h.tool_output("Added cli.py to the chat")
    h.user_input("add a --verbose flag\nand document it")
    h.ai_output(REPLY)
    h.tool_output("Tokens: 2.1k sent, 180 received. Cost: $0.0071 message, $0.0071 session.")
    h.tool_output("Applied edit to cli.py")
    h.tool_output("Commit 3f2a1b9 feat: add --verbose flag")
    h.user_input("/run pytest -q")
    h.tool_output("..F\n1 failed, 2 passed")
    h.confirm("Add command output to the chat? (Y)es/(N)o [Yes]:", "y")
    h.user_input("")
    h.start("2024-05-11 09:00:00")
    h.user_input("thanks")
    h.ai_output("You're welcome.")
    h.ai_output("Anything else?")
    return h


def check_entries(entries: list[dict[str, Any]]) -> None:
    assert [e["id"] for e in entries] == [f"aider:{n}" for n in range(len(entries))]
    for entry in entries:
        assert ID_RE.match(entry["id"])
        assert normalize_entry(entry) == entry
        assert entry["source"]["format"] == "aider"


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_two_chats(tmp_path: Path, new_york: None) -> None:
    path = tmp_path / FILE_NAME
    two_chats(path)
    conversation = FORMAT.parse(path)
    entries = conversation.entries
    check_entries(entries)
    assert conversation.meta == {"chats": 2}
    shape = [(e["type"], e.get("role") or e.get("name")) for e in entries]
    assert shape == [
        ("event", "session_start"),
        ("event", "tool_output"),
        ("message", "user"),
        ("event", "tool_output"),
        ("message", "user"),
        ("message", "assistant"),
        ("event", "tool_output"),
        ("message", "user"),
        ("event", "tool_output"),
        ("message", "user"),
        ("event", "session_start"),
        ("message", "user"),
        ("message", "assistant"),
    ]
    assert entries[0]["data"] == {"started_at": "2024-05-10 14:02:11"}
    assert entries[0]["ts"] == "2024-05-10T18:02:11.000Z"  # local time, New York in May
    assert {e["ts"] for e in entries[:10]} == {entries[0]["ts"]}
    assert entries[10]["ts"] == entries[11]["ts"] == "2024-05-11T13:00:00.000Z"
    assert entries[1]["data"]["text"].splitlines() == [
        "/usr/local/bin/aider --model gpt-4o",
        "Aider v0.50.1",
        "Main model: gpt-4o with diff edit format",
        "Git repo: .git with 12 files",
    ]
    assert entries[2]["content"] == "/add cli.py"
    assert entries[4]["content"] == "add a --verbose flag\nand document it"
    assert entries[5]["content"] == REPLY  # the code block's '#### ' and '> ' lines are its own
    assert entries[6]["data"]["text"].startswith("Tokens: 2.1k sent")
    assert entries[6]["data"]["text"].endswith("Commit 3f2a1b9 feat: add --verbose flag")
    assert entries[8]["data"]["text"] == (
        "..F\n1 failed, 2 passed\nAdd command output to the chat? (Y)es/(N)o [Yes]: y"
    )
    assert (entries[9]["content"], entries[9]["meta"]) == ("", {"blank": True})
    assert entries[12]["content"] == "You're welcome.\n\n\nAnything else?"  # two replies, one run
    assert [e["source"]["id"] for e in entries[:3]] == ["L2", "L4", "L9"]
    assert FORMAT.parse(path).entries == entries


def test_counts_match_the_file(tmp_path: Path) -> None:
    """Every prompt, note block and start line of the file is an entry, once."""
    path = tmp_path / FILE_NAME
    two_chats(path)
    lines = path.read_text().splitlines()
    entries = FORMAT.parse(path).entries
    starts = [n for n, line in enumerate(lines) if line.startswith("# aider chat started at ")]
    assert len([e for e in entries if e.get("name") == "session_start"]) == len(starts)
    prompts = [
        n
        for n, line in enumerate(lines)
        if line.startswith("#### ") and line.endswith("  ") and not lines[n - 1].startswith("####")
    ]
    users = [e for e in entries if e["type"] == "message" and e["role"] == "user"]
    assert [e["source"]["id"] for e in users] == [f"L{n + 1}" for n in prompts]
    quoted = [line[2:].rstrip() for line in lines if line.startswith("> ") and line.endswith("  ")]
    noted = "\n".join(e["data"]["text"] for e in entries if e.get("name") == "tool_output")
    for text in quoted:
        assert noted.count(text) == 1


def test_every_write_keeps_the_ids(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    chunks = two_chats(tmp_path / "full.md").chunks
    final = FORMAT.parse(tmp_path / "full.md").entries
    for n in range(1, len(chunks) + 1):
        path.write_text("".join(chunks[:n]))
        entries = FORMAT.parse(path).entries
        for entry in entries[:-1]:  # all but the last are final once written
            assert final[int(entry["id"].split(":")[1])] == entry
        last = entries[-1]
        assert (last["id"], last["type"]) == (
            final[len(entries) - 1]["id"],
            final[len(entries) - 1]["type"],
        )


def test_interrupted_reply_with_an_open_code_block(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    h = History(path)
    h.start("2024-05-10 14:02:11")
    h.user_input("write a script")
    h.ai_output("Here:\n\n```bash\necho hi\n#### not a prompt")
    h.tool_output("^C KeyboardInterrupt")
    h.user_input("try again")
    entries = FORMAT.parse(path).entries
    shape = [(e["type"], e.get("role") or e.get("name")) for e in entries]
    assert shape == [
        ("event", "session_start"),
        ("message", "user"),
        ("message", "assistant"),
        ("event", "tool_output"),
        ("message", "user"),
    ]
    assert entries[2]["content"].endswith("#### not a prompt")
    assert entries[4]["content"] == "try again"


def test_hand_written_file_without_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "chat.md"
    path.write_text(
        "# aider chat started at 2025-01-02 03:04:05\n\n#### hello\n\nHi there!\n\n> Tokens: 1k\n"
    )
    entries = FORMAT.parse(path).entries
    assert [(e["type"], e.get("content", e.get("data"))) for e in entries] == [
        ("event", {"started_at": "2025-01-02 03:04:05"}),
        ("message", "hello"),
        ("message", "Hi there!"),
        ("event", {"text": "Tokens: 1k"}),
    ]


def test_odd_start_time_and_text_before_the_first_chat(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text("stray text\n\n#### hi  \n\n# aider chat started at sometime\n\n#### again  \n")
    entries = FORMAT.parse(path).entries
    check_entries(entries)
    assert entries[0]["content"] == "stray text" and entries[1]["content"] == "hi"
    assert entries[2]["data"] == {"started_at": "sometime"}
    assert len({e["ts"] for e in entries}) == 1  # the file's mtime throughout


def test_sniff() -> None:
    history = b"\n# aider chat started at 2024-05-10 14:02:11\n\n#### hi  \n"
    assert FORMAT.sniff(Path("notes.md"), history)
    assert FORMAT.sniff(Path("/x") / FILE_NAME, b"")
    assert not FORMAT.sniff(Path("README.md"), b"# My project\n\n#### Usage\n")
    assert not FORMAT.sniff(Path("x.jsonl"), b'{"gitsess": 1}\n')
    if not CORPUS.is_dir():
        pytest.skip("corpus not present")
    others = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert others
    for other in others:
        assert not FORMAT.sniff(other, other.read_bytes()[:65536]), other


def test_detected_among_all_formats(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    two_chats(path)
    renamed = tmp_path / "history.md"
    renamed.write_bytes(path.read_bytes())
    for candidate in (path, renamed):
        try:
            assert detect(candidate).name == "aider"
        except ModuleNotFoundError as exc:  # another format's module is not written yet
            pytest.skip(str(exc))


def test_import_end_to_end(repo: Path, gs, tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    two_chats(path)
    result = gs("import", str(path), "--format", "aider", "--no-checkout", "--json")
    assert result.code == 0, result.err
    shown = gs("show", result.json()["id"], "--json").json()
    assert shown["entries"] == [normalize_entry(e) for e in FORMAT.parse(path).entries]
    assert shown["session"]["title"] == "/add cli.py"
    assert shown["session"]["agent"] == "aider"


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"", "no aider chat"),
        (b"\n\n   \n", "no aider chat"),
        (b"# aider chat started at 2024-05-10 14:02:11\n\xff\xfe\x00garbage", "line 2"),
        (b"#### hi  \n\x00\x01\x02", "line 2"),
        (b"# Notes\n\nJust a Markdown file.\n", "not an aider chat"),
    ],
)
def test_garbage_is_an_error_and_creates_nothing(
    repo: Path, gs, tmp_path: Path, content: bytes, where: str
) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    with pytest.raises(FormatError, match=where):
        FORMAT.parse(path)
    result = gs("import", str(path), "--format", "aider")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and str(path) in result.err
    assert session_ids(repo) == []
