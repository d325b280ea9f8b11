"""Importing a transcript again, or one capture already recorded: one session, what is new
appended (entry ids are stable across parses), and --new for a fresh session anyway."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gitsess.agents import get

from .conftest import CORPUS, log_lines, run_cli, session_ids
from .test_capture import hook, turn, write_transcript

CODEX = CORPUS / "codex"
CLAUDE = CORPUS / "claude-code" / "small-task-call.jsonl"


def corpus_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus")
    return path


def codex_rollout() -> Path:
    found = sorted(CODEX.glob("rollout-*.jsonl")) if CODEX.is_dir() else []
    if not found:
        pytest.skip("no Codex rollout in the corpus")
    return found[0]


def ids(repo: Path, sid: str) -> list[str]:
    return [e["id"] for e in log_lines(repo, sid)]


def test_importing_a_real_transcript_twice_makes_one_session(
    repo: Path, gs, tmp_path: Path
) -> None:
    source = codex_rollout()
    first = gs("import", str(source), "--no-checkout", "--json")
    assert first.code == 0, first.err
    made = first.json()
    assert made["existing"] is False and made["appended"] == made["entries"]
    before = ids(repo, made["id"])
    again = gs("import", str(source), "--no-checkout")
    assert again.code == 0, again.err
    assert again.out.startswith(f"Nothing new: session {made['id']}")
    assert "already imported" in again.out
    assert session_ids(repo) == [made["id"]]
    assert ids(repo, made["id"]) == before
    # The title names one session, so it still works as a reference.
    assert gs("show", made["title"], "--json").code == 0


def test_a_grown_real_transcript_appends_only_its_new_lines(repo: Path, gs, tmp_path: Path) -> None:
    source = codex_rollout()
    lines = source.read_bytes().splitlines(keepends=True)
    growing = tmp_path / source.name
    growing.write_bytes(b"".join(lines[: len(lines) // 2]))
    made = gs("import", str(growing), "--no-checkout", "--json").json()
    early = set(ids(repo, made["id"]))
    growing.write_bytes(b"".join(lines))  # the agent carried on
    full = [e["id"] for e in get("codex").parse(growing).entries]
    result = gs("import", str(growing), "--no-checkout", "--json")
    assert result.code == 0, result.err
    appended = result.json()
    new = [i for i in full if i not in early]
    assert new and appended["existing"] is True and appended["appended"] == len(new)
    assert appended["id"] == made["id"] and session_ids(repo) == [made["id"]]
    stored = ids(repo, made["id"])
    assert len(stored) == len(set(stored)) and set(stored) == set(full)
    assert stored[len(early) :] == new  # appended after what was there, in order


def test_a_built_transcript_imported_grown_and_forced_new(repo: Path, gs, tmp_path: Path) -> None:
    # gitsess's own format without a session id: recognised by the file's path.
    path = tmp_path / "chat.jsonl"
    write_transcript(path, turn(1))
    made = gs("import", str(path), "--no-checkout", "--json").json()
    write_transcript(path, turn(1) + turn(2))
    again = gs("import", str(path), "--no-checkout")
    assert again.code == 0, again.err
    assert again.out.startswith(f"Appended 2 new entries to session {made['id']}")
    assert ids(repo, made["id"]) == ["u1", "a1", "u2", "a2"]
    assert session_ids(repo) == [made["id"]]
    forced = gs("import", str(path), "--no-checkout", "--new", "--json")
    assert forced.code == 0, forced.err
    assert forced.json()["existing"] is False
    assert sorted(session_ids(repo)) == sorted([made["id"], forced.json()["id"]])
    assert ids(repo, forced.json()["id"]) == ["u1", "a1", "u2", "a2"]


def test_importing_what_capture_started_adds_nothing(repo: Path, gs, tmp_path: Path) -> None:
    transcript = tmp_path / "projects" / CLAUDE.name
    transcript.parent.mkdir()
    shutil.copy(corpus_file(CLAUDE), transcript)
    payload = {"transcript_path": str(transcript), "cwd": str(repo), "hook_event_name": "Stop"}
    assert hook(repo, payload, agent="claude-code").returncode == 0
    (sid,) = session_ids(repo)
    before = ids(repo, sid)
    # A copy elsewhere is the same conversation: the agent's session id says so.
    elsewhere = tmp_path / "copy.jsonl"
    shutil.copy(transcript, elsewhere)
    for path in (transcript, elsewhere):
        result = run_cli(repo, "import", str(path), "--json")
        assert result.code == 0, result.err
        assert result.json()["id"] == sid and result.json()["appended"] == 0
    assert session_ids(repo) == [sid] and ids(repo, sid) == before


def test_importing_what_capture_recorded_into_a_session_adds_nothing(
    repo: Path, gs, tmp_path: Path
) -> None:
    # Captured into a session made by hand (no `source`): the capture's note on the
    # transcript's path still leads to it.
    sid = gs("new", "By hand", "--json").json()["id"]
    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, turn(1))
    payload = {"transcript_path": str(transcript), "cwd": str(repo), "hook_event_name": "Stop"}
    assert hook(repo, payload).returncode == 0
    write_transcript(transcript, turn(1) + turn(2))
    result = gs("import", str(transcript), "--json")
    assert result.code == 0, result.err
    assert (result.json()["id"], result.json()["appended"]) == (sid, 2)
    assert session_ids(repo) == [sid] and ids(repo, sid) == ["u1", "a1", "u2", "a2"]
    assert json.loads(json.dumps(result.json()))["existing"] is True


def _without_ids(text: str) -> str:
    import re

    return re.sub(r"\b[0-9a-hjkmnp-tv-z]{10}\b", "ID", text)


def test_the_quick_route_and_click_import_alike(tmp_path: Path) -> None:
    """`import FILE` in its plain forms is answered without click (quick.py: the import is
    measured against json.loads of the transcript); the `--opt=value` spelling goes
    through click. Both print the same, fail the same and make the same session."""
    import subprocess
    import sys

    from .conftest import make_repo

    transcript = tmp_path / "t.jsonl"
    write_transcript(transcript, [*turn(1), *turn(2)])
    twice = tmp_path / "twice.jsonl"
    write_transcript(twice, turn(3))
    routes = {name: make_repo(tmp_path / name) for name in ("quick", "click")}
    pairs = [
        (["import", str(transcript)], ["import", f"--format={'gitsess'}", str(transcript)]),
        (["import", str(twice), "--json"], ["import", str(twice), "--json", "--format=gitsess"]),
        (["import", str(twice)], ["import", str(twice), "--title=From an agent"]),  # again
        (["import", str(twice), "--new", "--title", "T"],
         ["import", str(twice), "--new", "--title=T"]),
        (["import", str(tmp_path / "nosuch")],
         ["import", str(tmp_path / "nosuch"), "--format=gitsess"]),
        (["import", str(twice), "--title", ""], ["import", str(twice), "--title="]),
        (["import", str(twice), "--format", "nosuch"], ["import", str(twice), "--format=nosuch"]),
    ]  # fmt: skip
    kept = ("title", "entries", "existing", "appended", "status", "visibility", "source")

    def shown(result: Any, as_json: bool) -> tuple[object, ...]:
        if as_json:  # times, commits and ids differ between the two repositories
            made = json.loads(result.out)
            return result.code, sorted(made), [made[k] for k in kept], result.err
        return result.code, _without_ids(result.out), _without_ids(result.err)

    for quick, full in pairs:
        one, other = run_cli(routes["quick"], *quick), run_cli(routes["click"], *full)
        seen = [shown(r, "--json" in quick) for r in (one, other)]
        assert seen[0] == seen[1], (quick, seen)
    assert seen[0][0] == 2 and seen[0][-1].startswith("gitsess: unknown format 'nosuch'")
    listed = [json.loads(run_cli(r, "list", "--json").out) for r in routes.values()]
    assert [sorted((m["title"], m["entries"]) for m in rows) for rows in listed] == [
        [("From an agent", 2), ("From an agent", 4), ("T", 2)]
    ] * 2
    # The plain form really goes without click.
    probe = (
        "import sys; from gitsess.__main__ import main; sys.argv = ['gitsess', *sys.argv[1:]]\n"
        "code = main(); print('click' in sys.modules); sys.exit(code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, "import", str(transcript), "--new", "--no-checkout"],
        cwd=routes["quick"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "False"
