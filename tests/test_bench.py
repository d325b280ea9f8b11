"""`make bench` itself: a tiny run prints the figures' table and the scale table (a row per
command, a column per session count, each cell gitsess against its floor), so the bench
that the performance page quotes does not rot between the runs that take an hour."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import gitsess_exe

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


def test_a_small_bench_prints_both_tables(tmp_path: Path) -> None:
    path = f"{Path(gitsess_exe()).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "TMPDIR": str(tmp_path)}  # its repositories go here
    argv = [sys.executable, str(BENCH), "--only", "version,scale-list"]
    argv += ["--scale-sizes", "30,60", "--repeat", "1", "--json"]
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {f["sessions"] for f in json.loads(proc.stdout)["figures"]} == {None, 30, 60}
    saved = tmp_path.parent / f"{tmp_path.name}-bench.json"
    saved.write_text(proc.stdout)
    # The tables, printed from the saved run (as the performance page is assembled).
    shown = [sys.executable, str(BENCH), "--from-json", str(saved)]
    proc = subprocess.run(shown, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "| gitsess --version " in out
    header = next(line for line in out.splitlines() if line.startswith("| command "))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "command",
        "floor",
        "goal",
        "30 sessions",
        "60 sessions",
    ]
    rows = {
        line.split("|")[1].strip(): line
        for line in out.splitlines()
        if line.startswith("| list") or line.startswith("| show")
    }
    for row in (
        "list (default page), loose refs",
        "list --json, cold cache, packed refs",
        "list --all (the table, in a pipe), packed refs",
        "show PREFIX (a prefix), packed refs",
    ):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", rows[row].strip().strip("|"))]
        assert len(cells) == 5 and all(" vs " in c and c.endswith(("x", "!")) for c in cells[3:])
    assert "30 packed: list --json (cold)" in out  # the memory table
    assert list(tmp_path.iterdir()) == []  # and its repositories are removed
