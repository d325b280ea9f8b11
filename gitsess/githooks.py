"""Git hooks: link every commit to the session that made it.

- prepare-commit-msg adds the trailer `Session: <id>` on a session's branch;
- post-commit appends a `commit` entry (sha, subject) to that session's log;
- post-rewrite (amend, rebase) appends entries for the rewritten commits, so a
  rewritten commit still leads to its session;
- pre-push refuses a push that would send a private session's log or gitsess's
  own refs (`refs/gitsess/*`: tracking refs, the old trash); with `git config
  gitsess.pushSessions true` it also pushes the shared sessions whose branches
  are being pushed.

The installed scripts (the same as in the project's `hooks/` folder) run the
hook that was there before gitsess first, keep its exit status, then call
`gitsess hook NAME`, which never fails: a problem is one line on stderr and
git goes on. The one exception is pre-push's refusal, which `gitsess hook
pre-push` signals with the exit status REFUSED and the script turns into a
refused push; any other status of gitsess (a crash, a missing gitsess) lets the
push go on. This module is loaded without click or pydantic, since it runs on
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
# `gitsess hook pre-push`'s status for "refuse this push"; every other status lets it go.
REFUSED = 3
INTERNAL_REFS = "refs/gitsess/"
SESSION_REFS = "refs/sessions/"

SCRIPT = """#!/bin/sh
{marker}: {name}. Installed by `gitsess hooks install`, removed by `gitsess hooks uninstall`.
# It runs the hook that was here before (its exit status is kept), then lets gitsess
# {purpose}
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
# The commit and the branch are read here, while git waits: by the time a background job
# starts, a quicker next commit may have moved HEAD. One git call gives both (branch names
# hold no spaces or glob characters, so $made splits into exactly those two words).
RECORD_BODY = """status=0
if [ -x "$previous" ]; then "$previous" "$@"; status=$?; fi
if ! command -v "$GITSESS" >/dev/null 2>&1; then
  echo "gitsess {name}: gitsess is not installed; this commit is not recorded" >&2
else
  made=$(git rev-parse HEAD --symbolic-full-name HEAD 2>/dev/null) || made=""
  if [ -n "$GITSESS_HOOKS_FOREGROUND" ]; then
    "$GITSESS" hook {name} $made </dev/null || true
  else
    ("$GITSESS" hook {name} --background $made </dev/null >/dev/null 2>&1 &)
  fi
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

# pre-push: gitsess's one way to stop git is the status REFUSED (private sessions or
# gitsess's own refs would leave); any other status, a crash included, lets the push go.
PRE_PUSH_BODY = """input=$(cat)
status=0
if [ -x "$previous" ]; then printf '%s\\n' "$input" | "$previous" "$@"; status=$?; fi
if command -v "$GITSESS" >/dev/null 2>&1; then
  printf '%s\\n' "$input" | "$GITSESS" hook pre-push "$@"
  if [ $? -eq @REFUSED@ ]; then status=1; fi
fi
exit $status
""".replace("@REFUSED@", str(REFUSED))


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
    elif name == "pre-push":
        body = PRE_PUSH_BODY
    else:
        body = STDIN_BODY.format(name=name)
    purpose = (
        "check the push: it refuses one that would send a private session or gitsess's own refs."
        if name == "pre-push"
        else "record the commit. gitsess itself never stops git."
    )
    return SCRIPT.format(
        marker=MARKER, name=name, exe=exe, suffix=PREVIOUS_SUFFIX, body=body, purpose=purpose
    )


# -- running --------------------------------------------------------------------------


def main(args: list[str]) -> int:
    """`gitsess hook NAME ARGS...`: exit 0, or REFUSED when pre-push refuses the push."""
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
            post_commit(*_made_by_script(rest))
        elif name == "post-rewrite":
            post_rewrite(rest, sys.stdin.read())
        else:
            stdin = sys.stdin.read()
            if refuse_push(rest, stdin):
                return REFUSED
            pre_push(rest, stdin)
    except Exception as exc:
        if os.environ.get("GITSESS_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        outcome = "the commit is fine; gitsess did not record it"
        if name == "pre-push":  # only a refusal stops git's push
            outcome = "git's push goes on; gitsess pushed no session log"
        line = f"gitsess {name}: {message} ({outcome})"
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


def _made_by_script(args: list[str]) -> tuple[str | None, str | None]:
    """The commit and the ref HEAD named (``refs/heads/...``, or ``HEAD`` when detached)
    that the installed script read as git ran it; (None, None) from an older script or the
    pre-commit framework, which call the hook bare: HEAD is then read now."""
    sha, ref = (args[0], args[1]) if len(args) == 2 else ("", "")
    if not re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", sha):
        return None, None
    return (sha, ref) if ref == "HEAD" or ref.startswith("refs/heads/") else (None, None)


def post_commit(sha: str | None = None, ref: str | None = None) -> None:
    """Record commit ``sha`` made on ``ref`` (default: HEAD as it is now) in its session."""
    from .storage.repo import Identity, Repository

    repo = Repository(Path.cwd())
    try:
        # One read of the commit gives everything, even who made it.
        found = repo.read_commit(sha or "HEAD")
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
        if ref is None:
            target = _current_session_id(repo)
        else:
            branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
            target = session_id_from_branch(branch) if branch else None
        from .storage.log import LogStore

        store = LogStore(repo)
        via: dict[str, Any] = {}
        if target is None:  # a cherry-pick onto another branch: its trailer still knows
            named = re.findall(rf"(?mi)^{TRAILER}:\s*([0-9a-z]{{10}})\s*$", commit.message)
            target = next((s for s in named if store.exists(s)), None)
            via = {"meta": {"via": "trailer"}}  # the message said so; not proof
        if target is None or not store.exists(target):
            return
        entry = {
            "type": "commit",
            "sha": head_oid,
            "subject": subject,
            "tree": commit.tree,
            "parents": list(commit.parents),
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
    from .storage import history
    from .storage.repo import Repository

    repo = Repository(Path.cwd())
    try:
        sessions = _sessions(repo)
        candidates = {s for s in [_current_session_id(repo)] if s}
        news = [new for _, new in pairs]
        described: dict[str, dict[str, Any]] = {}
        for sha, about, trailers in history.described(repo, news, TRAILER):
            described[sha] = about
            candidates |= {t for t in trailers if is_session_id(t)}
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
                # only the link from the old one is new (decided again as it is written).
                about = described.get(new, {"subject": ""})
                entries.append({"type": "commit", "sha": new, **about})
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


def refuse_push(args: list[str], stdin: str) -> bool:
    """Whether the push git is about to make must be refused, having said why on stderr.

    Refused: writing or sending a session log (``refs/sessions/*``, on either side) whose
    session.json is not ``shared``, and anything under ``refs/gitsess/`` (tracking refs,
    an earlier version's trash). What is judged is what would be sent: the log commit
    each line pushes. Deletions send nothing and pass; so do gitsess's own pushes, which
    share a session on purpose (they set GITSESS_IN_PRE_PUSH).
    """
    if os.environ.get("GITSESS_IN_PRE_PUSH"):
        return False
    refused: dict[str, str] = {}  # ref -> why
    logs: list[tuple[str, str]] = []  # (ref, the log commit it sends or receives)
    for line in stdin.splitlines():
        fields = line.split()
        if len(fields) != 4 or not fields[1].strip("0"):
            continue  # not a ref update, or a deletion
        local_ref, local_sha, remote_ref, _ = fields
        for ref in (local_ref, remote_ref):
            if ref.startswith(INTERNAL_REFS):
                refused.setdefault(ref, "gitsess's own ref, never shared")
            elif ref.startswith(SESSION_REFS):
                logs.append((ref, local_sha))
    if logs:
        refused.update(_unshared_logs(logs))
    if refused:
        _explain_refusal(args[0] if args else "origin", refused)
    return bool(refused)


def _unshared_logs(logs: list[tuple[str, str]]) -> dict[str, str]:
    """{ref: why} for the session refs whose pushed log commit is not a shared session's."""
    import json

    from .storage.repo import Repository

    repo = Repository(Path.cwd())
    try:
        specs = [f"{sha}:session.json" for _, sha in logs]
        blobs = repo.reader.read_many(specs, failed={})
    finally:
        repo.close()
    refused = {}
    for (ref, _), blob in zip(logs, blobs, strict=True):
        try:
            meta = json.loads(blob.data) if blob else None
        except (ValueError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            refused[ref] = "not a readable session log"
        elif meta.get("visibility") != "shared":
            # Shown on a terminal: anything unprintable (escapes, bidi controls) as \uXXXX.
            title = str(meta.get("title", ""))
            shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in title)
            refused[ref] = f'private session "{shown}"'
    return refused


def _explain_refusal(remote: str, refused: dict[str, str]) -> None:
    shown = sorted(refused.items())
    lines = ["gitsess pre-push: refused: this push would send what gitsess keeps private:"]
    lines += [f"  {ref}  ({why})" for ref, why in shown[:10]]
    if len(shown) > 10:
        lines.append(f"  ... and {len(shown) - 10} more")
    lines += [
        "Nothing was pushed. To share a session on purpose: gitsess push SESSION.",
        "To mirror the rest of the repository, leave gitsess's refs out:",
        f"  git push {remote} 'refs/*:refs/*' '^refs/sessions/*' '^refs/gitsess/*'",
        "and share sessions with `gitsess push --all` (shared ones) or by name.",
    ]
    print("\n".join(lines), file=sys.stderr)


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
            print(f"gitsess pre-push: {session_id}: {reason}", file=sys.stderr)
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
    """Append commit entries (and rewrite events) the log does not hold yet.

    Whether a commit is recorded already is decided inside the compare-and-swap, against
    the log being written: a background post-commit, post-rewrite or a second job for the
    same commit that raced this one and won is seen on the retry, so no commit is recorded
    twice. The input validation is not loaded: these entries are made here.
    """
    from .ids import new_entry_id, now
    from .storage.log import Change, encode_json

    head = head or store.repo.head_commit()
    stamp = now()
    stamped = [{"id": new_entry_id(), "ts": stamp, **entry, "head": head} for entry in entries]
    keys = [key for key in map(_recorded_key, stamped) if key]
    shas = {key[1] for key in keys}  # the commit, or the new commit a rewrite led to

    def change(state: LogState) -> Change | None:
        recorded = _recorded(store, state, shas)
        lines = []
        for entry in stamped:
            key = _recorded_key(entry)
            if key in recorded:
                continue
            if key:
                recorded.add(key)  # a batch that names one commit twice records it once
            lines.append(encode_json(entry))
        if not lines:
            return None
        noun = "entry" if len(lines) == 1 else "entries"
        return Change({**state.meta, "updated": stamp}, f"append {len(lines)} commit {noun}", lines)

    store.update(session_id, change)


def _recorded_key(entry: dict[str, Any]) -> tuple[str, ...] | None:
    """What makes ``entry`` a repeat: a `commit` entry's sha, a `rewritten` event's pair."""
    if entry.get("type") == "commit" and isinstance(entry.get("sha"), str):
        return ("commit", entry["sha"])
    data = entry.get("data")
    if entry.get("type") == "event" and entry.get("name") == "rewritten" and isinstance(data, dict):
        return ("rewritten", str(data.get("to")), str(data.get("from")))
    return None


# Where a stored entry names a commit: a `commit` entry's sha, a `rewritten` event's `to`.
_NAMED_COMMIT = re.compile(rb'"(?:sha|to)"\s*:\s*"([0-9a-f]{40}(?:[0-9a-f]{24})?)"')


def _recorded(store: LogStore, state: LogState, shas: set[str]) -> set[tuple[str, ...]]:
    """The keys (see _recorded_key) of the entries in the log that name one of ``shas``.

    Every segment is searched, as bytes: one pass of a regex, whatever the number of
    shas (a rebase brings many), and only the lines naming one of them are parsed.
    """
    if not shas or not state.segments:
        return set()
    from .storage.log import parse_line

    found: set[tuple[str, ...]] = set()
    for data in store.segment_blobs(state.segments, state.session_id):
        hits = {m.group(1) for m in _NAMED_COMMIT.finditer(data)} & {s.encode() for s in shas}
        for line in data.splitlines() if hits else []:
            if any(hit in line for hit in hits):
                key = _recorded_key(parse_line(line))
                if key:
                    found.add(key)
    return found


def _current_session_id(repo: Repository) -> str | None:
    branch = repo.current_branch()
    return session_id_from_branch(branch) if branch else None


# -- installing -----------------------------------------------------------------------


def hooks_dir(repo: Repository) -> Path:
    """Where git runs hooks from: honours core.hooksPath (Husky, pre-commit, team folders)."""
    return repo.git_path("hooks")


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
