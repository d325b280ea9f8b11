"""The sessions behind commits: what `pr`, `why` and `log` show.

A code commit leads to a session in two ways:

- the session's log holds a `commit` entry with the commit's sha, its `tree`
  and its `parents` (the post-commit and post-rewrite hooks write them): the
  link is **verified**. An entry with the sha alone (`record --jsonl`, an
  importer, a log written before entries carried tree and parents) or whose
  tree or parents are not the commit's is only **recorded, unverified**: anyone
  who can push a log can write any sha;
- the commit message names the session in a `Session: <id>` line (the
  prepare-commit-msg hook's trailer, which a rebase, a cherry-pick or a squash
  carries along): the link is **unverified** until the session's log records
  that sha, since anyone can write any trailer. A named session that is not
  in this repository is **unknown**.

The documents built here are plain JSON: `--json` prints them as they are,
and `render/review.py` draws the Markdown and terminal views from the same
documents, so both always show the same data.

Cost: one `git log` for the commits (shas, subjects and messages together),
one `for-each-ref` and a few `cat-file` batches to search every session's log
for those shas (a byte search; only lines of candidate logs are parsed), and
one more `cat-file` for the logs of the sessions found.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadInput
from .sessions import Sessions
from .storage import history
from .storage.history import CodeCommit
from .storage.log import Entry, Listed, LogState, parse_line

_STORED_SHA = re.compile(rb'"sha"\s*:\s*"([0-9a-fA-F]{7,64})"')
_BLAME_TARGET = re.compile(r"^(.+):([0-9]+)$")
READ_CHUNK = 128  # segment blobs per `cat-file` while searching logs
MIN_SHORT_SHA = 7
REWRITTEN_EVENT = "rewritten"  # post-rewrite's event: data {"from": old, "to": new, "kind"}
DEFAULT_LOG_COUNT = 20
BASE_CANDIDATES = ("main", "master")
# Keys of tool inputs that name a file (Claude Code, Codex, Gemini CLI, generic tools).
FILE_KEYS = ("file_path", "path", "filePath", "notebook_path", "absolute_path", "filename", "file")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)


# -- commits -----------------------------------------------------------------------


# -- sessions and links --------------------------------------------------------------


@dataclass
class SessionLog:
    """One session's whole log, with its own `commit` entries indexed by sha."""

    listed: Listed
    entries: list[Entry]
    own_from: int  # entries before this index came from the session a fork started from
    by_sha: dict[str, int] = field(default_factory=dict)
    every: dict[str, list[int]] = field(default_factory=dict)  # sha -> all its own entries
    short: list[tuple[str, int]] = field(default_factory=list)
    # new sha -> the shas it replaced (a squash replaces several)
    rewrites: dict[str, list[str]] = field(default_factory=dict)

    @property
    def session_id(self) -> str:
        return str(self.listed.meta.get("id", ""))

    def __post_init__(self) -> None:
        self.position = {id(entry): index for index, entry in enumerate(self.entries)}
        for index in range(self.own_from, len(self.entries)):
            entry = self.entries[index]
            sha = entry.get("sha")
            meta = entry.get("meta")
            via_trailer = isinstance(meta, dict) and meta.get("via") == "trailer"
            # A commit recorded only because its message named the session (a cherry-pick,
            # or a forged trailer) does not verify the link.
            if entry.get("type") == "commit" and isinstance(sha, str) and sha and not via_trailer:
                self.by_sha.setdefault(sha.lower(), index)
                self.every.setdefault(sha.lower(), []).append(index)
        self.short = [(k, i) for k, i in self.by_sha.items() if MIN_SHORT_SHA <= len(k) < 40]
        for entry in self.entries:
            meta = entry.get("meta")
            data = entry.get("data")
            if entry.get("type") == "commit" and isinstance(meta, dict):
                new, old = entry.get("sha"), meta.get("rewritten_from")
            elif entry.get("type") == "event" and entry.get("name") == REWRITTEN_EVENT:
                new, old = (data.get("to"), data.get("from")) if isinstance(data, dict) else (0, 0)
            else:
                continue
            if isinstance(new, str) and isinstance(old, str) and new and old:
                olds = self.rewrites.setdefault(new.lower(), [])
                if old.lower() not in olds:
                    olds.append(old.lower())

    def is_rewrite(self, entry: Entry) -> bool:
        """A commit entry for a commit that replaced another (rebase, amend, squash)."""
        sha = entry.get("sha")
        return isinstance(sha, str) and sha.lower() in self.rewrites

    def origins(self, index: int) -> list[int]:
        """The entries of the commits that the commit recorded at ``index`` replaced."""
        sha = self.entries[index].get("sha")
        olds = self.rewrites.get(sha.lower(), []) if isinstance(sha, str) else []
        return [i for i in (self.records(old) for old in olds) if i is not None]

    def records(self, sha: str) -> int | None:
        """The index of the entry recording commit ``sha`` (a full sha), if the log has one."""
        if sha in self.by_sha:
            return self.by_sha[sha]
        for known, index in self.short:  # an entry written with an abbreviated sha
            if sha.startswith(known):
                return index
        return None

    def proof(self, commit: CodeCommit) -> tuple[int | None, bool]:
        """The entry recording ``commit``, and whether it proves it: an entry whose `tree`
        and `parents` are the commit's own, not only its sha (which anyone can copy)."""
        index = self.records(commit.sha)
        if index is None:
            return None, False
        sha = str(self.entries[index].get("sha", "")).lower()
        for candidate in self.every.get(sha, [index]):
            if _proves(self.entries[candidate], commit):
                return candidate, True
        return index, False

    def same_subject(self, subject: str) -> int | None:
        """The last own commit entry with this subject: a hint for an unverified link."""
        found = [i for i in self.by_sha.values() if self.entries[i].get("subject") == subject]
        return max(found) if found and subject else None


@dataclass
class Link:
    """A commit and one session behind it."""

    session_id: str
    verified: bool  # the session's log records this very commit, with its tree and parents
    via: list[str]  # "log" and/or "trailer"
    entry: int | None  # the commit entry the link rests on, when there is one
    # "sha" (the log records the sha: verified, or without proof when not verified), or
    # "subject" (unverified: the log has the same subject)
    matched_by: str | None


@dataclass
class Found:
    commits: list[CodeCommit]
    logs: dict[str, SessionLog]
    links: dict[str, list[Link]]  # by commit sha
    unknown: dict[str, list[str]]  # by commit sha: named sessions not in this repository

    def sessions_in_order(self) -> list[str]:
        """Sessions in the order of the first commit they explain."""
        order: dict[str, None] = {}
        for commit in self.commits:
            for link in self.links.get(commit.sha, []):
                order.setdefault(link.session_id, None)
        return list(order)


def _active(entry: Entry) -> bool:
    meta = entry.get("meta")
    return not (isinstance(meta, dict) and meta.get("inactive"))


def is_prompt(entry: Entry) -> bool:
    """A message the user typed: not text an agent injected under the user's role, a
    slash command's echo or a subagent's prompt (render/noise.py tells them apart)."""
    from .render.noise import is_user_prompt

    return is_user_prompt(entry)


def lead_up(log: SessionLog, index: int, full: bool = False) -> tuple[list[Entry], Entry | None]:
    """The entries that led to the commit entry at ``index``, and the user prompt behind it.

    The entries run from the user's prompt that started the turn that made the commit, or
    from the session's previous commit entry if that came later in the turn, up to this
    one; ``full``: from the session's first entry. For a rebased or amended commit, the
    post-rewrite hook links it to the commit it replaced (an event `rewritten` {from, to},
    or `meta.rewritten_from` on the commit entry): the work that led to that one comes
    first. The prompt is the first the user gave in these entries, else the last one
    before them.
    """
    span = _span(log, index, set(), full)
    first = log.position[id(span[0])] if span else index
    prompt = next((e for e in span if is_prompt(e)), None)
    if prompt is None:
        prompt = next((e for e in reversed(log.entries[:first]) if is_prompt(e)), None)
    return span, prompt


def _span(log: SessionLog, index: int, seen: set[int], full: bool = False) -> list[Entry]:
    entries = log.entries
    seen.add(index)
    start = index
    while start > 0 and not full:
        previous = entries[start - 1]
        if previous.get("type") == "commit" and not log.is_rewrite(previous):
            break
        if is_prompt(previous):  # the turn that made the commit starts here
            start -= 1
            break
        start -= 1
    if full:
        start = 0
    fresh = [
        e
        for e in entries[start:index]
        if _active(e)
        and not (e.get("type") == "commit" and log.is_rewrite(e))
        and not (e.get("type") == "event" and e.get("name") == REWRITTEN_EVENT)
    ]
    earlier = []
    for origin in log.origins(index):
        if origin not in seen:
            earlier += _span(log, origin, seen, full)
    chosen: dict[int, Entry] = {}
    for entry in [*earlier, *fresh, entries[index]]:
        chosen.setdefault(id(entry), entry)
    return sorted(chosen.values(), key=lambda e: log.position[id(e)])


# -- the service --------------------------------------------------------------------


class Review:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.repo = sessions.repo
        self.store = sessions.store

    # -- ranges and commits -------------------------------------------------------

    def pr_range(self, spec: str | None) -> str:
        """RANGE as given (a single revision means REV..HEAD), else the branch against its base."""
        if spec:
            return spec if ".." in spec else f"{spec}..HEAD"
        self._require_head()
        base = self.default_base()
        if base is None:
            raise BadInput(
                "no branch to compare with (no upstream, no main, master or origin/main): "
                "give a RANGE, e.g. gitsess pr main..HEAD"
            )
        return f"{base}..HEAD"

    def default_base(self) -> str | None:
        """The branch a pull request of the current branch goes into.

        The upstream, unless it is the branch's own copy on the remote (`git push -u`), whose
        range is only what is not pushed yet; else main, master, then the remotes' default
        branch, main or master (origin first); never the current branch itself.
        """
        current = self.repo.current_branch()
        remotes = self.repo.remotes()
        remotes.sort(key=lambda r: r != "origin")
        upstream = history.upstream(self.repo)
        if upstream and current:
            own = {f"refs/heads/{current}", *(f"refs/remotes/{r}/{current}" for r in remotes)}
            if upstream not in own:
                return _short(upstream)
        candidates = [f"refs/heads/{b}" for b in BASE_CANDIDATES]
        for remote in remotes:
            candidates += [f"refs/remotes/{remote}/{b}" for b in ("HEAD", *BASE_CANDIDATES)]
        for ref in candidates:
            if current and ref == f"refs/heads/{current}":
                continue
            if self.repo.ref_value(ref):
                return _short(ref)
        return None

    def log_limit(self, spec: str | None, count: int | None) -> tuple[str, int | None]:
        """What `log` shows: a range A..B (all of it unless ``count``), else the last
        ``count`` (default 20) commits of a revision (default HEAD)."""
        if spec is not None and ".." in spec:
            return spec, count
        if spec is None:
            self._require_head()
        return spec or "HEAD", count or DEFAULT_LOG_COUNT

    def commits(
        self, revs: list[str], what: str, options: tuple[str, ...] = ()
    ) -> list[CodeCommit]:
        """The commits `git log OPTIONS REVS` lists, oldest first: one git process."""
        for rev in revs:
            if rev.startswith("-") or not rev.strip():
                raise BadInput(f"{what}: {rev!r} is not a revision or range")
        try:
            return history.commits(self.repo, revs, options)
        except history.NotFound as exc:
            raise BadInput(f"{what}: not a revision or range ({exc})") from None

    def _require_head(self) -> None:
        if self.repo.ref_value("HEAD") is None:
            raise BadInput("there are no commits yet")

    def target(self, spec: str, cwd: Path) -> tuple[str, dict[str, Any] | None]:
        """The commit ``spec`` names: a revision, or FILE:LINE through `git blame`."""
        sha = self.repo.resolve(spec) if not spec.startswith("-") else None
        if sha:
            return sha, None
        match = _BLAME_TARGET.match(spec)
        if match is None:
            raise BadInput(f"unknown revision {spec!r} (give a commit, or FILE:LINE)")
        path, line = match.group(1), int(match.group(2))
        full = os.path.normpath(os.path.join(cwd.resolve(), path))
        relative = os.path.relpath(full, self.repo.root.resolve())
        if relative.startswith(".."):
            raise BadInput(f"{path} is outside the repository")
        if line < 1:
            raise BadInput(f"{spec}: lines are numbered from 1")
        try:
            sha, text = history.blame_line(self.repo, relative, line)
        except history.NotFound as exc:
            raise BadInput(f"unknown revision {spec!r}, and no line to blame ({exc})") from None
        if not sha or set(sha) == {"0"}:
            raise BadInput(f"line {line} of {path} is not committed yet: no commit to explain")
        return sha, {"file": relative.replace(os.sep, "/"), "line": line, "text": text}

    # -- finding the sessions ---------------------------------------------------

    def find(self, commits: list[CodeCommit]) -> Found:
        """The sessions behind ``commits``: by their logs' commit entries and by trailers."""
        wanted = {c.sha for c in commits}
        named = {sid for c in commits for sid in c.named}
        states = self._states()
        kept: dict[str, bytes] = {}
        candidates = self._logs_mentioning(states, wanted, kept) | (named & set(states))
        logs = self._read_logs([states[sid] for sid in sorted(candidates)], kept)
        found = Found(commits, logs, {}, {})
        for commit in commits:
            links: list[Link] = []
            for sid, log in logs.items():
                index, proved = log.proof(commit)
                if index is not None:
                    via = ["log", "trailer"] if sid in commit.named else ["log"]
                    links.append(Link(sid, proved, via, index, "sha"))
            linked = {link.session_id for link in links}
            for sid in commit.named:
                if sid in linked:
                    continue
                if sid in logs:
                    hint = logs[sid].same_subject(commit.subject)
                    links.append(
                        Link(sid, False, ["trailer"], hint, "subject" if hint is not None else None)
                    )
                else:
                    found.unknown.setdefault(commit.sha, []).append(sid)
            order = {sid: n for n, sid in enumerate(commit.named)}
            links.sort(
                key=lambda link: (
                    not link.verified,
                    order.get(link.session_id, len(order)),
                    link.session_id,
                )
            )
            if links:
                found.links[commit.sha] = links
        return found

    def _states(self) -> dict[str, LogState]:
        """Every session's log state: one for-each-ref, then reads on the open cat-file."""
        states = {}
        for listed in self.store.read_all():
            sid = str(listed.meta.get("id", ""))
            state = self.store.state(sid, at=listed.oid) if sid else None
            if state is not None:
                states[sid] = state
        return states

    def _logs_mentioning(
        self, states: dict[str, LogState], wanted: set[str], kept: dict[str, bytes]
    ) -> set[str]:
        """Sessions whose log has a `"sha": "..."` among ``wanted``: a byte search, no parsing.

        A superset: the matching lines are checked when the logs are read. When every
        segment fits in one read, their data is kept in ``kept`` for reading the logs.
        """
        if not wanted:
            return set()
        blobs = sorted({s.oid for state in states.values() for s in state.segments})
        hits: set[str] = set()
        for start in range(0, len(blobs), READ_CHUNK):
            chunk = blobs[start : start + READ_CHUNK]
            for oid, data in self.store.segment_data(chunk).items():
                if len(blobs) <= READ_CHUNK:
                    kept[oid] = data
                for raw in _STORED_SHA.findall(data):
                    sha = raw.decode().lower()
                    if sha in wanted or (len(sha) < 40 and any(w.startswith(sha) for w in wanted)):
                        hits.add(oid)
                        break
        return {
            sid
            for sid, state in states.items()
            if any(segment.oid in hits for segment in state.segments)
        }

    def _read_logs(self, states: list[LogState], kept: dict[str, bytes]) -> dict[str, SessionLog]:
        """The whole logs of ``states``: one `cat-file` for what ``kept`` does not hold."""
        missing = [
            oid
            for oid in dict.fromkeys(s.oid for state in states for s in state.segments)
            if oid not in kept
        ]
        data = {**kept, **self.store.segment_data(missing)}
        logs = {}
        for state in states:
            entries = [
                parse_line(line)
                for segment in state.segments
                for line in data.get(segment.oid, b"").splitlines()
                if line.strip()
            ]
            listed = Listed(state.meta, state.count, state.oid)
            logs[state.session_id] = SessionLog(listed, entries, _own_from(state.meta, entries))
        return logs

    # -- documents -------------------------------------------------------------

    def summary(self, log: SessionLog) -> dict[str, Any]:
        return self.sessions.summary(log.listed.meta, log.listed.count, log.listed.oid)

    def pr(self, spec: str | None) -> dict[str, Any]:
        """`gitsess pr`: the sessions behind a range, for a pull request description."""
        range_ = self.pr_range(spec)
        commits = self.commits([range_], "RANGE")
        found = self.find(commits)
        by_sha = {c.sha: c for c in commits}
        sessions = []
        for sid in found.sessions_in_order():
            log = found.logs[sid]
            produced = []
            for commit in commits:
                for link in found.links.get(commit.sha, []):
                    if link.session_id == sid:
                        produced.append(
                            {"sha": commit.sha, "subject": commit.subject, **_link_doc(link, log)}
                        )
            sessions.append(
                {
                    "session": self.summary(log),
                    "prompts": [_prompt_text(e) for e in log.entries if is_prompt(e)],
                    **account(log.entries, self.repo.root),
                    "commits": produced,
                    "entries": log.entries,
                }
            )
        unknown: dict[str, list[str]] = {}
        for sha, ids in found.unknown.items():
            for sid in ids:
                unknown.setdefault(sid, []).append(sha)
        return {
            "range": range_,
            "commits": [self._commit_doc(c, found) for c in commits],
            "sessions": sessions,
            "unknown_sessions": [{"id": sid, "commits": shas} for sid, shas in unknown.items()],
            "without_session": [
                {
                    "sha": sha,
                    "subject": by_sha[sha].subject,
                    "unknown_sessions": found.unknown.get(sha, []),
                }
                for sha in (c.sha for c in commits)
                if sha not in found.links
            ],
        }

    def why(self, spec: str, cwd: Path, full: bool = False) -> dict[str, Any]:
        """`gitsess why`: the session behind one commit, and what led to it (``full``:
        the session's whole conversation up to it)."""
        sha, blamed = self.target(spec, cwd)
        commits = self.commits([sha], "COMMIT", ("--no-walk",))
        found = self.find(commits)
        document = self._explained(commits[0], found, full)
        return {"line": blamed, **document} if blamed else document

    def log(self, spec: str | None, count: int | None) -> dict[str, Any]:
        """`gitsess log`: commits, each with the conversation that produced it."""
        range_, limit = self.log_limit(spec, count)
        options = (f"--max-count={limit}",) if limit else ()
        commits = self.commits([range_], "RANGE", options)
        found = self.find(commits)
        return {
            "range": range_,
            "max_count": limit,
            "commits": [self._explained(c, found) for c in commits],
        }

    def _commit_doc(self, commit: CodeCommit, found: Found) -> dict[str, Any]:
        return {
            **commit.document(),
            "sessions": [
                {"id": link.session_id, **_link_doc(link, found.logs[link.session_id])}
                for link in found.links.get(commit.sha, [])
            ],
            "unknown_sessions": found.unknown.get(commit.sha, []),
        }

    def _explained(self, commit: CodeCommit, found: Found, full: bool = False) -> dict[str, Any]:
        sessions = []
        for link in found.links.get(commit.sha, []):
            log = found.logs[link.session_id]
            span: list[Entry] = []
            prompt: Entry | None = None
            if link.entry is not None:
                span, prompt = lead_up(log, link.entry, full)
            sessions.append(
                {
                    "session": self.summary(log),
                    **_link_doc(link, log),
                    "prompt": prompt,
                    "entries": span,
                    # entries of the log before the first of these: `why --full` shows them
                    "earlier": log.position[id(span[0])] if span and not full else 0,
                }
            )
        return {
            "commit": commit.document(),
            "sessions": sessions,
            "unknown_sessions": found.unknown.get(commit.sha, []),
        }


def _link_doc(link: Link, log: SessionLog) -> dict[str, Any]:
    entry = log.entries[link.entry] if link.entry is not None else None
    return {
        "verified": link.verified,
        "via": link.via,
        "matched_by": link.matched_by,
        "entry": entry.get("id") if entry else None,
        "recorded_sha": entry.get("sha") if entry and not link.verified else None,
    }


def _proves(entry: Entry, commit: CodeCommit) -> bool:
    """Whether a commit entry carries the commit's own tree and parents (full shas)."""
    tree, parents = entry.get("tree"), entry.get("parents")
    if not isinstance(tree, str) or not isinstance(parents, list):
        return False
    if not all(isinstance(p, str) for p in parents):
        return False
    return tree.lower() == commit.tree and [p.lower() for p in parents] == commit.parents


def _own_from(meta: dict[str, Any], entries: list[Entry]) -> int:
    """Where a fork's own entries start: after the entry it was forked at."""
    parent = meta.get("parent")
    at = parent.get("entry") if isinstance(parent, dict) else None
    if not isinstance(at, str):
        return 0
    for index, entry in enumerate(entries):
        if entry.get("id") == at:
            return index + 1
    return 0


def _prompt_text(entry: Entry) -> str:
    from .render.text import content_text

    return content_text(entry.get("content")).strip()


def _short(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def account(entries: list[Entry], root: Path) -> dict[str, Any]:
    """What the agent did, counted from the entries: tool calls by name, failures, files named."""
    tools: dict[str, int] = {}
    files: dict[str, None] = {}
    errors = 0
    for entry in entries:
        if not _active(entry):
            continue
        if entry.get("type") == "tool_result" and entry.get("is_error"):
            errors += 1
        if entry.get("type") != "tool_call":
            continue
        name = str(entry.get("name") or "tool")
        tools[name] = tools.get(name, 0) + 1
        for path in _files_named(entry.get("input")):
            files.setdefault(_relative(path, root), None)
    ranked = dict(sorted(tools.items(), key=lambda item: (-item[1], item[0])))
    return {"tools": ranked, "tool_errors": errors, "files": list(files)}


def _files_named(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key in FILE_KEYS:
            path = value.get(key)
            if isinstance(path, str) and path.strip() and "\n" not in path and len(path) < 500:
                found.append(path.strip())
        for key in ("input", "patch"):  # Codex's apply_patch
            if isinstance(value.get(key), str):
                found += _PATCH_FILE.findall(value[key])
    elif isinstance(value, str):
        found += _PATCH_FILE.findall(value)
    return [path.strip() for path in found]


def _relative(path: str, root: Path) -> str:
    if os.path.isabs(path):
        for base in (str(root), str(root.resolve())):
            if path == base or path.startswith(base.rstrip("/") + "/"):
                return os.path.relpath(path, base).replace(os.sep, "/")
    return path
