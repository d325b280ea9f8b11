"""Test fixtures: real git repositories in isolated homes, and ways to run gitsess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitsess.__main__ import main

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BIN_DIR = Path(sys.executable).parent
# GITSESS_SOAK=1 runs the proofs (concurrency, crashes, fuzzing) at full size; see
# docs/reliability.md#how-we-know-it-doesnt-lose-data.
SOAK = os.environ.get("GITSESS_SOAK", "") not in ("", "0")


def soak(default: int, large: int) -> int:
    """A size for a proof: ``default`` in `make test`, ``large`` in a soak run."""
    return large if SOAK else default


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def git(cwd: Path, *args: str, check: bool = True, input: str | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, input=input, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def hash_blob(repo: Path, data: bytes) -> str:
    """Write ``data`` as a blob, byte for byte (any bytes: `git` above takes text)."""
    path = repo / ".git" / "forged-blob"
    path.write_bytes(data)
    try:
        return git(repo, "hash-object", "-w", str(path))
    finally:
        path.unlink()


def forge_log(repo: Path, sid: str, change: dict[str, Any], lines: list[bytes]) -> str:
    """What a teammate's push could bring: a log commit on top of session ``sid``'s with its
    session.json changed by ``change`` and ``lines`` as its whole log, written with git's
    plumbing (nothing gitsess would check on the way). Returns the commit."""
    ref = f"refs/sessions/{sid}"
    meta_obj = {**json.loads(git(repo, "cat-file", "blob", f"{ref}:session.json")), **change}
    meta_blob = hash_blob(repo, json.dumps(meta_obj).encode())
    log_blob = hash_blob(repo, b"".join(line + b"\n" for line in lines))
    log_tree = git(repo, "mktree", input=f"100644 blob {log_blob}\t00000000.jsonl\n")
    tree = git(
        repo,
        "mktree",
        input=f"100644 blob {meta_blob}\tsession.json\n040000 tree {log_tree}\tlog\n",
    )
    old = git(repo, "rev-parse", ref)
    message = f"append\n\nSession: {sid}\nEntries: {len(lines)}\n"
    tip = git(repo, "commit-tree", tree, "-p", old, input=message)
    git(repo, "update-ref", ref, tip, old)
    return tip


def git_proc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git's whole outcome (status, stdout, stderr), for tests that look at all of it."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def fsck(repo: Path) -> None:
    proc = git_proc(repo, "fsck", "--strict", "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stderr and "warning" not in proc.stderr, proc.stderr


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A home of its own: the developer's git config never leaks into a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Ada Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "ada@example.com")
    monkeypatch.setenv("NO_COLOR", "1")
    # Hooks record commits in the background; tests look right after a commit.
    monkeypatch.setenv("GITSESS_HOOKS_FOREGROUND", "1")
    monkeypatch.setenv("COLUMNS", "200")
    # A test at a pty reads what the terminal shows, not a pager waiting for a key; the
    # pager has tests of its own (test_output.py), which set the pager they want.
    monkeypatch.setenv("GIT_PAGER", "cat")
    monkeypatch.delenv("GITSESS_DEBUG", raising=False)
    monkeypatch.setenv("PATH", f"{BIN_DIR}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(["git", "config", "--global", "init.defaultBranch", "main"], check=True)
    return home


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / "README.md").write_text("hello\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A repository with one commit. Every test leaves it `git fsck --strict` clean."""
    path = make_repo(tmp_path / "repo")
    yield path
    fsck(path)


@pytest.fixture
def gs(repo: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run gitsess in-process in ``repo`` (or ``cwd=``), returning code, stdout and stderr."""

    def run(*args: str, cwd: Path | None = None, stdin: str | bytes | None = None) -> Result:
        capsys.readouterr()
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            import io

            fake = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
            old, sys.stdin = sys.stdin, fake
        try:
            code = main(["-C", str(cwd or repo), *args])
        finally:
            if stdin is not None:
                sys.stdin = old
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def gitsess_exe() -> str:
    found = shutil.which("gitsess", path=str(BIN_DIR)) or shutil.which("gitsess")
    assert found, "gitsess is not installed in the test environment"
    return found


def run_cli(
    cwd: Path, *args: str | bytes, stdin: bytes | None = None, program: str | None = None
) -> Result:
    """Run the installed gitsess in a subprocess, as a user would."""
    proc = subprocess.run(
        [program or gitsess_exe(), *args], cwd=cwd, input=stdin, capture_output=True, check=False
    )
    return Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Claude Code's and Codex's home folders in the test's own directory (their
    environment variables pointed there): where `resume --agent` writes transcripts."""
    claude, codex = tmp_path / "claude-config", tmp_path / "codex-home"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    return {"claude-code": claude, "codex": codex}


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A real bare repository, the remote of `work`."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    return bare


@pytest.fixture
def work(tmp_path: Path, origin: Path) -> Path:
    """A repository whose `origin` is the bare ``origin``, with main pushed there."""
    path = make_repo(tmp_path / "work")
    git(path, "remote", "add", "origin", str(origin))
    git(path, "push", "-q", "origin", "main")
    return path


def remote_objects(bare: Path) -> bytes:
    """Every object a repository holds, contents included (packed ones uncompressed): what
    a remote really received, whatever gitsess reported."""
    proc = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=bare,
        capture_output=True,
        check=True,
    )
    return proc.stdout


def session_ids(repo: Path) -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname:strip=2)", "refs/sessions/")
    return out.splitlines() if out else []


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").splitlines()


def log_lines(repo: Path, session_id: str) -> list[dict[str, Any]]:
    tree = git(repo, "ls-tree", "--name-only", f"refs/sessions/{session_id}:log", check=False)
    entries = []
    for name in tree.splitlines():
        blob = git(repo, "cat-file", "blob", f"refs/sessions/{session_id}:log/{name}")
        entries += [json.loads(line) for line in blob.splitlines()]
    return entries


def meta(repo: Path, session_id: str) -> dict[str, Any]:
    return json.loads(git(repo, "cat-file", "blob", f"refs/sessions/{session_id}:session.json"))


def trash_logs(repo: Path) -> list[str]:
    """The log commits the trash keeps (deleted and redacted), from its own repository."""
    trash = repo / ".git" / "gitsess" / "trash.git"
    if not trash.exists():
        return []
    return git(repo, "--git-dir", str(trash), "for-each-ref", "--format=%(objectname)").split()
