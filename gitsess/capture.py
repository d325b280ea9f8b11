"""`gitsess capture`: called from an agent's hook on every turn, it records what the
transcript gained since the last call into the current session.

It must never break the agent: every failure is logged to
`.git/gitsess/capture.log`, reported in one line on stderr, and the exit
status is 0. Nothing is printed on stdout (Gemini CLI reads hook stdout as JSON).

When nothing changed since the last capture (the transcript files have the
same size and time, and the same session is checked out) it answers from one
small state file, without starting git or loading the rest of gitsess.

It never waits on what it reads: a transcript (or subagent file) that is not a regular
file -- a FIFO with no writer, a device such as /dev/zero, a socket, a folder -- is
refused before it is opened. A Claude Code or Codex transcript larger than four windows
(`gitsess.captureWindow`, 8 MiB) is read a window at a time from where the last
capture stopped (the offset, and what the format carries from one window to the next,
are in the state file), for at most `gitsess.captureBudget` seconds (2) per call:
memory stays bounded by the window, the hook returns, and the next turns record the
rest, with the ids a whole import gives.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path

from .agent_names import AGENT_ALIASES

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object

USAGE = "usage: gitsess capture [--agent claude-code|codex|gemini] [PAYLOAD] < hook JSON"
WINDOW = 8 << 20  # bytes of a large transcript read per window (gitsess.captureWindow)
BUDGET = 2.0  # seconds a capture of a large transcript may take (gitsess.captureBudget)


class CaptureSkipped(Exception):
    """Nothing to capture, for a reason worth logging but not an error."""


class CaptureRefused(CaptureSkipped):
    """Nothing captured because the hook named something that is no transcript: logged
    as skipped, and said in one line on stderr too."""


def main(args: list[str]) -> int:
    """Entry point; always returns 0."""
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\n" + USAGE)
        return 0
    git_dir: Path | None = None
    try:
        agent, payload = _read_invocation(args)
        cwd = Path(payload.get("cwd") or os.getcwd())
        dirs = find_git_dirs(cwd)
        if dirs is None:
            raise CaptureSkipped(f"{cwd} is not in a git repository")
        git_dir = dirs[1]
        transcript = _transcript_path(agent, payload)
        run(agent, payload, transcript, cwd, dirs)
    except CaptureSkipped as skipped:
        _log(git_dir, f"skipped: {skipped}")
        if isinstance(skipped, CaptureRefused):
            _say(f"gitsess capture: {skipped}")
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            return 0
        import traceback

        _log(git_dir, "".join(traceback.format_exception(exc)))
        where = f" (see {git_dir / 'gitsess' / 'capture.log'})" if git_dir else ""
        message = " ".join(str(exc).split()) or type(exc).__name__
        _say(f"gitsess capture: {message}{where}")
    return 0


def _say(line: str) -> None:
    """One line on stderr, printable whatever its error handler: a path may not be UTF-8."""
    print(line.encode("utf-8", "backslashreplace").decode("utf-8"), file=sys.stderr)


def run(
    agent: str, payload: dict[str, Any], transcript: Path, cwd: Path, dirs: tuple[Path, Path]
) -> None:
    git_dir, common_dir = dirs
    state_file = (
        common_dir
        / "gitsess"
        / "capture"
        / (hashlib.sha1(os.fsencode(transcript.resolve())).hexdigest() + ".json")
    )
    branch = _current_branch(git_dir)
    saved = _load(state_file)
    watched = [Path(p) for p in saved.get("watched", [])]
    if (
        branch
        and watched
        and saved.get("branch") == branch
        and saved.get("stamp") == _stamp(watched)
    ):
        return  # the fast path: nothing new since the last capture, and no format loaded

    _require_regular(transcript)  # before anything opens it: a FIFO would block the agent
    from .agents import get

    fmt = get(agent)
    # The files the conversation lives in, and their folders: a new file (a subagent
    # starting) changes its folder's time, so the fast path notices it too.
    files = fmt.watched_files(transcript)
    for path in files:
        _require_regular(path)
    watched = files + sorted({f.parent for f in files} | {transcript.parent})
    stamp = _stamp(watched)

    from .sessions import Sessions
    from .storage.repo import Repository

    repo = Repository(cwd)
    try:
        sessions = Sessions(repo)
        window, budget = _limits(repo)
        size = transcript.stat().st_size
        if "offset" in saved or size > 4 * window:
            if not fmt.windowed:
                raise CaptureSkipped(
                    f"{transcript} holds {size:,} bytes, more than capture reads in a turn: "
                    "record it with `gitsess import`"
                )
            part = Part(fmt, saved, state_file, watched, stamp, window, budget)
            part.run(sessions, payload, git_dir, transcript, size)
            return
        conversation = fmt.parse(transcript)
        current = sessions.current()
        if current is None:
            if (repo.config("gitsess.captureNew") or "true").lower() in ("false", "no", "0", "off"):
                raise CaptureSkipped("no current session, and gitsess.captureNew is off")
            if not conversation.entries:
                return
            current = _start_session(sessions, agent, conversation, payload)
        from .agents.resume import handed_back_ids

        given = handed_back_ids(repo.common_dir, current.session_id)
        entries = [e for e in conversation.entries if e.get("id") not in given]
        numbered = list(enumerate(entries, start=1))
        sessions.record(current.session_id, numbered, skip_known=True, trusted=fmt.trusted)
        _save(
            state_file,
            {
                "stamp": stamp,
                "watched": [str(path) for path in watched],
                "branch": repo.current_branch() or "",
                "session": current.session_id,
                "at": time.time(),
            },
        )
    finally:
        repo.close()


class Part:
    """Capture of a large transcript, a window at a time from the saved offset (formats
    that are ``windowed``: Claude Code, Codex). What a window leaves for the next (the
    format's ``carry``) is kept in the state file as ``before``."""

    def __init__(
        self,
        fmt: Any,
        saved: dict[str, Any],
        state_file: Path,
        watched: list[Path],
        stamp: list[list[Any]],
        window: int,
        budget: float,
    ) -> None:
        self.fmt = fmt
        self.saved = saved
        self.state_file = state_file
        self.watched = watched
        self.stamp = stamp
        self.window = window
        self.budget = budget

    def run(
        self, sessions: Any, payload: dict[str, Any], git_dir: Path, transcript: Path, size: int
    ) -> None:
        from .agents.resume import handed_back_ids

        started = time.monotonic()
        deadline = started + self.budget
        offset = self.saved.get("offset")
        before = self.saved.get("before")
        checked = self.saved.get("checked")
        ids_file = self.state_file.with_suffix(".ids")
        if not isinstance(offset, int) or not isinstance(before, dict) or offset > size:
            # First time (or the file was rewritten): from the start. Entries an earlier
            # whole-file capture recorded are up to the size it saw: those are checked
            # against the log's ids; past it, the ids this capture keeps suffice.
            offset, before, checked = 0, {}, self.size_seen(transcript)
            ids_file.unlink(missing_ok=True)
        known = set(_read_lines(ids_file))
        current = sessions.current()
        took = -1.0  # the last window's time: a window that would end past the budget waits
        while offset < size and (took < 0 or time.monotonic() + took < deadline):
            began = time.monotonic()
            conversation, offset_after, before_after = self.fmt.parse_window(
                transcript, offset, self.window, before, known
            )
            if conversation is None:
                break  # only a line still being written
            if current is None:
                setting = sessions.repo.config("gitsess.captureNew") or "true"
                if setting.lower() in ("false", "no", "0", "off"):
                    raise CaptureSkipped("no current session, and gitsess.captureNew is off")
                current = _start_session(sessions, self.fmt.name, conversation, payload)
            made = [str(e.get("id")) for e in conversation.entries]
            given = handed_back_ids(sessions.repo.common_dir, current.session_id)
            entries = [e for e in conversation.entries if e.get("id") not in given]
            scan = isinstance(checked, int) and offset < checked
            if not scan:  # a capture stopped after recording, before saving: not twice
                state = sessions.store.require(current.session_id)
                last = sessions.store.last_entries(state, len(entries) + 64)
                recorded = {e.get("id") for e in last}
                entries = [e for e in entries if e.get("id") not in recorded]
            sessions.record(
                current.session_id,
                list(enumerate(entries, start=1)),
                skip_known=True,
                trusted=self.fmt.trusted,
                assume_new=not scan,
            )
            ids_file.parent.mkdir(parents=True, exist_ok=True)
            with ids_file.open("a") as handle:
                handle.write("".join(f"{entry_id}\n" for entry_id in made))
            known.update(made)
            offset, before = offset_after, before_after
            self.save(sessions, current.session_id, offset, before, size, checked)
            took = time.monotonic() - began
        if offset < size:
            _log(git_dir, f"captured {offset:,} of {size:,} bytes of {transcript}; more next turn")

    def size_seen(self, transcript: Path) -> int:
        """The transcript's size when a whole-file capture last read it (0: never)."""
        for item in self.saved.get("stamp") or []:
            if isinstance(item, list) and item[:1] == [str(transcript)] and len(item) > 1:
                return item[1] if isinstance(item[1], int) else 0
        return 0

    def save(
        self,
        sessions: Any,
        session_id: str,
        offset: int,
        before: dict[str, Any],
        size: int,
        checked: Any,
    ) -> None:
        done = offset >= size  # the fast path may answer next time only once caught up
        _save(
            self.state_file,
            {
                "stamp": self.stamp if done else None,
                "watched": [str(path) for path in self.watched],
                "branch": sessions.repo.current_branch() or "",
                "session": session_id,
                "at": time.time(),
                "offset": offset,
                "before": before,
                "checked": checked,
            },
        )


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _require_regular(path: Path) -> None:
    """Refuse, without opening it, what is not a regular file: reading a FIFO with no
    writer, a device or a socket would block the agent or never end."""
    try:
        mode = path.stat().st_mode
    except OSError:
        raise CaptureSkipped(f"no transcript at {path}") from None
    if not stat.S_ISREG(mode):  # said on stderr too: the hook names a wrong file
        raise CaptureRefused(f"{path} is not a regular file (a FIFO, device, socket or folder)")


def _limits(repo: Any) -> tuple[int, float]:
    """gitsess.captureWindow (bytes; k, m, g suffixes) and gitsess.captureBudget (seconds)."""
    window, budget = WINDOW, BUDGET
    text = (repo.config("gitsess.captureWindow") or "").strip().lower()
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if scale > 1 else text
    if digits.isdigit() and int(digits) > 0:
        window = int(digits) * scale
    try:
        budget = float(repo.config("gitsess.captureBudget") or BUDGET)
    except ValueError:
        budget = BUDGET  # a typo in the setting must not stop the capture
    return window, max(budget, 0.0)


def _start_session(sessions: Any, agent: str, conversation: Any, payload: dict[str, Any]) -> Any:
    from .agents.base import clean_title, first_prompt_title

    title = clean_title(first_prompt_title(conversation.entries) or "")
    if not title and isinstance(payload.get("prompt"), str):
        title = clean_title(payload["prompt"], 72)
    title = title or clean_title(conversation.title or "") or f"{agent} session"
    source = {"format": agent, "id": conversation.native_id, "captured": True}
    return sessions.new(title, agent=agent, extra={"source": source})


def _read_invocation(args: list[str]) -> tuple[str, dict[str, Any]]:
    agent = "claude-code"
    rest = list(args)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag == "--agent" and rest:
            agent = rest.pop(0)
        elif flag.startswith("--agent="):
            agent = flag.split("=", 1)[1]
        else:
            raise ValueError(f"unknown option {flag}; {USAGE}")
    agent = AGENT_ALIASES.get(agent, agent)
    # Codex's notify program gets its JSON as the last argument; hooks get it on stdin.
    if not rest and sys.stdin is not None and sys.stdin.isatty():
        raise ValueError(f"no hook input: an agent's hook gives its JSON on stdin; {USAGE}")
    raw = rest[-1] if rest else _stdin_text()
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:  # the decoder's own words say where, not what
        raise ValueError(f"the hook's input is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise ValueError("the hook's input is not a JSON object")
    return agent, payload


def _stdin_text() -> str:
    if sys.stdin is None:
        return ""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream without bytes underneath (tests swap stdin so)
        return sys.stdin.read()
    data: bytes = stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the hook's input is not UTF-8 text") from None


def _transcript_path(agent: str, payload: dict[str, Any]) -> Path:
    path = payload.get("transcript_path") or payload.get("transcriptPath")
    if isinstance(path, str) and path:
        return Path(os.path.expanduser(path))
    if agent == "codex":
        thread = payload.get("thread-id") or payload.get("session_id")
        if isinstance(thread, str) and thread:
            found = _codex_rollout(thread)
            if found:
                return found
    raise CaptureSkipped("the hook's input names no transcript")


def _codex_rollout(thread_id: str) -> Path | None:
    home = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")
    matches = sorted((home / "sessions").glob(f"*/*/*/rollout-*-{thread_id}.jsonl"))
    return matches[-1] if matches else None


def find_git_dirs(start: Path) -> tuple[Path, Path] | None:
    """(git dir, common git dir) of the repository holding ``start``, without running git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot, dot
        if dot.is_file():  # a linked worktree or submodule: "gitdir: <path>"
            text = dot.read_text(errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            git_dir = (folder / text[7:].strip()).resolve()
            common = git_dir
            pointer = git_dir / "commondir"
            if pointer.is_file():
                common = (git_dir / pointer.read_text().strip()).resolve()
            return git_dir, common
    return None


def _current_branch(git_dir: Path) -> str:
    try:
        head = (git_dir / "HEAD").read_text(errors="replace").strip()
    except OSError:
        return ""
    # A reftable repository's HEAD file says "refs/heads/.invalid": no fast path there.
    return head[16:] if head.startswith("ref: refs/heads/") and head[16:] != ".invalid" else ""


def _stamp(paths: list[Path]) -> list[list[Any]]:
    stamps: list[list[Any]] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            stamps.append([str(path), None])
            continue
        stamps.append([str(path), info.st_size, info.st_mtime_ns])
    return stamps


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _log(git_dir: Path | None, message: str) -> None:
    if git_dir is None:
        return
    try:
        log = git_dir / "gitsess" / "capture.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        # backslashreplace: a message may name a file whose name is not UTF-8
        with open(log, "a", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(f"{stamp} {message.rstrip()}\n")
    except OSError:
        pass
