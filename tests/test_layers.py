"""The package's layers, as docs/design.md draws them: only gitsess/storage/ runs git.

Every other module reads and writes through the storage layer (Repository, the log store,
storage/history.py for the code's history, storage/remote.py for remotes), so a git command
line, its options and the parsing of its output live in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gitsess"
STORAGE = PACKAGE / "storage"
GIT_CALLS = {"run", "text", "spawn", "ok"}  # storage.git.Git's ways of running git


def _runs_git(node: ast.AST) -> str | None:
    """What in ``node`` runs git directly: `x.git.run(...)` and the like, or a command
    line that starts with "git" handed to subprocess."""
    if isinstance(node, ast.Call):
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in GIT_CALLS
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "git"
        ):
            return f".git.{func.attr}()"
        if node.args and isinstance(node.args[0], ast.List) and node.args[0].elts:
            first = node.args[0].elts[0]
            if isinstance(first, ast.Constant) and first.value == "git":
                return '["git", ...]'
    return None


def test_only_storage_runs_git() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if STORAGE in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            what = _runs_git(node)
            if what:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {what}")
    assert found == []


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    """The two forms are found (the test above is not passing for want of looking)."""
    sample = 'import subprocess\nrepo.git.text("log")\nsubprocess.run(["git", "log"])\n'
    found = [_runs_git(node) for node in ast.walk(ast.parse(sample))]
    assert [f for f in found if f] == [".git.text()", '["git", ...]']
