#!/usr/bin/env python3
"""Benchmark gitsess against its floors, side by side, in the same run.

Each figure times a real `gitsess` command (a subprocess, timed with
time.perf_counter around subprocess.run) and a floor: the cheapest thing
that does comparable work (starting Python, appending to a tiny log, parsing
the same JSONL, reading the same objects with git alone). The two are run
alternately and compared by their medians, so machine noise hits both.

Usage: python bench/bench.py [--quick] [--repeat N] [--sessions N]
[--share-sessions N] [--only KEYS] [--json] with the `gitsess` executable on
PATH. Everything happens in throwaway repositories under a temporary
directory, with HOME and git's configuration isolated from the user's. The
script reports; it never fails on a figure.

Adding a figure: write a function `(bench, figure) -> None` that builds what
it needs and calls `bench.compare(figure, gitsess_run, floor_run)`, and
register it with the `@figure(...)` decorator.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SMALL_LOG = 10
SHARED_ENTRIES = 3  # entries in each session of the push and fetch figures
TRACKING_ROOT = "refs/gitsess/remotes/"  # where gitsess keeps what it knows of remotes

Entry = dict[str, Any]


# -- figures -------------------------------------------------------------------


@dataclass
class Figure:
    """One line of the table: gitsess against its floor, with the goal for their ratio."""

    key: str
    title: str
    floor: str
    goal: float
    unit: str = "ms"  # samples are seconds shown as ms, or bytes shown as MB
    gitsess_samples: list[float] = field(default_factory=list)
    floor_samples: list[float] = field(default_factory=list)
    error: str | None = None
    size: int | None = None  # sessions, for a scale figure: a column of the scale table
    row: str = ""  # a scale figure's row of that table: its title without the size

    @property
    def scale(self) -> float:
        return 1000.0 if self.unit == "ms" else 1e-6

    @property
    def gitsess_ms(self) -> float | None:
        """The median of gitsess's samples, in the figure's unit (ms or MB)."""
        return (
            statistics.median(self.gitsess_samples) * self.scale if self.gitsess_samples else None
        )

    @property
    def floor_ms(self) -> float | None:
        return statistics.median(self.floor_samples) * self.scale if self.floor_samples else None

    @property
    def ratio(self) -> float | None:
        mine, floor = self.gitsess_ms, self.floor_ms
        if mine is None or not floor:
            return None
        return mine / floor

    @property
    def ok(self) -> bool | None:
        ratio = self.ratio
        return None if ratio is None or self.error else ratio <= self.goal

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "figure": self.title,
            "unit": self.unit,
            "gitsess_ms": _round(self.gitsess_ms),
            "floor": self.floor,
            "floor_ms": _round(self.floor_ms),
            "ratio": _round(self.ratio, 3),
            "goal": self.goal,
            "ok": self.ok,
            "runs": min(len(self.gitsess_samples), len(self.floor_samples)),
            "gitsess_samples_ms": [_round(s * self.scale, 3) for s in self.gitsess_samples],
            "floor_samples_ms": [_round(s * self.scale, 3) for s in self.floor_samples],
            "error": self.error,
            "sessions": self.size,
            "row": self.row,
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


FigureFn = Callable[["Bench", Figure], None]
F = TypeVar("F", bound=Callable[..., None])  # a figure function, kept as it is


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    floor: str
    goal: float
    run: FigureFn
    size: int | None = None  # sessions, for a figure of the scale table
    row: str = ""


FIGURES: list[Spec] = []


def figure(key: str, title: str, floor: str, goal: float) -> Callable[[F], F]:
    """Register a figure; `title` and `floor` may use {entries}, {small} and {sessions}."""

    def register(fn: F) -> F:
        FIGURES.append(Spec(key, title, floor, goal, fn))
        return fn

    return register


# -- running commands ----------------------------------------------------------


class CommandFailed(Exception):
    """A command the benchmark needs exited non-zero: reported as the figure's error."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: bytes) -> None:
        text = stderr.decode("utf-8", "replace").strip().splitlines()
        detail = text[-1] if text else "(no message)"
        super().__init__(f"`{' '.join(argv)}` exited {returncode}: {detail}")


@dataclass(frozen=True)
class Sizes:
    repeat: int
    heavy_repeat: int
    entries: int
    sessions: int
    shared: int
    transcript_mb: float = 3.5
    growth_mb: float = 10.0

    def fields(self) -> dict[str, str]:
        return {
            "transcript": f"{self.transcript_mb:g} MB",
            "growth": f"{self.growth_mb:g} MB",
            "many_sessions": f"{self.sessions * 10:,}",
            "entries": f"{self.entries:,}",
            "small": str(SMALL_LOG),
            "sessions": f"{self.sessions:,}",
            "shared": f"{self.shared:,}",
        }


Run = Callable[[], float]


class Bench:
    """The sandbox: a temporary root, an isolated environment and the executables."""

    def __init__(self, root: Path, gitsess: str, python: str, sizes: Sizes) -> None:
        self.root = root
        self.gitsess_exe = gitsess
        self.python = python
        self.sizes = sizes
        home = root / "home"
        home.mkdir()
        # A user's python reads compiled bytecode; with PYTHONDONTWRITEBYTECODE set (some
        # sandboxes do), an editable install would compile every module on every run.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GIT_", "GITSESS_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": "Bench Author",
                "GIT_AUTHOR_EMAIL": "author@bench.invalid",
                "GIT_COMMITTER_NAME": "Bench Committer",
                "GIT_COMMITTER_EMAIL": "committer@bench.invalid",
            }
        )
        self.env = env
        self._files: dict[int, Path] = {}
        self._shared: dict[int, Path] = {}
        self.current = ""
        self.notes: list[str] = []  # lines printed under the table
        self.memories: list[Memory] = []  # peak memory readings figures took on the way

    # -- output ----------------------------------------------------------------

    def progress(self, message: str) -> None:
        prefix = f"[{self.current}] " if self.current else ""
        print(f"bench: {prefix}{message}", file=sys.stderr, flush=True)

    # -- processes -------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        cwd: Path,
        *,
        input: bytes | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=self.env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
        )
        if proc.returncode != 0:
            raise CommandFailed(argv, proc.returncode, proc.stderr)
        return proc

    def timed(self, argv: Sequence[str], cwd: Path) -> float:
        """Seconds one run of ``argv`` takes, output discarded; a failure is an error."""
        start = time.perf_counter()
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise CommandFailed(argv, proc.returncode, proc.stderr)
        return elapsed

    def command(self, argv: Sequence[str], cwd: Path) -> Run:
        return lambda: self.timed(argv, cwd)

    def prepared(self, setup: Callable[[], object], argv: Sequence[str], cwd: Path) -> Run:
        """Like command(), but ``setup`` runs first, outside the timing, before every run."""

        def run() -> float:
            setup()
            return self.timed(argv, cwd)

        return run

    def git(self, *args: str, cwd: Path, input: bytes | None = None) -> str:
        out = self.run(["git", *args], cwd, input=input).stdout
        return out.decode("utf-8", "replace").rstrip("\n")

    def gitsess_json(self, *args: str, cwd: Path) -> Any:
        return json.loads(self.run([self.gitsess_exe, *args, "--json"], cwd).stdout)

    def compile_package(self) -> None:
        """Write gitsess's bytecode first, as pip does at install, so no run compiles it."""
        where = "import gitsess, os; print(os.path.dirname(gitsess.__file__))"
        package = self.run([self.python, "-c", where], self.root).stdout.decode().strip()
        self.run([self.python, "-m", "compileall", "-q", package], self.root)

    def python_floor(self, cwd: Path) -> Run:
        return self.command([self.python, "-c", "pass"], cwd)

    # -- fixtures --------------------------------------------------------------

    def new_repo(self, name: str) -> Path:
        """A repository with one commit on main, and nothing else."""
        repo = self.root / name
        repo.mkdir()
        self.git("init", "-q", "-b", "main", cwd=repo)
        (repo / "README.md").write_text("# bench\n")
        self.git("add", "README.md", cwd=repo)
        self.git("commit", "-q", "-m", "init", cwd=repo)
        return repo

    def new_session(self, repo: Path, title: str = "bench", checkout: bool = True) -> str:
        args = ["new", title] + ([] if checkout else ["--no-checkout"])
        return str(self.gitsess_json(*args, cwd=repo)["id"])

    def empty_repo(self, path: Path, *, bare: bool = False, origin: Path | None = None) -> Path:
        """A brand-new empty repository at ``path`` (whatever was there is removed)."""
        shutil.rmtree(path, ignore_errors=True)
        self.git("init", "-q", *(["--bare"] if bare else ["-b", "main"]), str(path), cwd=self.root)
        if origin is not None:
            self.git("remote", "add", "origin", str(origin), cwd=path)
        return path

    def shared_repo(self, count: int) -> Path:
        """A repository of ``count`` shared sessions (see make_shared_sessions), made once."""
        if count not in self._shared:
            repo = self.new_repo(f"shared-{count}")
            self.progress(f"creating {count:,} shared sessions")
            make_shared_sessions(self, repo, count)
            listed = self.gitsess_json("list", "--all", cwd=repo)
            shared = sum(1 for row in listed if row.get("visibility") == "shared")
            if shared != count or len(listed) != count:
                detail = f"{shared} shared sessions of {len(listed)}, not {count}"
                raise CommandFailed(["gitsess", "list", "--all"], 0, detail.encode())
            self._shared[count] = repo
        return self._shared[count]

    def entries_file(self, count: int) -> Path:
        """A JSONL file of ``count`` realistic entries (the same ones for a given count)."""
        if count not in self._files:
            path = self.root / f"entries-{count}.jsonl"
            with path.open("w", encoding="utf-8") as handle:
                for entry in make_entries(count):
                    handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._files[count] = path
        return self._files[count]

    # -- measuring -------------------------------------------------------------

    def compare(
        self, fig: Figure, mine: Run, floor: Run, repeat: int | None = None, warmup: int = 1
    ) -> None:
        """Run ``mine`` and ``floor`` alternately (ABBA order), ``repeat`` times each."""
        repeat = self.sizes.repeat if repeat is None else repeat
        for _ in range(warmup):
            mine()
            floor()
        for index in range(repeat):
            pair = ((mine, fig.gitsess_samples), (floor, fig.floor_samples))
            for run, samples in pair if index % 2 == 0 else reversed(pair):
                samples.append(run())
            if repeat >= 5 and (index + 1) % max(1, repeat // 3) == 0 and index + 1 < repeat:
                self.progress(f"{index + 1}/{repeat} runs")


# -- realistic entries ---------------------------------------------------------

_WORD_TEXT = (
    "the session log segment commit branch tree blob ref update append entry "
    "test tests failed passed error warning module import config parser value "
    "return function class method request response handler fixture assert retry "
    "timeout lock cache index worktree diff patch line file path read write json "
    "schema field model user agent tool call result output input check build "
    "install package version release migrate database query table column row "
    "should would could now then first next because so if not and or with from"
)
WORDS = _WORD_TEXT.split()
FILES = (
    "src/app/models.py",
    "src/app/views.py",
    "src/app/storage/log.py",
    "tests/test_models.py",
    "tests/test_storage.py",
    "README.md",
    "pyproject.toml",
    "src/app/cli.py",
    "docs/SPEC.md",
)
COMMANDS = (
    "pytest -q tests/test_storage.py",
    "git status --short",
    "ruff check src tests",
    "python -m mypy src",
    "git diff --stat HEAD~1",
    "ls -la src/app",
    "grep -rn 'def append' src",
    "make test",
)


def words(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    text = " ".join(out)[: max(chars, 1)].rstrip()
    return text[0].upper() + text[1:] + "." if text else "."


def output_lines(rng: random.Random, chars: int) -> str:
    """Multi-line tool output: test results, listings, source lines."""
    lines: list[str] = []
    size = 0
    while size < chars:
        style = rng.random()
        if style < 0.3:
            line = f"{rng.choice(FILES)}:{rng.randint(1, 400)}: {words(rng, rng.randint(20, 60))}"
        elif style < 0.5:
            status = "PASSED" if rng.random() < 0.85 else "FAILED"
            line = f"tests/test_{rng.choice(WORDS)}.py::test_{rng.choice(WORDS)} {status}"
        else:
            line = "    " * rng.randint(0, 3) + words(rng, rng.randint(10, 70))
        lines.append(line)
        size += len(line) + 2  # "\n" is two bytes once JSON-encoded
    return "\n".join(lines)


def make_entries(count: int, seed: int = 20_000) -> Iterator[Entry]:
    """``count`` entries shaped like an agent transcript, ~300 to 800 bytes of JSON each.

    Turns of: a user message, sometimes reasoning, zero to four tool calls
    each followed by its result (some multi-line, some errors), and an
    assistant reply. Deterministic for a given seed.
    """
    rng = random.Random(seed)
    start = 1_735_689_600  # 2025-01-01T00:00:00Z
    made = 0
    call = 0

    def stamp() -> str:
        moment = start + made * 7 + rng.randint(0, 6)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"

    def sized(entry: Entry, key: Sequence[str | int], fill: Callable[[int], str]) -> Entry:
        """Fill the text at ``key`` so the encoded entry is 300 to 800 bytes."""
        target = rng.randint(300, 800)
        holder: Any = entry
        for part in key[:-1]:
            holder = holder[part]
        holder[key[-1]] = ""
        overhead = len(json.dumps(entry, ensure_ascii=False).encode("utf-8"))
        holder[key[-1]] = fill(max(target - overhead, 20))
        return entry

    while True:
        turn: list[Entry] = [
            sized(
                {"type": "message", "role": "user", "ts": stamp(), "content": ""},
                ["content"],
                lambda n: words(rng, n),
            ),
        ]
        if rng.random() < 0.3:
            turn.append(
                sized(
                    {"type": "reasoning", "ts": stamp(), "content": ""},
                    ["content"],
                    lambda n: words(rng, n),
                )
            )
        for _ in range(rng.randint(0, 4)):
            call += 1
            call_id = f"call_{call:06d}"
            if rng.random() < 0.5:
                name, tool_input = "Bash", {"command": rng.choice(COMMANDS), "description": ""}
                key = ["input", "description"]
            else:
                name, tool_input = (
                    rng.choice(("Read", "Edit", "Grep")),
                    {"file_path": rng.choice(FILES), "note": ""},
                )
                key = ["input", "note"]
            turn.append(
                sized(
                    {
                        "type": "tool_call",
                        "ts": stamp(),
                        "name": name,
                        "input": tool_input,
                        "call_id": call_id,
                    },
                    key,
                    lambda n: words(rng, n),
                )
            )
            turn.append(
                sized(
                    {
                        "type": "tool_result",
                        "ts": stamp(),
                        "call_id": call_id,
                        "output": "",
                        "is_error": rng.random() < 0.1,
                    },
                    ["output"],
                    lambda n: output_lines(rng, n) if rng.random() < 0.7 else words(rng, n),
                )
            )
        if rng.random() < 0.5:
            reply = sized(
                {
                    "type": "message",
                    "role": "assistant",
                    "ts": stamp(),
                    "content": [{"type": "text", "text": ""}],
                },
                ["content", 0, "text"],
                lambda n: words(rng, n),
            )
        else:
            reply = sized(
                {"type": "message", "role": "assistant", "ts": stamp(), "content": ""},
                ["content"],
                lambda n: words(rng, n),
            )
        turn.append(reply)
        for entry in turn:
            if made == count:
                return
            yield entry
            made += 1


# -- the figures ---------------------------------------------------------------


@figure("version", "gitsess --version", "python -c pass", 3.0)
def fig_version(bench: Bench, fig: Figure) -> None:
    cwd = bench.root
    mine = bench.command([bench.gitsess_exe, "--version"], cwd)
    bench.compare(fig, mine, bench.python_floor(cwd))


@figure("status", "gitsess status (on a session branch)", "python -c pass", 4.0)
def fig_status(bench: Bench, fig: Figure) -> None:
    repo = bench.new_repo("status")
    bench.new_session(repo)
    bench.run([bench.gitsess_exe, "record", "--jsonl", str(bench.entries_file(SMALL_LOG))], repo)
    mine = bench.command([bench.gitsess_exe, "status"], repo)
    bench.compare(fig, mine, bench.python_floor(repo))


@figure("record", "gitsess record --role user (1 entry)", "python -c pass", 6.0)
def fig_record(bench: Bench, fig: Figure) -> None:
    repo = bench.new_repo("record")
    bench.new_session(repo)
    mine = bench.command([bench.gitsess_exe, "record", "--role", "user", "hello"], repo)
    bench.compare(fig, mine, bench.python_floor(repo))


@figure(
    "append-large",
    "append 1 entry to a {entries}-entry session",
    "append 1 entry to a {small}-entry session",
    1.3,
)
def fig_append_large(bench: Bench, fig: Figure) -> None:
    large_count = bench.sizes.entries
    repos = {}
    for name, count in (("large", large_count), ("small", SMALL_LOG)):
        repo = bench.new_repo(f"append-{name}")
        bench.new_session(repo)
        bench.progress(f"recording {count:,} entries into the {name} session")
        bench.run([bench.gitsess_exe, "record", "--jsonl", str(bench.entries_file(count))], repo)
        held = bench.gitsess_json("status", cwd=repo)["entries"]
        if held != count:
            raise CommandFailed(["gitsess", "status"], 0, f"{held} entries, not {count}".encode())
        repos[name] = repo
    argv = [bench.gitsess_exe, "record", "--role", "user", "hello"]
    bench.compare(fig, bench.command(argv, repos["large"]), bench.command(argv, repos["small"]))


@figure(
    "record-batch",
    "record {entries} entries in one batch",
    "python: json.loads each of the {entries} lines",
    3.0,
)
def fig_record_batch(bench: Bench, fig: Figure) -> None:
    repo = bench.new_repo("record-batch")
    source = bench.entries_file(bench.sizes.entries)

    def mine() -> float:
        session = bench.new_session(repo, checkout=False)  # not timed: a fresh session each run
        return bench.timed([bench.gitsess_exe, "record", session, "--jsonl", str(source)], repo)

    parse = f"import json; [json.loads(l) for l in open({str(source)!r}, 'rb')]"
    floor = bench.command([bench.python, "-c", parse], repo)
    bench.compare(fig, mine, floor, repeat=bench.sizes.heavy_repeat, warmup=0)


@figure(
    "import",
    "gitsess import of a {transcript} Claude Code transcript",
    "python: json.loads each of its lines",
    3.0,
)
def fig_import(bench: Bench, fig: Figure) -> None:
    transcript = claude_transcript(bench, bench.sizes.transcript_mb)
    repo = bench.root / "import"

    def fresh() -> None:  # each import makes a session: a new repository for every run
        shutil.rmtree(repo, ignore_errors=True)
        bench.new_repo("import")

    argv = [bench.gitsess_exe, "import", str(transcript), "--format", "claude-code"]
    mine = bench.prepared(fresh, argv, repo)
    parse = f"import json; [json.loads(l) for l in open({str(transcript)!r}, 'rb')]"
    floor = bench.command([bench.python, "-c", parse], bench.root)
    fresh()
    bench.compare(fig, mine, floor, repeat=bench.sizes.heavy_repeat)


def claude_transcript(bench: Bench, megabytes: float) -> Path:
    """A Claude Code transcript of about ``megabytes``, written by gitsess's own converter
    (the one `resume --agent claude-code` uses) from the realistic entries below."""
    path = bench.root / "claude-transcript.jsonl"
    count = max(50, int(megabytes * 1e6 / 900))  # ~900 bytes of transcript per entry
    source = bench.entries_file(count)
    script = f"""
import json
from pathlib import Path
from gitsess.agents.claude_code import to_transcript, write_transcript
entries = [dict(e, id=f"e{{i}}") for i, e in enumerate(map(json.loads, open({str(source)!r})))]
write_transcript(to_transcript(entries, "00000000-0000-4000-8000-00000000be4c", "/bench"),
                 Path({str(path)!r}))
"""
    bench.run([bench.python, "-c", script], bench.root)
    bench.progress(f"transcript of {path.stat().st_size / 1e6:.1f} MB, {count:,} entries")
    return path


@figure(
    "growth",
    "repository growth for a {growth} session, after git gc",
    "gzip -9 of its JSONL",
    1.5,
)
def fig_growth(bench: Bench, fig: Figure) -> None:
    """Bytes a session adds to a packed repository, against the same JSONL gzipped.

    The session is recorded as an agent would: in many small appends (each rewrites the
    last segment, so every version stays reachable through the ref's reflog), then
    `git gc` packs it. Sizes, not times: the table shows MB.
    """
    fig.unit = "MB"
    count = max(100, int(bench.sizes.growth_mb * 1e6 / 560))  # ~560 bytes of JSONL per entry
    source = bench.entries_file(count)
    repo = bench.new_repo("growth")
    bench.git("gc", "-q", cwd=repo)
    before = packed_bytes(bench, repo)
    session = bench.new_session(repo)
    lines = source.read_bytes().splitlines(keepends=True)
    batch = 50  # an agent turn's worth of entries per append
    bench.progress(f"recording {count:,} entries in appends of {batch}")
    for first in range(0, len(lines), batch):
        chunk = bench.root / "growth-chunk.jsonl"
        chunk.write_bytes(b"".join(lines[first : first + batch]))
        bench.run([bench.gitsess_exe, "record", session, "--jsonl", str(chunk)], repo)
    bench.git("gc", "-q", "--prune=now", cwd=repo)
    grown = packed_bytes(bench, repo) - before
    log = bench.run([bench.gitsess_exe, "export", session, "--format", "jsonl"], repo).stdout
    stored = b"".join(line + b"\n" for line in log.splitlines()[1:])  # without the header
    gzipped = len(gzip.compress(stored, compresslevel=9))
    bench.progress(f"JSONL {len(stored) / 1e6:.1f} MB; gzip -9 {gzipped / 1e6:.2f} MB")
    fig.gitsess_samples.append(float(grown))
    fig.floor_samples.append(float(gzipped))


def packed_bytes(bench: Bench, repo: Path) -> int:
    """Bytes of the repository's object store (`git count-objects`: loose and packed)."""
    fields = {}
    for row in bench.git("count-objects", "-v", cwd=repo).splitlines():
        key, _, value = row.partition(": ")
        fields[key] = int(value) if value.isdigit() else 0
    return (fields.get("size", 0) + fields.get("size-pack", 0)) * 1024


@figure(
    "show-big",
    "gitsess show of a 16 MB message, in a pipe",
    "python: json.loads the same 16 MB",
    6.0,
)
def fig_show_big(bench: Bench, fig: Figure) -> None:
    """One message of 16 MB: `show` must stay linear in its size (it was quadratic)."""
    repo = bench.new_repo("show-big")
    sid = bench.new_session(repo)
    line = "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 3 + "\n"
    entry = {"type": "message", "role": "user", "content": line * (16_000_000 // len(line))}
    source = bench.root / "show-big.jsonl"
    source.write_text(json.dumps(entry) + "\n")
    bench.run([bench.gitsess_exe, "record", sid, "--jsonl", str(source)], repo)
    mine = bench.command(["sh", "-c", f"{bench.gitsess_exe} show {sid} >/dev/null"], repo)
    parse = f"import json; json.loads(open({str(source)!r}, 'rb').read())"
    floor = bench.command([bench.python, "-c", parse], bench.root)
    bench.compare(fig, mine, floor, repeat=bench.sizes.heavy_repeat)


@figure("capture-idle", "gitsess capture, nothing new (Claude Code hook)", "python -c pass", 4.0)
def fig_capture_idle(bench: Bench, fig: Figure) -> None:
    """A Claude Code hook call when the transcript has not changed since the last one."""
    repo = bench.new_repo("capture")
    bench.new_session(repo)
    transcript = bench.root / "capture-transcript.jsonl"
    lines = []
    parent = None
    for index in range(200):
        uuid = f"00000000-0000-4000-8000-{index:012d}"
        role = "user" if index % 2 == 0 else "assistant"
        lines.append(
            json.dumps(
                {
                    "type": role,
                    "uuid": uuid,
                    "parentUuid": parent,
                    "sessionId": "bench",
                    "timestamp": f"2026-11-25T10:{index // 60:02d}:{index % 60:02d}.000Z",
                    "message": {"role": role, "content": f"turn {index} " + "words " * 40},
                }
            )
        )
        parent = uuid
    transcript.write_text("\n".join(lines) + "\n")
    payload = json.dumps(
        {
            "session_id": "bench",
            "transcript_path": str(transcript),
            "cwd": str(repo),
            "hook_event_name": "Stop",
        }
    ).encode()
    argv = [bench.gitsess_exe, "capture", "--agent", "claude-code"]
    bench.run(argv, repo, input=payload)  # the first call records the 200 entries

    def idle() -> float:
        start = time.perf_counter()
        bench.run(argv, repo, input=payload)
        return time.perf_counter() - start

    bench.compare(fig, idle, bench.python_floor(repo))


def hooks_added(bench: Bench, fig: Figure, sessions: int) -> None:
    """What the git hooks add to `git commit` on a session branch, with ``sessions`` present.

    The gitsess figure is a commit with the hooks minus the same commit in a twin
    repository without them (run alternately), against `python -c pass`.
    """
    with_hooks, without = bench.new_repo(f"hooks-{sessions}"), bench.new_repo(f"plain-{sessions}")
    for repo in (with_hooks, without):
        if sessions > 1:
            make_sessions(bench, repo, sessions - 1)
        bench.new_session(repo)
    bench.run([bench.gitsess_exe, "hooks", "install"], with_hooks)
    commit = ["git", "commit", "-q", "--allow-empty", "-m", "bench commit"]
    floor = bench.python_floor(with_hooks)
    for _ in range(2):
        bench.timed(commit, with_hooks), bench.timed(commit, without), floor()
    for _ in range(bench.sizes.repeat):
        hooked, plain = bench.timed(commit, with_hooks), bench.timed(commit, without)
        fig.gitsess_samples.append(max(hooked - plain, 0.0))
        fig.floor_samples.append(floor())
    subjects = bench.git("log", "--format=%B", "-1", cwd=with_hooks)
    if "Session:" not in subjects:
        raise CommandFailed(commit, 0, b"the hooks did not add the Session trailer")


@figure("hooks-1", "time git hooks add to `git commit` (1 session)", "python -c pass", 4.0)
def fig_hooks_one(bench: Bench, fig: Figure) -> None:
    hooks_added(bench, fig, 1)


@figure(
    "hooks-many",
    "time git hooks add to `git commit` ({sessions} sessions)",
    "python -c pass",
    4.0,
)
def fig_hooks_many(bench: Bench, fig: Figure) -> None:
    hooks_added(bench, fig, bench.sizes.sessions)


def make_sessions(bench: Bench, repo: Path, count: int) -> None:
    """``count`` sessions: one made by gitsess, the rest copies of it written by fast-import.

    Each copy is a log commit with the first one's tree (whatever it holds
    besides session.json is shared) and a session.json of its own (id,
    branch, times), the trailers gitsess writes, a ref refs/sessions/<id> and
    a branch session/bench-<id> at the base commit.
    """
    first = bench.new_session(repo, checkout=False)
    meta = json.loads(bench.git("show", f"refs/sessions/{first}:session.json", cwd=repo))
    shared = bytearray()  # the rest of the first log commit's tree, by reference
    for row in bench.git("ls-tree", "-z", f"refs/sessions/{first}", cwd=repo).split("\0"):
        info, _, name = row.partition("\t")
        if name and name != "session.json":
            mode, _, oid = info.split(" ")
            shared += f"M {mode} {oid} {name}\n".encode()
    rng = random.Random(count)
    taken = {first}
    base_time = 1_735_689_600
    stream = bytearray()
    for index in range(count - 1):
        session = first
        while session in taken:
            session = "".join(rng.choice(ID_ALPHABET) for _ in range(10))
        taken.add(session)
        moment = base_time + index * 37
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"
        copy = {
            **meta,
            "id": session,
            "branch": f"session/bench-{session}",
            "created": stamp,
            "updated": stamp,
        }
        blob = (json.dumps(copy, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        message = f"create\n\nSession: {session}\nEntries: 0\n".encode()
        stream += f"commit refs/sessions/{session}\n".encode()
        stream += f"committer Bench Committer <committer@bench.invalid> {moment} +0000\n".encode()
        stream += f"data {len(message)}\n".encode() + message
        stream += shared + b"M 100644 inline session.json\n"
        stream += f"data {len(blob)}\n".encode() + blob + b"\n"
        if meta.get("base"):
            stream += f"reset refs/heads/session/bench-{session}\nfrom {meta['base']}\n\n".encode()
    bench.git("fast-import", "--quiet", cwd=repo, input=bytes(stream))


SEARCH_ENTRIES = 100  # entries in each session of the search figures
SEARCH_WORD = "flakiness"  # planted in one entry of every tenth session


@figure(
    "search",
    "gitsess search over {sessions} sessions of 100 entries",
    "git grep -F -i of the same log trees",
    2.0,
)
def fig_search(bench: Bench, fig: Figure) -> None:
    search_figure(bench, fig, bench.sizes.sessions)


@figure(
    "search-many",
    "gitsess search over {many_sessions} sessions of 100 entries",
    "git grep -F -i of the same log trees",
    2.0,
)
def fig_search_many(bench: Bench, fig: Figure) -> None:
    search_figure(bench, fig, bench.sizes.sessions * 10)


def search_figure(bench: Bench, fig: Figure, count: int) -> None:
    repo = bench.new_repo(f"search-{count}")
    bench.progress(f"creating {count:,} sessions of {SEARCH_ENTRIES} entries")
    make_searchable_sessions(bench, repo, count)
    found = bench.gitsess_json("search", SEARCH_WORD, cwd=repo)
    if len(found) != count // 10:
        raise CommandFailed(["gitsess", "search"], 0, f"{len(found)} hits".encode())
    commits = bench.git("for-each-ref", "--format=%(objectname)", "refs/sessions/", cwd=repo)
    floor = ["git", "grep", "-F", "-i", "-e", SEARCH_WORD, *commits.split(), "--", "log/"]
    mine = [bench.gitsess_exe, "search", SEARCH_WORD]
    bench.compare(fig, bench.command(mine, repo), bench.command(floor, repo))


def make_searchable_sessions(bench: Bench, repo: Path, count: int) -> None:
    """``count`` sessions, each a log of SEARCH_ENTRIES different entries (a user message,
    then tool calls, results and answers of a few hundred characters), written by
    fast-import; every tenth holds SEARCH_WORD once."""
    rng = random.Random(count)
    base_time = 1_735_689_600
    stream = bytearray()
    for index in range(count):
        session = "".join(rng.choice(ID_ALPHABET) for _ in range(10))
        moment = base_time + index * 37
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"
        meta = {
            "format": 1,
            "id": session,
            "title": words(rng, 30),
            "branch": f"session/bench-{session}",
            "base": None,
            "created": stamp,
            "updated": stamp,
            "author": {"name": "Bench Author", "email": "author@bench.invalid"},
            "agent": "claude-code",
            "parent": None,
            "status": "active",
            "visibility": "private",
            "tags": [],
        }
        lines = []
        for n in range(SEARCH_ENTRIES):
            entry: dict[str, Any] = {"id": f"e{index}x{n}", "ts": stamp}
            kind = n % 4
            if kind == 0:
                entry.update(type="message", role="user", content=words(rng, 120))
            elif kind == 1:
                entry.update(
                    type="tool_call",
                    name="Bash",
                    call_id=f"c{n}",
                    input={"command": rng.choice(COMMANDS)},
                )
            elif kind == 2:
                entry.update(type="tool_result", call_id=f"c{n - 1}", output=output_lines(rng, 300))
            else:
                entry.update(type="message", role="assistant", content=words(rng, 200))
            lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        if index % 10 == 0:
            lines[56] = lines[56].replace('"content":"', f'"content":"{SEARCH_WORD} ', 1)
        log = ("\n".join(lines) + "\n").encode()
        blob = (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode()
        message = f"append\n\nSession: {session}\nEntries: {SEARCH_ENTRIES}\n".encode()
        stream += f"commit refs/sessions/{session}\n".encode()
        stream += f"committer Bench Committer <committer@bench.invalid> {moment} +0000\n".encode()
        stream += f"data {len(message)}\n".encode() + message
        stream += b"M 100644 inline session.json\n" + f"data {len(blob)}\n".encode() + blob
        stream += b"M 100644 inline log/00000000.jsonl\n" + f"data {len(log)}\n".encode() + log
        stream += b"\n"
    bench.git("fast-import", "--quiet", cwd=repo, input=bytes(stream))


DOCTOR_ENTRIES = 20  # entries in each session of the doctor figures, as issue 16 measured


def make_doctor_sessions(bench: Bench, repo: Path, count: int) -> None:
    """``count`` healthy sessions of DOCTOR_ENTRIES entries, each with its branch at the
    repository's first commit, written by fast-import (`doctor` finds nothing wrong)."""
    base = bench.git("rev-parse", "HEAD", cwd=repo)
    rng = random.Random(count)
    base_time = 1_735_689_600
    stream = bytearray()
    taken: set[str] = set()
    for index in range(count):
        session = "".join(rng.choice(ID_ALPHABET) for _ in range(10))
        while session in taken:
            session = "".join(rng.choice(ID_ALPHABET) for _ in range(10))
        taken.add(session)
        moment = base_time + index * 37
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"
        meta = {
            "format": 1,
            "id": session,
            "title": words(rng, 30),
            "branch": f"session/bench-{session}",
            "base": base,
            "created": stamp,
            "updated": stamp,
            "author": {"name": "Bench Author", "email": "author@bench.invalid"},
            "agent": None,
            "parent": None,
            "status": "active",
            "visibility": "private",
            "tags": [],
        }
        lines = []
        for n in range(DOCTOR_ENTRIES):
            entry: dict[str, Any] = {"id": f"e{index}x{n}", "ts": stamp}
            if n % 2 == 0:
                entry.update(type="message", role="user", content=words(rng, 120))
            else:
                entry.update(type="message", role="assistant", content=words(rng, 200))
            lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        log = ("\n".join(lines) + "\n").encode()
        blob = (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode()
        message = f"append\n\nSession: {session}\nEntries: {DOCTOR_ENTRIES}\n".encode()
        stream += f"commit refs/sessions/{session}\n".encode()
        stream += f"committer Bench Committer <committer@bench.invalid> {moment} +0000\n".encode()
        stream += f"data {len(message)}\n".encode() + message
        stream += b"M 100644 inline session.json\n" + f"data {len(blob)}\n".encode() + blob
        stream += b"M 100644 inline log/00000000.jsonl\n" + f"data {len(log)}\n".encode() + log
        stream += f"\nreset refs/heads/session/bench-{session}\nfrom {base}\n\n".encode()
    bench.git("fast-import", "--quiet", cwd=repo, input=bytes(stream))


@figure("new", "gitsess new TITLE --no-checkout", "python -c pass", 6.0)
def fig_new(bench: Bench, fig: Figure) -> None:
    repo = bench.new_repo("new")
    mine = bench.command([bench.gitsess_exe, "new", "Bench", "--no-checkout"], repo)
    bench.compare(fig, mine, bench.python_floor(repo))


@figure("fork", "gitsess fork SESSION --no-checkout ({small} entries)", "python -c pass", 6.0)
def fig_fork(bench: Bench, fig: Figure) -> None:
    repo = bench.new_repo("fork")
    source = bench.new_session(repo, checkout=False)
    entries = str(bench.entries_file(SMALL_LOG))
    bench.run([bench.gitsess_exe, "record", source, "--jsonl", entries], repo)
    mine = bench.command([bench.gitsess_exe, "fork", source, "--no-checkout"], repo)
    bench.compare(fig, mine, bench.python_floor(repo))


DOCTOR_FLOOR = (
    "git for-each-ref --format='%(objectname)' refs/sessions/"
    " | git rev-list --objects --no-walk --stdin | cut -d' ' -f1"
    " | git cat-file --batch >/dev/null"
)


def doctor_repo(bench: Bench, count: int) -> Path:
    """A repository of ``count`` healthy sessions for the doctor figures, made once."""
    repo = bench.root / f"doctor-{count}"
    if not repo.exists():
        repo = bench.new_repo(f"doctor-{count}")
        bench.progress(f"creating {count:,} sessions of {DOCTOR_ENTRIES} entries")
        make_doctor_sessions(bench, repo, count)
    return repo


def doctor_figure(bench: Bench, fig: Figure, count: int, *, first: bool) -> None:
    """`doctor` on ``count`` sessions against git reading every object of every log: as
    a first run (nothing remembered), or a second (every log verified before). CPU time:
    a first run at 100,000 sessions takes minutes, and the machine is rarely quiet that
    long."""
    repo = doctor_repo(bench, count)
    verified = repo / ".git" / "gitsess" / "doctor-verified"

    def forget() -> None:
        verified.unlink(missing_ok=True)

    argv = [bench.gitsess_exe, "doctor"]
    mine = cpu_prepared(bench, forget if first else None, argv, repo)
    if not first:
        bench.run(argv, repo)  # the first run, not timed
    repeat = bench.sizes.heavy_repeat if count > 1000 else None
    floor = cpu_prepared(bench, None, ["sh", "-c", DOCTOR_FLOOR], repo)
    bench.compare(fig, mine, floor, repeat=repeat, warmup=0 if count > 1000 else 1)
    if first:
        forget()
        bench.memories.append(memory(bench, f"{count:,}: doctor, first run", ["doctor"], repo))


def doctor_scale_figure(count: int, *, first: bool) -> None:
    """Register the doctor figure of ``count`` sessions, first or second run."""
    run = "first" if first else "second"

    def figure_fn(bench: Bench, fig: Figure) -> None:
        doctor_figure(bench, fig, count, first=first)

    FIGURES.append(
        Spec(
            f"doctor-{'first' if first else 'again'}-{scale_label(count)}",
            f"gitsess doctor, {run} run ({count:,} sessions), CPU",
            "cat-file of every log object",
            5.0 if first else 1.0,
            figure_fn,
            size=count,
            row=f"doctor, {run} run ({DOCTOR_ENTRIES} entries a session)",
        )
    )


def forget_pushes(bench: Bench, repo: Path, *, scan_cache: bool) -> None:
    """Make ``repo`` as if it had never pushed: no tracking refs, and maybe no scan cache.

    With them gone gitsess takes every remote for empty, as the fresh bare
    repositories the push figures push into are; without ``scan_cache`` it
    also scans every blob for secrets again.
    """
    refs = bench.git("for-each-ref", "--format=delete %(refname)", TRACKING_ROOT, cwd=repo)
    if refs:
        bench.git("update-ref", "--stdin", cwd=repo, input=(refs + "\n").encode())
    state = repo / ".git" / "gitsess"
    for name in ("tracking-seen", "tracking-seen.json"):  # today's journal, and its old form
        (state / name).unlink(missing_ok=True)
    if not scan_cache:
        (state / "clean-blobs").unlink(missing_ok=True)


def push_figure(bench: Bench, fig: Figure, *, scan_cache: bool, cpu: bool = False) -> None:
    """`gitsess push --all` against `git push` of the same refs, each into a fresh bare repo
    (``cpu``: timed in CPU seconds, as the scale figures are)."""
    count = bench.sizes.shared
    repo = bench.shared_repo(count)
    mine_remote, floor_remote = bench.root / "push-mine.git", bench.root / "push-floor.git"

    def mine_setup() -> None:
        forget_pushes(bench, repo, scan_cache=scan_cache)
        bench.empty_repo(mine_remote, bare=True)

    mine_argv = [bench.gitsess_exe, "push", "--all", "--remote", str(mine_remote)]

    def prepared(setup: Callable[[], object], argv: list[str]) -> Any:
        return cpu_prepared(bench, setup, argv, repo) if cpu else bench.prepared(setup, argv, repo)

    mine = prepared(mine_setup, mine_argv)
    refspecs = ["refs/sessions/*:refs/sessions/*", "refs/heads/session/*:refs/heads/session/*"]
    floor = prepared(
        lambda: bench.empty_repo(floor_remote, bare=True),
        ["git", "push", str(floor_remote), *refspecs],
    )
    # The warm-up run of `mine` scans everything: it fills the cache of the warm figure.
    repeat = bench.sizes.repeat if scan_cache else bench.sizes.heavy_repeat
    bench.compare(fig, mine, floor, repeat=repeat)
    for remote in (mine_remote, floor_remote):
        for what, prefix in (("sessions", "refs/sessions/"), ("branches", "refs/heads/session/")):
            held = len(bench.git("for-each-ref", prefix, cwd=remote).splitlines())
            if held != count:
                detail = f"{remote.name} holds {held} {what}, not {count}"
                raise CommandFailed(["git", "for-each-ref"], 0, detail.encode())


def fig_fetch(bench: Bench, fig: Figure, cpu: bool = False) -> None:
    count = bench.sizes.shared
    source = bench.shared_repo(count)
    origin = bench.empty_repo(bench.root / "fetch-origin.git", bare=True)
    everything = ["refs/sessions/*:refs/sessions/*", "refs/heads/*:refs/heads/*"]
    bench.git("push", "-q", str(origin), *everything, cwd=source)
    mine_repo, floor_repo = bench.root / "fetch-mine", bench.root / "fetch-floor"
    prepare = functools.partial(cpu_prepared, bench) if cpu else bench.prepared
    mine = prepare(
        lambda: bench.empty_repo(mine_repo, origin=origin),
        [bench.gitsess_exe, "fetch", "origin"],
        mine_repo,
    )
    refspecs = [
        "+refs/sessions/*:refs/gitsess/remotes/origin/sessions/*",
        "+refs/heads/*:refs/remotes/origin/*",
    ]
    floor = prepare(
        lambda: bench.empty_repo(floor_repo, origin=origin),
        ["git", "fetch", "origin", *refspecs],
        floor_repo,
    )
    bench.compare(fig, mine, floor)
    held = len(bench.git("for-each-ref", "refs/sessions/", cwd=mine_repo).splitlines())
    if held != count:
        detail = f"the fetching repository holds {held} sessions, not {count}"
        raise CommandFailed(["gitsess", "fetch"], 0, detail.encode())


def share_figure(
    key: str, title: str, floor: str, goals: tuple[float, float], run: Callable[..., None]
) -> None:
    """Register a sharing figure of {shared} sessions twice: in wall-clock time, and in CPU
    time (``key``-cpu), the steadier on a shared machine; ``goals`` for each."""
    for cpu, goal in zip((False, True), goals, strict=True):

        def figure_fn(bench: Bench, fig: Figure, cpu: bool = cpu) -> None:
            run(bench, fig, cpu=cpu)

        suffix = ("-cpu", ", CPU") if cpu else ("", "")
        FIGURES.append(Spec(key + suffix[0], title + suffix[1], floor, goal, figure_fn))


share_figure(
    "push-first",
    "push --all, {shared} shared sessions, first push (secrets scan)",
    "git push of the same refs",
    (1.2, 2.0),
    functools.partial(push_figure, scan_cache=False),
)
share_figure(
    "push-warm",
    "push --all, {shared} shared sessions, scan cache warm",
    "git push of the same refs",
    (1.2, 1.2),
    functools.partial(push_figure, scan_cache=True),
)
share_figure(
    "fetch",
    "fetch {shared} sessions into a fresh repository",
    "git fetch of the same refspecs",
    (1.2, 1.2),
    fig_fetch,
)


def make_shared_sessions(bench: Bench, repo: Path, count: int) -> None:
    """``count`` shared sessions of SHARED_ENTRIES entries each, written by fast-import.

    The entries are recorded by gitsess, all in one session of a scratch
    repository, so they are stored the way gitsess stores them; each session
    here gets SHARED_ENTRIES of them (no two sessions share an entry or a
    blob). Each has the three log commits gitsess would have written
    ("create", "append", then "share", which sets its visibility to "shared"),
    with their trailers, a ref refs/sessions/<id> and a branch
    session/bench-<id> at the base commit.
    """
    scratch = bench.new_repo(f"shared-{count}-scratch")
    source = bench.new_session(scratch, checkout=False)
    entries = bench.entries_file(count * SHARED_ENTRIES)
    bench.run([bench.gitsess_exe, "record", source, "--jsonl", str(entries)], scratch)
    log = f"refs/sessions/{source}"
    meta = json.loads(bench.git("show", f"{log}:session.json", cwd=scratch))
    lines: list[bytes] = []
    for name in bench.git("ls-tree", "--name-only", f"{log}:log", cwd=scratch).splitlines():
        segment = bench.run(["git", "cat-file", "blob", f"{log}:log/{name}"], scratch).stdout
        lines += segment.splitlines()
    if len(lines) != count * SHARED_ENTRIES:
        detail = f"{len(lines)} entries recorded, not {count * SHARED_ENTRIES}"
        raise CommandFailed(["gitsess", "record"], 0, detail.encode())
    base = bench.git("rev-parse", "HEAD", cwd=repo)
    rng = random.Random(count)
    taken: set[str] = set()
    base_time = 1_735_689_600
    stream = bytearray()
    for index in range(count):
        session = ""
        while not session or session in taken:
            session = "".join(rng.choice(ID_ALPHABET) for _ in range(10))
        taken.add(session)
        meta.update(
            id=session,
            title=f"bench {index}",
            branch=f"session/bench-{session}",
            base=base,
            visibility="private",
        )
        first = index * SHARED_ENTRIES
        chunk = b"".join(line + b"\n" for line in lines[first : first + SHARED_ENTRIES])
        steps = [
            ("create", 0, b""),
            (f"append {SHARED_ENTRIES} entries", SHARED_ENTRIES, chunk),
            ("share", SHARED_ENTRIES, b""),
        ]
        for step, (message, held, segment) in enumerate(steps):
            moment = base_time + index * 37 + step * 60
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"
            meta["updated"] = stamp
            if step == 0:
                meta["created"] = stamp
            if message == "share":
                meta["visibility"] = "shared"
            blob = (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
            body = f"{message}\n\nSession: {session}\nEntries: {held}\n".encode()
            stream += f"commit refs/sessions/{session}\n".encode()
            for who in ("author Bench Author <author", "committer Bench Committer <committer"):
                stream += f"{who}@bench.invalid> {moment} +0000\n".encode()
            stream += f"data {len(body)}\n".encode() + body
            stream += f"M 100644 inline session.json\ndata {len(blob)}\n".encode() + blob
            if segment:  # fast-import carries the rest of the tree over from the parent
                stream += f"M 100644 inline log/00000000.jsonl\ndata {len(segment)}\n".encode()
                stream += segment
            stream += b"\n"
        stream += f"reset refs/heads/session/bench-{session}\nfrom {base}\n\n".encode()
    bench.git("fast-import", "--quiet", cwd=repo, input=bytes(stream))


# -- the viewer in a browser ----------------------------------------------------


class Skipped(Exception):
    """What a figure needs is not on this machine: reported as skipped, with why."""


def find_chromium() -> str:
    """Chromium (Debian's: GITSESS_CHROMIUM, else on PATH) and Playwright, or Skipped."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise Skipped("playwright is not installed (pip install -e '.[dev]')") from None
    named = os.environ.get("GITSESS_CHROMIUM") or ""
    found = named or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not os.access(found, os.X_OK):
        raise Skipped("no chromium (apt-get install chromium, or set GITSESS_CHROMIUM)")
    return found


class ServeProcess:
    """`gitsess serve --no-open --port 0` in ``repo``, and the address it printed."""

    def __init__(self, bench: Bench, repo: Path) -> None:
        self.proc = subprocess.Popen(
            [bench.gitsess_exe, "serve", "--no-open", "--port", "0"],
            cwd=repo,
            env=bench.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise CommandFailed(["gitsess", "serve"], self.proc.returncode or 1, b"no address")
        self.base = self.url.split("/?", 1)[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class StaticServer:
    """The floor's server: files from ``folder`` over HTTP on loopback (Python's own)."""

    def __init__(self, folder: Path) -> None:
        import functools
        import http.server
        import threading

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# The browser's own clock (Navigation Timing): from the request to the load event, and to
# the first paint of content, without the driver's round trips.
NAVIGATION_TIMES = """() => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {load: navigation.loadEventEnd, paint: paint ? paint.startTime : null};
}"""


def page_opening(context: Any, url: str, paints: list[float]) -> Run:
    """Seconds from asking for ``url`` in a new tab to its load event (entries shown);
    the time to the first paint goes to ``paints``."""

    def run() -> float:
        page = context.new_page()
        try:
            page.goto(url, wait_until="load")
            page.wait_for_selector("#entries .entry", state="visible")
            times = page.evaluate(NAVIGATION_TIMES)
            if times["paint"] is not None:
                paints.append(float(times["paint"]) / 1000)
            return float(times["load"]) / 1000
        finally:
            page.close()

    return run


# -- sharing at scale ----------------------------------------------------------
#
# A bare remote holding N shared sessions (built by fast-import, refs packed, as a
# repository that has been gc'd), and a clone that fetched them all with gitsess.
# Each figure moves one session (or all of them) both ways: with gitsess, and with
# plain git moving the same refs in the same repositories. These figures are CPU time
# (user + system, the command and its children), not wall-clock time.

SHARE_SCALES = (1_000, 10_000, 100_000)
SCALE_ENTRIES = 2  # entries in each session of the scale repositories
SYNC_CHANGED = 10  # sessions a plain `git fetch` changed, in the sync figure


def cpu_prepared(
    bench: Bench, setup: Callable[[], object] | None, argv: Sequence[str], cwd: Path
) -> Run:
    """Like Bench.prepared, but what a run costs is the CPU time (user and system) of
    the command and every process it waited for (git's children, scan workers): on a
    machine shared with other work, wall-clock time measures the neighbours as much."""

    def run() -> float:
        if setup is not None:
            setup()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        bench.timed(argv, cwd)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    return run


# -- scale: 1k, 10k and 100k sessions (--scale) ------------------------------------

SCALE_SIZES = (1000, 10_000, 100_000)
SCALE_SCRATCH = "refs/gitsess-bench/scratch"
# Runs gitsess in this interpreter and reports its own peak memory and its git processes'.
MEMORY_PROBE = """
import resource, sys
sys.argv = ["gitsess", *sys.argv[1:]]
from gitsess.__main__ import main
try:
    code = main()
finally:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    git = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\\nbench-memory {me} {git}\\n")
sys.exit(code)
"""


@dataclass
class Memory:
    """Peak resident memory of one command: gitsess's Python process, its largest git."""

    title: str
    gitsess_mb: float
    git_mb: float


def make_scale_sessions(bench: Bench, repo: Path, count: int) -> list[str]:
    """``count`` sessions as make_sessions makes them, but with their refs written as
    loose files directly (git writes 200,000 refs one lock at a time: minutes): one
    fast-import for the objects (each commit on a scratch ref, reset first), its marks
    for the commit ids. Returns the session ids, oldest first."""
    first = bench.new_session(repo, checkout=False)
    meta = json.loads(bench.git("show", f"refs/sessions/{first}:session.json", cwd=repo))
    shared = bytearray()
    for row in bench.git("ls-tree", "-z", f"refs/sessions/{first}", cwd=repo).split("\0"):
        info, _, name = row.partition("\t")
        if name and name != "session.json":
            mode, _, oid = info.split(" ")
            shared += f"M {mode} {oid} {name}\n".encode()
    rng = random.Random(count)
    ids: list[str] = []
    taken = {first}
    stream = bytearray()
    for index in range(count - 1):
        session = first
        while session in taken:
            session = "".join(rng.choice(ID_ALPHABET) for _ in range(10))
        taken.add(session)
        ids.append(session)
        moment = 1_735_689_600 + index * 37
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"
        copy = {**meta, "id": session, "branch": f"session/bench-{session}"}
        copy.update(created=stamp, updated=stamp, title=f"bench {index}")
        blob = (json.dumps(copy, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        message = f"create\n\nSession: {session}\nEntries: 0\n".encode()
        stream += f"reset {SCALE_SCRATCH}\ncommit {SCALE_SCRATCH}\nmark :{index + 1}\n".encode()
        stream += f"committer Bench Committer <committer@bench.invalid> {moment} +0000\n".encode()
        stream += f"data {len(message)}\n".encode() + message
        stream += shared + b"M 100644 inline session.json\n"
        stream += f"data {len(blob)}\n".encode() + blob + b"\n"
    marks = bench.root / f"marks-{count}"
    bench.git("fast-import", "--quiet", f"--export-marks={marks}", cwd=repo, input=bytes(stream))
    bench.git("update-ref", "-d", SCALE_SCRATCH, cwd=repo)
    logs = dict(line.split(" ", 1) for line in marks.read_text().splitlines())
    git_dir = repo / ".git"
    for folder in ("refs/sessions", "refs/heads/session"):
        (git_dir / folder).mkdir(parents=True, exist_ok=True)
    for index, session in enumerate(ids):
        (git_dir / "refs/sessions" / session).write_text(logs[f":{index + 1}"])
        if meta.get("base"):
            (git_dir / "refs/heads/session" / f"bench-{session}").write_text(meta["base"] + "\n")
    return [first, *ids]


def pack_refs(bench: Bench, repo: Path) -> None:
    """What `git pack-refs --all` does (packed-refs, loose files removed), written at once:
    git packs 200,000 loose refs in tens of minutes on a shared machine."""
    listed = bench.git("for-each-ref", "--format=%(objectname) %(refname)", cwd=repo)
    git_dir = repo / ".git"
    packed = "# pack-refs with: peeled fully-peeled sorted \n" + listed + "\n"
    (git_dir / "packed-refs").write_text(packed)
    for folder, _, files in os.walk(git_dir / "refs"):
        for name in files:
            os.unlink(os.path.join(folder, name))


def memory(bench: Bench, title: str, argv: Sequence[str], cwd: Path) -> Memory:
    # Through a shell that forks it: a process exec'd straight from this one would report
    # this one's peak (Linux keeps the peak across exec, and a fork starts at the parent's).
    script = 'python="$1"; shift; "$python" "$@"; status=$?; exit $status'
    argv = ["sh", "-c", script, "sh", bench.python, "-c", MEMORY_PROBE, *argv]
    proc = bench.run(argv, cwd)
    last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1].split()
    return Memory(title, int(last[1]) / 1024, int(last[2]) / 1024)


def scale_repo(bench: Bench, count: int) -> tuple[Path, list[str]]:
    repo = bench.new_repo(f"scale-{count}")
    bench.progress(f"creating {count:,} sessions (loose refs)")
    ids = make_scale_sessions(bench, repo, count)
    listed = bench.gitsess_json("list", cwd=repo)
    if len(listed) != count:
        raise CommandFailed(["gitsess", "list"], 0, f"{len(listed)} sessions, not {count}".encode())
    return repo, ids


def unique_prefix(ids: list[str], session: str) -> str:
    for length in range(6, len(session)):
        if sum(1 for other in ids if other.startswith(session[:length])) == 1:
            return session[:length]
    return session


def cpu_command(
    bench: Bench, argv: Sequence[str], cwd: Path, setup: Callable[[], object] | None = None
) -> Run:
    """A run timed in CPU seconds (user + system) of the command and every git process it
    waited for: on a machine shared with other work the wall clock mostly measures them."""
    return cpu_prepared(bench, setup, argv, cwd)


@figure(
    "serve-open",
    "open a {entries}-entry session in Chromium (gitsess serve, to load)",
    "the same page as a static file",
    2.0,
)
def fig_serve_open(bench: Bench, fig: Figure) -> None:
    """The viewer's session page, in a real browser, against the same HTML, CSS and
    script served as files: what reading the log and rendering the page cost. The issue's
    goal is an absolute one too: under 2 s."""
    chromium = find_chromium()
    from playwright.sync_api import sync_playwright

    count = bench.sizes.entries
    repo = bench.new_repo("serve-open")
    session = bench.new_session(repo, title="A long session", checkout=False)
    bench.progress(f"recording {count:,} entries")
    bench.run(
        [bench.gitsess_exe, "record", session, "--jsonl", str(bench.entries_file(count))], repo
    )
    server = ServeProcess(bench, repo)
    static: StaticServer | None = None
    driver = sync_playwright().start()
    try:
        browser = driver.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--headless=new"]
        )
        context = browser.new_context()
        context.new_page().goto(server.url)  # trades the token for the cookie
        page_url = f"{server.base}/s/{session}"
        static = StaticServer(copy_page(bench, context, server.base, page_url))
        shown = context.new_page()
        shown.goto(page_url)
        entries = shown.locator("#entries .entry").count()
        shown.close()
        bench.progress(f"the page shows {entries:,} entries of {count:,} (the rest as read)")
        paints: list[float] = []
        bench.compare(
            fig,
            page_opening(context, page_url, paints),
            page_opening(context, f"{static.base}/page.html", []),
            repeat=bench.sizes.heavy_repeat * 2,
        )
        browser.close()
    finally:
        driver.stop()
        if static is not None:
            static.stop()
        server.stop()
    mine = fig.gitsess_ms or 0.0
    paint = statistics.median(paints) * 1000 if paints else 0.0
    verdict = "meets" if mine < 2000 else "MISSES"
    bench.notes.append(
        f"serve-open: the first entries painted at {paint:,.0f} ms, loaded at {mine:,.0f} ms: "
        f"{verdict} the issue's goal of under 2 s"
    )


def copy_page(bench: Bench, context: Any, base: str, page_url: str) -> Path:
    """The page and the files it loads, as the viewer serves them, in a folder."""
    folder = bench.root / "serve-static"
    (folder / "static").mkdir(parents=True, exist_ok=True)
    for path, name in ((page_url, "page.html"), (f"{base}/static/style.css", "static/style.css"),
                       (f"{base}/static/app.js", "static/app.js")):  # fmt: skip
        answer = context.request.get(path)
        if not answer.ok:
            raise CommandFailed(["GET", path], answer.status, answer.text().encode())
        (folder / name).write_bytes(answer.body())
    return folder


@dataclass
class ScaleRepos:
    """The remote of ``count`` sessions, its clone, and the sessions the figures move."""

    count: int
    remote: Path
    local: Path
    ids: list[str]
    ahead: str  # a session whose local log is one commit ahead of the remote's
    behind: str  # that commit's parent: the remote's log of ``ahead``


def scale_label(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def scale_repos(bench: Bench, count: int) -> ScaleRepos:
    """The scale repositories for ``count`` sessions, made once per run."""
    cache: dict[int, ScaleRepos] = bench.__dict__.setdefault("_scale", {})
    if count not in cache:
        cache[count] = make_scale_repos(bench, count)
    return cache[count]


def make_scale_repos(bench: Bench, count: int) -> ScaleRepos:
    """Build the remote with fast-import and write both repositories' refs straight into
    packed-refs (as after `git gc`): 100,000 loose refs would take git minutes to write
    and pack here. The clone borrows the remote's objects (alternates) and starts as a
    `gitsess fetch` leaves it: logs, tracking refs, remote branches, all merged."""
    label = scale_label(count)
    remote = bench.empty_repo(bench.root / f"scale-{label}.git", bare=True)
    bench.progress(f"building a remote of {count:,} sessions with fast-import")
    started = time.perf_counter()
    head = b"data 5\ninit\n"
    readme = b"# bench\n"
    stream = b"commit refs/heads/main\nmark :1\n"
    stream += b"committer Bench Committer <committer@bench.invalid> 1735689600 +0000\n" + head
    stream += f"M 100644 inline README.md\ndata {len(readme)}\n".encode() + readme + b"\n"
    bench.git("fast-import", "--quiet", cwd=remote, input=stream)
    base = bench.git("rev-parse", "refs/heads/main", cwd=remote)
    ids = scale_ids(count)
    marks = bench.root / f"scale-{label}.marks"
    bench.git(
        "fast-import",
        "--quiet",
        f"--export-marks={marks}",
        cwd=remote,
        input=scale_stream(ids, base),
    )
    bench.git("update-ref", "-d", SCALE_SCRATCH, cwd=remote)
    logs = dict(line.split(" ") for line in marks.read_text().splitlines())
    log_of = {session: logs[f":{n + 1}"] for n, session in enumerate(ids)}
    refs = {"refs/heads/main": base}
    for session, log in log_of.items():
        refs[f"refs/sessions/{session}"] = log
        refs[f"refs/heads/session/scale-{session}"] = base
    write_packed_refs(remote, refs)
    bench.progress(f"remote built in {time.perf_counter() - started:.1f}s")
    local = bench.empty_repo(bench.root / f"scale-{label}", origin=remote)
    objects = bench.git("rev-parse", "--absolute-git-dir", cwd=remote) + "/objects"
    (local / ".git" / "objects" / "info" / "alternates").write_text(objects + "\n")
    tracking = {f"{TRACKING_ROOT}origin/sessions/{s}": log for s, log in log_of.items()}
    refs = {"refs/heads/main": base, "refs/remotes/origin/main": base, **tracking}
    for session, log in log_of.items():
        refs[f"refs/sessions/{session}"] = log
        refs[f"refs/remotes/origin/session/scale-{session}"] = base
    write_packed_refs(local / ".git", refs)
    bench.git("reset", "-q", "--hard", "main", cwd=local)
    bench.git(
        "config",
        "--add",
        "remote.origin.fetch",
        f"+refs/sessions/*:{TRACKING_ROOT}origin/sessions/*",
        cwd=local,
    )
    state = local / ".git" / "gitsess"
    state.mkdir(exist_ok=True)
    (state / "tracking-seen").write_text("".join(f"{log} {ref}\n" for ref, log in tracking.items()))
    ahead = ids[len(ids) // 2]
    bench.run([bench.gitsess_exe, "record", ahead, "--role", "user", "one more"], local)
    branch = f"session/scale-{ahead}"
    bench.git("branch", branch, f"refs/remotes/origin/{branch}", cwd=local)
    bench.progress(f"clone ready in {time.perf_counter() - started:.1f}s")
    return ScaleRepos(count, remote, local, ids, ahead, log_of[ahead])


SCALE_SCRATCH = "refs/scale/scratch"  # the one ref fast-import writes the session logs on


def write_packed_refs(git_dir: Path, refs: dict[str, str]) -> None:
    lines = "".join(f"{oid} {ref}\n" for ref, oid in sorted(refs.items()))
    packed = git_dir / "packed-refs"
    packed.write_text("# pack-refs with: peeled fully-peeled sorted \n" + lines)
    for ref in refs:  # a loose ref (fast-import's main) would shadow the packed one
        (git_dir / ref).unlink(missing_ok=True)


def scale_ids(count: int) -> list[str]:
    rng = random.Random(count)
    taken: set[str] = set()
    while len(taken) < count:
        taken.add("".join(rng.choice(ID_ALPHABET) for _ in range(10)))
    return sorted(taken)


def scale_stream(ids: list[str], base: str) -> bytes:
    """A fast-import stream of one log commit per session (SCALE_ENTRIES entries, shared),
    mark N+1 for the Nth session: make_scale_repos writes their refs."""
    rng = random.Random(len(ids))
    chunks: list[bytes] = []
    moment = 1_735_689_600
    for index, session in enumerate(ids):
        moment += 7
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000Z"
        meta = {
            "format": 1,
            "id": session,
            "title": f"scale {index}",
            "branch": f"session/scale-{session}",
            "base": base,
            "created": stamp,
            "updated": stamp,
            "author": {"name": "Bench Author", "email": "author@bench.invalid"},
            "agent": None,
            "parent": None,
            "from_branch": "main",
            "status": "active",
            "visibility": "shared",
            "tags": [],
        }
        blob = (json.dumps(meta, indent=2) + "\n").encode()
        log = b""
        for number in range(SCALE_ENTRIES):
            entry = {
                "id": "".join(rng.choice(ID_ALPHABET) for _ in range(16)),
                "ts": stamp,
                "type": "message",
                "role": "user" if number % 2 == 0 else "assistant",
                "content": f"message {number} of session {index}: {words(rng, 120)}",
                "head": base,
            }
            log += json.dumps(entry, separators=(",", ":")).encode() + b"\n"
        body = f"create\n\nSession: {session}\nEntries: {SCALE_ENTRIES}\n".encode()
        chunks += [
            f"reset {SCALE_SCRATCH}\ncommit {SCALE_SCRATCH}\nmark :{index + 1}\n".encode(),
            f"committer Bench Committer <committer@bench.invalid> {moment} +0000\n".encode(),
            f"data {len(body)}\n".encode(),
            body,
            f"M 100644 inline session.json\ndata {len(blob)}\n".encode(),
            blob,
            f"M 100644 inline log/00000000.jsonl\ndata {len(log)}\n".encode(),
            log,
            b"\n",
        ]
    return b"".join(chunks)


def share_scale_figure(kind: str, count: int) -> None:
    """Register one sharing-at-scale figure of ``kind`` for a remote of ``count`` sessions."""
    label = scale_label(count)
    title, floor, goal, run = SHARE_SCALE_KINDS[kind]

    def figure_fn(bench: Bench, fig: Figure) -> None:
        run(bench, fig, scale_repos(bench, count))

    FIGURES.append(
        Spec(
            f"share-{kind}-{label}",
            title.format(n=f"{count:,}") + ", CPU",
            floor,
            goal,
            figure_fn,
            size=count,
            row=title.format(n="N"),
        )
    )


def fig_fetch_one(bench: Bench, fig: Figure, scale: ScaleRepos) -> None:
    local, session = scale.local, scale.ids[0]
    branch = f"session/scale-{session}"
    tracking = f"{TRACKING_ROOT}origin/sessions/{session}"
    drop = "".join(f"delete {ref}\n" for ref in (tracking, f"refs/remotes/origin/{branch}"))

    def forget() -> None:  # what this clone knew of the remote's copy: both refs move
        bench.git("update-ref", "--stdin", cwd=local, input=drop.encode())

    argv = [bench.gitsess_exe, "fetch", "--remote", "origin", session]
    mine = cpu_prepared(bench, forget, argv, local)
    specs = [
        f"+refs/sessions/{session}:{tracking}",
        f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
    ]
    # As gitsess fetches: without FETCH_HEAD, which would make the next gitsess command
    # look for what a plain fetch brought (the sync figure measures that).
    floor_argv = ["git", "fetch", "-q", "--no-write-fetch-head", "origin", *specs]
    floor = cpu_prepared(bench, forget, floor_argv, local)
    bench.compare(fig, mine, floor)


def fig_push_one(bench: Bench, fig: Figure, scale: ScaleRepos) -> None:
    local, remote, session = scale.local, scale.remote, scale.ahead
    log, tracking = f"refs/sessions/{session}", f"{TRACKING_ROOT}origin/sessions/{session}"
    branch = f"refs/heads/session/scale-{session}"

    def behind() -> None:  # the remote has the log one commit behind, as gitsess knows
        bench.git("update-ref", log, scale.behind, cwd=remote)
        bench.git("update-ref", tracking, scale.behind, cwd=local)

    argv = [bench.gitsess_exe, "push", "--remote", "origin", session]
    mine = cpu_prepared(bench, behind, argv, local)
    floor = cpu_prepared(
        bench, behind, ["git", "push", "-q", "origin", f"{log}:{log}", f"{branch}:{branch}"], local
    )
    bench.compare(fig, mine, floor)


def fig_push_all(bench: Bench, fig: Figure, scale: ScaleRepos, *, again: bool) -> None:
    """`push --all` into an empty remote (scan cache warm), or again with nothing new."""
    local = scale.local
    mine_remote = bench.root / f"push-all-{scale.count}-mine.git"
    floor_remote = bench.root / f"push-all-{scale.count}-floor.git"
    refspecs = ["refs/sessions/*:refs/sessions/*", "refs/heads/session/*:refs/heads/session/*"]
    mine_argv = [bench.gitsess_exe, "push", "--all", "--remote", str(mine_remote)]
    floor_argv = ["git", "push", "-q", str(floor_remote), *refspecs]
    if again:
        bench.empty_repo(mine_remote, bare=True)
        bench.empty_repo(floor_remote, bare=True)
        bench.run(mine_argv, local)
        bench.run(floor_argv, local)
        mine, floor = (
            cpu_prepared(bench, None, mine_argv, local),
            cpu_prepared(bench, None, floor_argv, local),
        )
    else:

        def mine_setup() -> None:
            forget_pushes(bench, local, scan_cache=True)
            bench.empty_repo(mine_remote, bare=True)

        mine = cpu_prepared(bench, mine_setup, mine_argv, local)
        floor = cpu_prepared(
            bench, lambda: bench.empty_repo(floor_remote, bare=True), floor_argv, local
        )
    bench.compare(fig, mine, floor, repeat=bench.sizes.heavy_repeat)
    held = len(bench.git("for-each-ref", "refs/sessions/", cwd=mine_remote).splitlines())
    if held != scale.count:
        detail = f"the remote holds {held} sessions, not {scale.count}"
        raise CommandFailed(["gitsess", "push", "--all"], 0, detail.encode())


def fig_sync(bench: Bench, fig: Figure, scale: ScaleRepos) -> None:
    """The first command after a plain `git fetch` that moved SYNC_CHANGED tracking refs."""
    local = scale.local
    moved = scale.ids[1 : 1 + SYNC_CHANGED]
    children: dict[str, list[str]] = {}
    parents: dict[str, str] = {}
    for session in moved:  # two different next log commits of each, to take in turn
        log = parents[session] = bench.git("rev-parse", f"refs/sessions/{session}", cwd=local)
        tree = bench.git("rev-parse", f"{log}^{{tree}}", cwd=local)
        children[session] = [
            bench.git(
                "commit-tree", tree, "-p", log, "-m", f"share {n}\n\nSession: {session}", cwd=local
            )
            for n in (1, 2)
        ]
    turn = [0]
    fetch_head = local / ".git" / "FETCH_HEAD"

    def fetched() -> None:  # as a plain `git fetch` leaves it: new tracking refs, FETCH_HEAD
        turn[0] += 1
        lines = []
        for session in moved:
            new = children[session][turn[0] % 2]
            lines.append(f"update refs/sessions/{session} {parents[session]}")  # behind
            lines.append(f"update {TRACKING_ROOT}origin/sessions/{session} {new}")
        bench.git("update-ref", "--stdin", cwd=local, input=("\n".join(lines) + "\n").encode())
        fetch_head.write_text(f"{turn[0]}\t\tfetched\n")

    mine = cpu_prepared(bench, fetched, [bench.gitsess_exe, "status", "--json"], local)
    floor_argv = ["git", "for-each-ref", f"{TRACKING_ROOT}origin/sessions/"]
    floor = cpu_prepared(bench, fetched, floor_argv, local)
    bench.compare(fig, mine, floor)


def fig_fetch_all(bench: Bench, fig: Figure, scale: ScaleRepos) -> None:
    """`gitsess fetch origin` of every session into a fresh clone."""
    mine_repo = bench.root / f"fetch-all-{scale.count}-mine"
    floor_repo = bench.root / f"fetch-all-{scale.count}-floor"
    mine = cpu_prepared(
        bench,
        lambda: bench.empty_repo(mine_repo, origin=scale.remote),
        [bench.gitsess_exe, "fetch", "origin"],
        mine_repo,
    )
    refspecs = [
        f"+refs/sessions/*:{TRACKING_ROOT}origin/sessions/*",
        "+refs/heads/*:refs/remotes/origin/*",
    ]
    floor = cpu_prepared(
        bench,
        lambda: bench.empty_repo(floor_repo, origin=scale.remote),
        ["git", "fetch", "-q", "origin", *refspecs],
        floor_repo,
    )
    bench.compare(fig, mine, floor, repeat=bench.sizes.heavy_repeat)


SHARE_SCALE_KINDS: dict[
    str, tuple[str, str, float, Callable[[Bench, Figure, ScaleRepos], None]]
] = {
    "fetch-one": (
        "fetch --remote origin ONE-ID, remote of {n} sessions",
        "git fetch of the log and branch refs",
        1.2,
        fig_fetch_one,
    ),
    "push-one": (
        "push --remote origin ONE-ID (one new entry, scan cache warm), remote of {n}",
        "git push of the log and branch refs",
        1.2,
        fig_push_one,
    ),
    "push-all": (
        "push --all of {n} sessions into an empty remote (scan cache warm)",
        "git push of the same refs",
        1.5,
        lambda bench, fig, scale: fig_push_all(bench, fig, scale, again=False),
    ),
    "push-again": (
        "push --all of {n} sessions again, nothing new",
        "git push of the same refs",
        1.5,
        lambda bench, fig, scale: fig_push_all(bench, fig, scale, again=True),
    ),
    "fetch-all": (
        "fetch origin of all {n} sessions into a fresh clone",
        "git fetch of the same refspecs",
        1.2,
        fig_fetch_all,
    ),
    "sync": (
        f"first command after a git fetch moved {SYNC_CHANGED} of {{n}} sessions",
        "git for-each-ref of the tracking refs",
        3.0,
        fig_sync,
    ),
}
for _count in SHARE_SCALES:
    for _kind in ("fetch-one", "push-one", "sync"):
        share_scale_figure(_kind, _count)
# Moving every session: each run creates N refs on one side or the other, minutes at
# 100,000 on this machine, so these stop at 10,000.
for _count in SHARE_SCALES[:2]:
    share_scale_figure("fetch-all", _count)
for _kind in ("push-all", "push-again"):
    share_scale_figure(_kind, 10_000)
for _count in SCALE_SIZES:
    doctor_scale_figure(_count, first=True)
    doctor_scale_figure(_count, first=False)


# -- a separate sessions remote (gitsess.sessionsRemote) ----------------------------------


def split_remotes(bench: Bench, scale: ScaleRepos, branches: list[str]) -> Path:
    """Make the scale remote the clone's sessions remote, beside a code remote of its own
    (`code`: main and ``branches``); undo_split_remotes puts the clone back as it was."""
    local = scale.local
    code = bench.empty_repo(bench.root / f"split-code-{scale.count}.git", bare=True)
    specs = [f"refs/remotes/origin/{b}:refs/heads/{b}" for b in branches]
    bench.git("push", "-q", str(code), "main", *specs, cwd=local)
    bench.git("remote", "add", "code", str(code), cwd=local)
    bench.git("config", "gitsess.sessionsRemote", "origin", cwd=local)
    return code


def undo_split_remotes(bench: Bench, scale: ScaleRepos) -> None:
    bench.git("config", "--unset", "gitsess.sessionsRemote", cwd=scale.local)
    bench.git("remote", "remove", "code", cwd=scale.local)


def fig_split_fetch_one(bench: Bench, fig: Figure, scale: ScaleRepos) -> None:
    """`gitsess fetch --remote code ONE-ID` with the logs on the scale remote (origin, as
    gitsess.sessionsRemote) and the branches on a code remote of their own: against the
    two git fetches of the same refs."""
    local, session = scale.local, scale.ids[0]
    branch = f"session/scale-{session}"
    tracking = f"{TRACKING_ROOT}origin/sessions/{session}"
    split_remotes(bench, scale, [branch])
    try:
        drop = "".join(f"delete {ref}\n" for ref in (tracking, f"refs/remotes/code/{branch}"))

        def forget() -> None:
            bench.git("update-ref", "--stdin", cwd=local, input=drop.encode())

        argv = [bench.gitsess_exe, "fetch", "--remote", "code", session]
        mine = cpu_prepared(bench, forget, argv, local)
        fetch = "git fetch -q --no-write-fetch-head"
        script = (
            f"{fetch} origin +refs/sessions/{session}:{tracking} && "
            f"{fetch} code +refs/heads/{branch}:refs/remotes/code/{branch}"
        )
        floor = cpu_prepared(bench, forget, ["sh", "-c", script], local)
        bench.compare(fig, mine, floor)
    finally:
        undo_split_remotes(bench, scale)


def fig_split_push_one(bench: Bench, fig: Figure, scale: ScaleRepos) -> None:
    """`gitsess push --remote code ONE-ID` (one new entry) with the logs going to the scale
    remote (gitsess.sessionsRemote) and the branch to a code remote of its own: against
    the two git pushes of the same refs."""
    local, remote, session = scale.local, scale.remote, scale.ahead
    log, tracking = f"refs/sessions/{session}", f"{TRACKING_ROOT}origin/sessions/{session}"
    branch = f"refs/heads/session/scale-{session}"
    split_remotes(bench, scale, [branch.removeprefix("refs/heads/")])
    try:

        def behind() -> None:
            bench.git("update-ref", log, scale.behind, cwd=remote)
            bench.git("update-ref", tracking, scale.behind, cwd=local)

        argv = [bench.gitsess_exe, "push", "--remote", "code", session]
        mine = cpu_prepared(bench, behind, argv, local)
        script = f"git push -q origin {log}:{log} && git push -q code {branch}:{branch}"
        floor = cpu_prepared(bench, behind, ["sh", "-c", script], local)
        bench.compare(fig, mine, floor)
    finally:
        undo_split_remotes(bench, scale)


SHARE_SCALE_KINDS.update(
    {
        "split-fetch-one": (
            "fetch --remote code ONE-ID, logs on a sessions remote of {n} sessions",
            "git fetch of the log, then of the branch",
            1.2,
            fig_split_fetch_one,
        ),
        "split-push-one": (
            "push --remote code ONE-ID (one new entry), logs to a sessions remote of {n}",
            "git push of the log, then of the branch",
            1.2,
            fig_split_push_one,
        ),
    }
)
for _count in SHARE_SCALES:
    for _kind in ("split-fetch-one", "split-push-one"):
        share_scale_figure(_kind, _count)


def scale_layout(
    bench: Bench, repo: Path, ids: list[str], label: str, repeat: int
) -> tuple[list[Figure], list[Memory]]:
    """The scale figures of one repository as its refs are now (``label``: loose or packed)."""
    exe = bench.gitsess_exe
    cache = repo / ".git" / "gitsess" / "listing"
    listing = cpu_command(bench, ["git", "for-each-ref", "refs/sessions/"], repo)
    pipeline = (
        "git for-each-ref --format='%(objectname):session.json' refs/sessions/"
        " | git cat-file --batch >/dev/null"
    )
    floor = cpu_command(bench, ["sh", "-c", pipeline], repo)
    session = ids[len(ids) // 2]
    prefix = unique_prefix(ids, session)

    def drop_cache() -> None:
        cache.unlink(missing_ok=True)

    def mine(*args: str, setup: Callable[[], object] | None = None) -> Run:
        return cpu_command(bench, [exe, *args], repo, setup)

    specs: list[tuple[str, str, float, Run, Run]] = [
        ("list (default page)", "for-each-ref refs/sessions", 2.0, mine("list"), listing),
        ("list --json, cold cache", "for-each-ref | cat-file --batch", 1.5,
         mine("list", "--json", setup=drop_cache), floor),
        ("list --json, warm cache", "for-each-ref | cat-file --batch", 1.0,
         mine("list", "--json"), floor),
        ("list --all (the table, in a pipe)", "list --json --all", 1.2,
         mine("list", "--all"), mine("list", "--json", "--all")),
        (f"show {prefix} (a prefix)", "show by full id", 1.5,
         mine("show", prefix, "-n", "1", "--json"), mine("show", session, "-n", "1", "--json")),
    ]  # fmt: skip
    figures = []
    for title, floor_title, goal, measured, base in specs:
        fig = Figure(
            f"scale-{len(ids)}-{label}",
            f"{len(ids):,} {label}: {title}",
            floor_title,
            goal,
            size=len(ids),
            row=f"{title.replace(prefix, 'PREFIX')}, {label} refs",
        )
        bench.progress(fig.title)
        try:
            bench.compare(fig, measured, base, repeat=repeat)
        except CommandFailed as exc:
            fig.error = str(exc)
        figures.append(fig)
    bench.run([exe, "list", "--json"], repo)  # warm again
    probes = [
        ("list", [exe, "list"]),
        ("list --json (warm)", [exe, "list", "--json"]),
        ("list --all", [exe, "list", "--all"]),
        (f"show {prefix}", [exe, "show", prefix, "-n", "1", "--json"]),
    ]
    found = [memory(bench, f"{len(ids):,} {label}: {t}", argv[1:], repo) for t, argv in probes]
    drop_cache()
    found.append(
        memory(bench, f"{len(ids):,} {label}: list --json (cold)", ["list", "--json"], repo)
    )
    return figures, found


def run_scale(bench: Bench, sizes: Sequence[int], repeat: int) -> tuple[list[Figure], list[Memory]]:
    figures: list[Figure] = []
    memories: list[Memory] = []
    for count in sizes:
        bench.current = f"scale {count:,}"
        repo, ids = scale_repo(bench, count)
        for label in ("loose", "packed"):
            if label == "packed":
                pack_refs(bench, repo)
            found, used = scale_layout(bench, repo, ids, label, repeat)
            figures += found
            memories += used
        shutil.rmtree(repo, ignore_errors=True)
    bench.current = ""
    return figures, memories


def memory_table(memories: list[Memory]) -> str:
    rows = [["command", "gitsess (python)", "largest git", "goal", "ok"]]
    for m in memories:
        ok = "yes" if m.gitsess_mb <= 100 else "NO"
        rows.append([m.title, f"{m.gitsess_mb:.0f} MB", f"{m.git_mb:.0f} MB", "<= 100 MB", ok])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# -- reporting -----------------------------------------------------------------


def _ms(value: float | None, unit: str = "ms") -> str:
    return (
        "-" if value is None else f"{value:.1f} {unit}" if unit == "ms" else f"{value:.2f} {unit}"
    )


def table(figures: list[Figure]) -> str:
    header = ["figure", "gitsess", "floor", "floor's", "ratio", "goal", "ok"]
    rows = [header]
    for fig in figures:
        failed = "skipped" if (fig.error or "").startswith("skipped") else "error"
        ok = {True: "yes", False: "NO", None: failed if fig.error else "-"}[fig.ok]
        ratio = "-" if fig.ratio is None else f"{fig.ratio:.2f}x"
        rows.append(
            [
                fig.title.replace("|", "\\|"),
                _ms(fig.gitsess_ms, fig.unit),
                fig.floor.replace("|", "\\|"),
                _ms(fig.floor_ms, fig.unit),
                ratio,
                f"<= {fig.goal:g}x",
                ok,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {1, 3, 4}

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])


# -- main ----------------------------------------------------------------------


def console_python(gitsess: str) -> str:
    """The interpreter gitsess's console script runs on (its shebang), else this one."""
    try:
        with open(gitsess, "rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        parts = first[2:].split()
        if parts and os.path.basename(parts[0]) != "env" and os.access(parts[0], os.X_OK):
            return parts[0]
    return sys.executable


def git_version() -> str:
    proc = subprocess.run(["git", "--version"], capture_output=True, text=True)
    return proc.stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time gitsess against its floors.")
    parser.add_argument("--repeat", type=int, help="runs of each command (default 15, quick 3)")
    parser.add_argument("--sessions", type=int, help="sessions for `list` (default 1000)")
    parser.add_argument(
        "--share-sessions",
        type=int,
        metavar="N",
        help=f"sessions ({SHARED_ENTRIES} entries each) for push and fetch (default 500)",
    )
    parser.add_argument("--entries", type=int, help="entries in the large log (default 20000)")
    parser.add_argument("--quick", action="store_true", help="small sizes, few runs: a smoke test")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--only",
        metavar="KEYS",
        help="comma-separated figures to run: "
        + ", ".join([*(s.key for s in FIGURES), SCALE_LIST]),
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument(
        "--from-json",
        nargs="+",
        metavar="FILE",
        help="measure nothing: print the tables of earlier --json runs, together",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="only the scale section (list, names, sharing at 1k, 10k and 100k sessions)",
    )
    parser.add_argument(
        "--no-scale", action="store_true", help="leave the scale section out (minutes at 100k)"
    )
    parser.add_argument(
        "--scale-sizes",
        metavar="N,N",
        help="session counts of the scale section (default 1000,10000,100000; --quick 1000)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        return print_saved(args.from_json)
    quick = args.quick
    repeat = max(1, args.repeat or (3 if quick else 15))
    sizes = Sizes(
        repeat=repeat,
        heavy_repeat=max(1, min(repeat, 5 if args.repeat is None else max(3, repeat // 3))),
        entries=max(SMALL_LOG + 1, args.entries or (2000 if quick else 20_000)),
        sessions=max(1, args.sessions or (100 if quick else 1000)),
        shared=max(1, args.share_sessions or (100 if quick else 500)),
        transcript_mb=0.5 if quick else 3.5,
        growth_mb=1.0 if quick else 10.0,
    )
    exe = shutil.which("gitsess")
    if exe is None:
        print("bench: no `gitsess` on PATH", file=sys.stderr)
        return 2
    wanted = set(args.only.split(",")) if args.only else None
    unknown = wanted - {s.key for s in FIGURES} - {SCALE_LIST} if wanted else set()
    if unknown:
        print(f"bench: unknown figure(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    counts = scale_counts(args)
    specs = [
        spec
        for spec in FIGURES
        if (not wanted or spec.key in wanted)
        and (spec.size is None or (counts and spec.size in counts))
        and not (args.scale and spec.size is None)
    ]
    list_section = bool(counts) and (not wanted or SCALE_LIST in wanted)
    root = Path(tempfile.mkdtemp(prefix="gitsess-bench-"))
    bench = Bench(root, exe, console_python(exe), sizes)
    bench.progress(f"gitsess {exe}, python {bench.python}, in {root}")
    bench.compile_package()
    started = time.perf_counter()
    memories: list[Memory] = []
    try:
        figures = run_figures(bench, specs)
        if list_section:
            found, memories = run_scale(bench, counts, max(1, args.repeat or 3))
            figures = [*found, *figures]
        memories += bench.memories
    finally:
        bench.current = ""
        if args.keep:
            bench.progress(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    total = time.perf_counter() - started
    if args.json:
        print(json.dumps(report_json(bench, args, figures, memories, total), indent=2))
        return 0
    report_text(bench.sizes, bench.python, bench.notes, figures, memories, total)
    return 0


SCALE_LIST = "scale-list"  # --only's name for the scale section's list figures


def print_saved(paths: list[str]) -> int:
    """The tables of earlier `--json` runs (say, 1k and 10k in one, 100k in another)."""
    figures: list[Figure] = []
    memories: list[Memory] = []
    seconds = 0.0
    for path in paths:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        figures += [saved_figure(item) for item in document["figures"]]
        memories += [Memory(**item) for item in document.get("memory_mb", [])]
        seconds += document.get("seconds") or document.get("config", {}).get("seconds", 0)
    report_text(None, "as saved", [], figures, memories, seconds)
    return 0


def saved_figure(item: dict[str, Any]) -> Figure:
    fig = Figure(item["key"], item["figure"], item["floor"], item["goal"], unit=item["unit"])
    fig.gitsess_samples = [s / fig.scale for s in item["gitsess_samples_ms"]]
    fig.floor_samples = [s / fig.scale for s in item["floor_samples_ms"]]
    fig.error, fig.size = item.get("error"), item.get("sessions")
    registered = {spec.key: spec.row for spec in FIGURES}
    fig.row = item.get("row") or registered.get(fig.key, "")
    if not fig.row and fig.key.startswith("scale-"):  # written before rows were saved
        layout, _, title = fig.title.partition(": ")
        title = re.sub(r"^show \S+ \(a prefix\)", "show PREFIX (a prefix)", title)
        fig.row = f"{title}, {layout.split()[-1]} refs"
    return fig


def scale_counts(args: argparse.Namespace) -> tuple[int, ...]:
    """The session counts of the scale section: none with --no-scale, 1,000 with --quick."""
    if args.scale_sizes:
        return tuple(int(n) for n in args.scale_sizes.split(","))
    if args.no_scale:
        return ()
    return SCALE_SIZES[:1] if args.quick else SCALE_SIZES


def run_figures(bench: Bench, specs: list[Spec]) -> list[Figure]:
    figures = []
    names = bench.sizes.fields()
    for spec in specs:
        title, floor = spec.title.format(**names), spec.floor.format(**names)
        fig = Figure(spec.key, title, floor, spec.goal, size=spec.size, row=spec.row)
        bench.current = spec.key
        bench.progress(fig.title)
        lap = time.perf_counter()
        try:
            spec.run(bench, fig)
        except CommandFailed as exc:
            fig.error = str(exc)
            bench.progress(f"error: {exc}")
        except Skipped as exc:
            fig.error = f"skipped: {exc}"
            bench.progress(fig.error)
        bench.progress(f"done in {time.perf_counter() - lap:.1f}s")
        figures.append(fig)
    return figures


def report_json(
    bench: Bench,
    args: argparse.Namespace,
    figures: list[Figure],
    memories: list[Memory],
    total: float,
) -> dict[str, Any]:
    sizes = bench.sizes
    return {
        "config": {
            "repeat": sizes.repeat,
            "heavy_repeat": sizes.heavy_repeat,
            "entries": sizes.entries,
            "sessions": sizes.sessions,
            "share_sessions": sizes.shared,
            "scale_sizes": list(scale_counts(args)),
            "quick": args.quick,
            "gitsess": bench.gitsess_exe,
            "python": bench.python,
            "git": git_version(),
            "seconds": round(total, 1),
            "notes": bench.notes,
        },
        "figures": [fig.as_dict() for fig in figures],
        "memory_mb": [m.__dict__ for m in memories],
    }


def report_text(
    sizes: Sizes | None, python: str, notes: list[str], figures: list[Figure],
    memories: list[Memory], total: float,
) -> None:  # fmt: skip
    plain = [fig for fig in figures if fig.size is None]
    scaled = [fig for fig in figures if fig.size is not None]
    if plain:
        print(table(plain))
        print()
        if sizes is not None:
            print(
                f"Medians of {sizes.repeat} alternating runs ({sizes.heavy_repeat} for "
                "batches), wall clock."
            )
            print()
    if scaled:
        print(scale_table(scaled))
        print()
        print(
            "Scale: CPU seconds (user + system of the command and the git processes it waits "
            "for), medians of alternating runs; each cell is gitsess vs its floor in the same "
            "run, and their ratio (! where over the goal)."
        )
        print()
    if memories:
        print(memory_table(memories))
        print()
    print(f"{git_version()}; python {python}; {total:.0f}s in all.")
    for fig in figures:
        if fig.error:
            print(f"- {fig.title}: {fig.error}")
    for note in notes:
        print(f"- {note}")


def scale_table(figures: list[Figure]) -> str:
    """The scale figures as one table: a row per command, a column per session count."""
    counts = sorted({fig.size for fig in figures if fig.size is not None})
    rows: dict[str, dict[int, Figure]] = {}
    for fig in figures:
        rows.setdefault(fig.row or fig.title, {})[fig.size or 0] = fig
    header = ["command", "floor", "goal", *(f"{scale_label(n)} sessions" for n in counts)]
    lines = [header]
    for row, by_size in rows.items():
        first = next(iter(by_size.values()))
        cells = [row.replace("|", "\\|"), first.floor.replace("|", "\\|"), f"<= {first.goal:g}x"]
        lines.append([*cells, *(_scale_cell(by_size.get(n)) for n in counts)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(text)


def _scale_cell(fig: Figure | None) -> str:
    if fig is None:
        return ""
    if fig.error:
        return "skipped" if fig.error.startswith("skipped") else "error"
    mine, floor, ratio = fig.gitsess_ms, fig.floor_ms, fig.ratio
    if mine is None or floor is None or ratio is None:
        return "-"
    flag = "" if fig.ok else " !"
    return f"{_seconds(mine)} vs {_seconds(floor)}: {ratio:.2f}x{flag}"


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
