"""Git hooks: link every commit to the session that made it.

- prepare-commit-msg adds the trailer `Session: <id>` on a session's branch;
- post-commit appends a `commit` entry (sha, subject) to that session's log;
- post-rewrite (amend, rebase) appends entries for the rewritten commits, so a
  rewritten commit still leads to its session;
- pre-push (with `git config gitsess.pushSessions true`) pushes the shared
  sessions whose branches are being pushed.

The installed scripts (the same as in the project's `hooks/` folder) run the
hook that was there before gitsess first, keep its exit status, then call
`gitsess hook NAME`, which never fails: a problem is one line on stderr and
git goes on. This module is loaded without click or pydantic, since it runs on
every commit.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

from .ids import is_session_id, session_id_from_branch

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from .sessions import Sessions
    from .storage.log import LogState, LogStore
    from .storage.repo import Repository

HOOKS = ("prepare-commit-msg", "post-commit", "post-rewrite", "pre-push")
MARKER = "# gitsess hook"
PREVIOUS_SUFFIX = ".gitsess-previous"
TRAILER = "Session"

SCRIPT = """#!/bin/sh
{marker}: {name}. Installed by `gitsess hooks install`, removed by `gitsess hooks uninstall`.
# It runs the hook that was here before (its exit status is kept), then lets gitsess
# record the commit. gitsess itself never stops git.
GITSESS="${{GITSESS:-{exe}}}"
command -v "$GITSESS" >/dev/null 2>&1 || GITSESS=gitsess
previous="$0{suffix}"
{body}"""

# The trailer is added by the shell alone: no Python start-up on the commit's path.
TRAILER_BODY = """status=0
if [ -x "$previous" ]; then "$previous" "$@"; status=$?; fi
branch=$(git symbolic-ref -q --short HEAD 2>/dev/null) || branch=""
id=${branch##*[-/]}
case "$id" in @ID@) ;; *) id="" ;; esac
if [ -n "$id" ] && [ -n "$1" ] && git rev-parse -q --verify "refs/sessions/$id" >/dev/null
then
  if [ "$2" != merge ] || [ "$(git config --type=bool gitsess.trailerOnMerge)" = true ]; then
    grep -qi "^@TRAILER@: *$id *\\$" "$1" ||
      git interpret-trailers --in-place --if-exists addIfDifferent \\
        --trailer "@TRAILER@: $id" "$1" ||
      echo "gitsess: could not add the @TRAILER@ trailer; the commit goes on" >&2
  fi
fi
exit $status
""".replace("@ID@", "[0-9a-hjkmnp-tv-z]" * 10).replace("@TRAILER@", TRAILER)

# Recording the commit runs in the background (GITSESS_HOOKS_FOREGROUND=1 waits for it):
# the commit does not wait for Python to start. Problems go to .git/gitsess/hooks.log.
RECORD_BODY = """status=0
if [ -x "$previous" ]; then "$previous" "$@"; status=$?; fi
if ! command -v "$GITSESS" >/dev/null 2>&1; then
  echo "gitsess {name}: gitsess is not installed; this commit is not recorded" >&2
elif [ -n "$GITSESS_HOOKS_FOREGROUND" ]; then
  "$GITSESS" hook {name} "$@" </dev/null || true
else
  ("$GITSESS" hook {name} --background "$@" </dev/null >/dev/null 2>&1 &)
fi
exit $status
"""

# post-rewrite and pre-push read a list on stdin: both hooks get it.
STDIN_BODY = """input=$(cat)
status=0
if [ -x "$previous" ]; then printf '%s\\n' "$input" | "$previous" "$@"; status=$?; fi
if command -v "$GITSESS" >/dev/null 2>&1; then
  printf '%s\\n' "$input" | "$GITSESS" hook {name} "$@" || true
fi
exit $status
"""


def gitsess_executable() -> str:
    """This gitsess, by absolute path when it can be found, so hooks work outside its venv."""
    import shutil

    found = shutil.which("gitsess")
    if found:
        return found
    argv0 = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    return str(argv0) if argv0 and argv0.name in ("gitsess", "git-session") else "gitsess"


def script(name: str, exe: str = "gitsess") -> str:
    """The hook script for ``name``; ``exe`` is the gitsess to call (by absolute path if known)."""
    if name == "prepare-commit-msg":
        body = (
            TRAILER_BODY.replace("{{sessions}}", "sessions").replace("{{", "{").replace("}}", "}")
        )
    elif name == "post-commit":
        body = RECORD_BODY.format(name=name)
    else:
        body = STDIN_BODY.format(name=name)
    return SCRIPT.format(marker=MARKER, name=name, exe=exe, suffix=PREVIOUS_SUFFIX, body=body)


# -- running --------------------------------------------------------------------------


def main(args: list[str]) -> int:
    """`gitsess hook NAME ARGS...`: always exit 0."""
    if not args or args[0] not in HOOKS:
        print(f"gitsess hook: expected one of {', '.join(HOOKS)}", file=sys.stderr)
        return 0
    name, rest = args[0], args[1:]
    background = "--background" in rest
    rest = [a for a in rest if a != "--background"]
    try:
        if name == "prepare-commit-msg":
            print(
                "gitsess hook: prepare-commit-msg is done by the installed script alone",
                file=sys.stderr,
            )
        elif name == "post-commit":
            post_commit()
        elif name == "post-rewrite":
            post_rewrite(rest, sys.stdin.read())
        else:
            pre_push(rest, sys.stdin.read())
    except Exception as exc:
        if os.environ.get("GITSESS_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        line = f"gitsess {name}: {message} (the commit is fine; gitsess did not record it)"
        if background:
            _log_background(line)
        else:
            print(line, file=sys.stderr)
    return 0


def _log_background(line: str) -> None:
    """Where a hook running in the background reports: .git/gitsess/hooks.log."""
    import time

    from .capture import find_git_dirs

    dirs = find_git_dirs(Path.cwd())
    if dirs is None:
        return
    log = dirs[1] / "gitsess" / "hooks.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")


def post_commit() -> None:
    from .storage.repo import Identity, Repository

    repo = Repository(Path.cwd())
    try:
        # One read of the commit just made gives everything, even who made it.
        found = repo.read_commit("HEAD")
        if found is None:
            return
        head_oid, commit = found
        if len(commit.parents) > 1 and (repo.config("gitsess.trailerOnMerge") or "") != "true":
            return
        subject = commit.message.split("\n", 1)[0].strip()
        committer = dict(commit.headers).get("committer", "")
        who = re.match(r"^(.*?) <(.*?)>", committer)
        if who:
            repo.assumed_identity = Identity(who.group(1), who.group(2))
        target = _current_session_id(repo)
        from .storage.log import LogStore

        store = LogStore(repo)
        via: dict[str, Any] = {}
        if target is None:  # a cherry-pick onto another branch: its trailer still knows
            named = re.findall(rf"(?mi)^{TRAILER}:\s*([0-9a-z]{{10}})\s*$", commit.message)
            target = next((s for s in named if store.exists(s)), None)
            via = {"meta": {"via": "trailer"}}  # the message said so; not proof
        if target is None:
            return
        state = store.state(target)
        if state is None or _recently_recorded(store, state, head_oid):
            return  # post-rewrite, which may run beside this hook, recorded it already
        # tree and parents make the entry proof of this very commit (review.py verifies them)
        entry = {
            "type": "commit",
            "sha": head_oid,
            "subject": subject,
            "tree": commit.tree,
            "parents": commit.parents,
            **via,
        }
        _append_commits(store, target, [entry], head=head_oid)
    finally:
        repo.close()


def post_rewrite(args: list[str], stdin: str) -> None:
    """Record the new commit of every rewritten commit a session's log knows."""
    pairs = [line.split()[:2] for line in stdin.splitlines() if len(line.split()) >= 2]
    if not pairs:
        return
    from .storage.repo import Repository

    repo = Repository(Path.cwd())
    try:
        sessions = _sessions(repo)
        candidates = {s for s in [_current_session_id(repo)] if s}
        news = [new for _, new in pairs]
        out = repo.git.text(
            "log",
            "--no-walk",
            f"--format=%H%x00%s%x00%T%x00%P%x00%(trailers:key={TRAILER},valueonly,separator=%x2C)",
            *news,
        )
        subjects, trees = {}, {}
        for line in out.splitlines():
            sha, subject, tree, parents, trailers = ([*line.split("\x00"), "", "", "", ""])[:5]
            subjects[sha] = subject
            trees[sha] = {"tree": tree, "parents": parents.split()}
            candidates |= {t.strip() for t in trailers.split(",") if is_session_id(t.strip())}
        kind = args[0] if args else "rewrite"
        for session_id in sorted(candidates):
            state = sessions.store.state(session_id)
            if state is None:
                continue
            known = {
                e.get("sha") for e in sessions.store.entries(state) if e.get("type") == "commit"
            }
            entries: list[dict[str, Any]] = []
            for old, new in pairs:
                if old not in known:
                    continue
                # post-commit may have recorded the new commit already (amend, rebase): then
                # only the link from the old one is new.
                if new not in known:
                    entries.append(
                        {
                            "type": "commit",
                            "sha": new,
                            "subject": subjects.get(new, ""),
                            **trees.get(new, {}),
                        }
                    )
                entries.append(
                    {
                        "type": "event",
                        "name": "rewritten",
                        "data": {"from": old, "to": new, "kind": kind},
                    }
                )
            if entries:
                _append_commits(sessions.store, session_id, entries)
    finally:
        repo.close()


def pre_push(args: list[str], stdin: str) -> None:
    """With gitsess.pushSessions, push the shared sessions whose branches are being pushed."""
    from .storage.repo import Repository

    if os.environ.get("GITSESS_IN_PRE_PUSH"):
        return  # our own push of the logs below runs this hook again
    repo = Repository(Path.cwd())
    try:
        if (repo.config("gitsess.pushSessions") or "").lower() != "true" or not args:
            return
        sessions = _sessions(repo)
        ids = []
        for line in stdin.splitlines():
            local_ref = line.split()[0] if line.split() else ""
            if not local_ref.startswith("refs/heads/"):
                continue
            candidate = session_id_from_branch(local_ref[len("refs/heads/") :])
            state = sessions.store.state(candidate) if candidate else None
            if state and state.meta.get("visibility") == "shared":
                ids.append(state.session_id)
        if not ids:
            return
        from .sharing import Sharing

        # git is pushing the branches itself: send only the logs beside them.
        report = Sharing(sessions).push(ids, args[0], with_branches=False)
        for session_id, reason in report.rejected.items():
            print(f"gitsess pre-push: {session_id} not pushed: {reason}", file=sys.stderr)
        for blocked in report.blocked:
            print(
                f"gitsess pre-push: not pushed, likely secrets: {blocked.describe()}",
                file=sys.stderr,
            )
    finally:
        repo.close()


def _sessions(repo: Repository) -> Sessions:
    from .sessions import Sessions

    return Sessions(repo)


def _append_commits(
    store: LogStore, session_id: str, entries: list[dict[str, Any]], head: str | None = None
) -> None:
    """Append commit entries without loading the input validation: they are made here."""
    from .ids import new_entry_id, now
    from .storage.log import Change, encode_json

    head = head or store.repo.head_commit()
    stamp = now()
    lines = [
        encode_json({"id": new_entry_id(), "ts": stamp, **entry, "head": head}) for entry in entries
    ]

    def change(state: LogState) -> Change:
        noun = "entry" if len(lines) == 1 else "entries"
        return Change({**state.meta, "updated": stamp}, f"append {len(lines)} commit {noun}", lines)

    store.update(session_id, change)


def _recently_recorded(store: LogStore, state: LogState, sha: str) -> bool:
    """Whether the log's last segment has a commit entry for ``sha`` (where a racing
    post-rewrite would have put it); only that segment is read, whatever the log's length."""
    if not state.segments:
        return False
    needle = f'"sha":"{sha}"'.encode()
    last = state.segments[-1].oid
    return needle in store.segment_data([last]).get(last, b"")


def _current_session_id(repo: Repository) -> str | None:
    branch = repo.current_branch()
    return session_id_from_branch(branch) if branch else None


# -- installing -----------------------------------------------------------------------


def hooks_dir(repo: Repository) -> Path:
    """Where git runs hooks from: honours core.hooksPath (Husky, pre-commit, team folders)."""
    path = Path(repo.git.text("rev-parse", "--git-path", "hooks"))
    return path if path.is_absolute() else repo.root / path


def is_ours(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:400]
    except OSError:
        return False
    return MARKER in head


def install(repo: Repository, exe: str) -> list[str]:
    """Install every hook, keeping any hook already there as the one ours runs first."""
    folder = hooks_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    installed = []
    for name in HOOKS:
        target = folder / name
        previous = folder / (name + PREVIOUS_SUFFIX)
        if target.exists() and not is_ours(target):
            if previous.exists():
                raise RuntimeError(f"{previous} already exists; not moving {target} over it")
            os.replace(target, previous)
        elif target.exists() and target.read_text(encoding="utf-8") == script(name, exe):
            continue
        _write_executable(target, script(name, exe))
        installed.append(name)
    return installed


def uninstall(repo: Repository) -> list[str]:
    """Remove our hooks and put back exactly what was there before."""
    folder = hooks_dir(repo)
    removed = []
    for name in HOOKS:
        target = folder / name
        previous = folder / (name + PREVIOUS_SUFFIX)
        if target.exists() and is_ours(target):
            target.unlink()
            removed.append(name)
            if previous.exists():
                os.replace(previous, target)
    return removed


def status(repo: Repository) -> dict[str, str]:
    """Per hook: "installed", "installed (runs the previous hook first)", or "not installed"."""
    folder = hooks_dir(repo)
    found = {}
    for name in HOOKS:
        target = folder / name
        if target.exists() and is_ours(target):
            chained = (folder / (name + PREVIOUS_SUFFIX)).exists()
            found[name] = "installed, runs the previous hook first" if chained else "installed"
        else:
            found[name] = "not installed" + (" (another hook is there)" if target.exists() else "")
    return found


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.gitsess-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)
