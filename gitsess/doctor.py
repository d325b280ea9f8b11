"""`gitsess doctor`: check every session, and repair what can be repaired without losing anything.

Per session: the log ref names a complete log commit; `session.json` is a JSON object with
the format's fields; every segment line is an entry; entry ids are unique; the branch exists;
fetched copies are merged. Per repository: the trash reflog, the hooks.

Every repair is a compare-and-swap ref update that keeps what was there: a broken ref goes
back to the newest complete value of its reflog; a log with a bad `session.json`, unreadable
lines or repeated ids gets a new log commit on top of the old one, which stays its parent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

from .errors import GitsessError
from .ids import (
    DEFAULT_BRANCH_PREFIX,
    check_title,
    format_ts,
    is_session_id,
    new_entry_id,
    now,
    session_id_from_branch,
)
from .jsonl import NOT_READ, quick
from .merge import fold_duplicates
from .sessions import Sessions
from .storage.layout import LOG_DIR, META_FILE, SESSIONS
from .storage.log import (
    ENTRIES_TRAILER,
    META_MAX_BYTES,
    NESTED_TOO_DEEPLY,
    Entry,
    LogState,
    Meta,
    RawLog,
    encode_json,
    load_json,
    load_meta,
    recorded_count,
    session_ref,
)
from .storage.repo import RefMoved
from .storage.trash import Trash
from .storage.verified import VerifiedLogs
from .validate import plainly_valid_meta

ERROR = "error"
WARNING = "warning"
ADVICE = "advice"
RAN_AGAIN = "the session changed while doctor ran; run it again"
SHOWN = 3  # locations or ids named in one finding
CHUNK = 1000  # logs read in bulk at a time: memory stays bounded however many there are
# The version of the checks a log commit passes: raise it when they change, and logs an
# earlier version verified are checked again (storage/verified.py).
CHECKS = "1"


@dataclass
class Finding:
    """One thing doctor found; with --fix, what it did about it or why it could not."""

    check: str
    severity: str
    message: str
    session: str | None = None
    fixed: str | None = None
    not_fixed: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "fixed": self.fixed,
            "not_fixed": self.not_fixed,
        }


@dataclass
class Report:
    sessions: list[str]
    findings: list[Finding]
    fix: bool

    @property
    def remaining(self) -> list[Finding]:
        """The errors still there: they make doctor exit 1. Warnings and advice do not."""
        return [f for f in self.findings if f.severity == ERROR and f.fixed is None]

    @property
    def ok(self) -> bool:
        return not self.remaining

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "fix": self.fix,
            "sessions": len(self.sessions),
            "errors": self.count(ERROR),
            "warnings": self.count(WARNING),
            "advice": self.count(ADVICE),
            "fixed": sum(1 for f in self.findings if f.fixed),
            "remaining": len(self.remaining),
            "findings": [f.as_json() for f in self.findings],
        }


@dataclass
class _Lines:
    """A log's lines, read without trusting them, and what a repair would write instead."""

    entries: list[Entry] = field(default_factory=list)
    raw: dict[int, bytes] = field(default_factory=dict)  # id(entry) -> its stored line
    stored: int = 0  # '\n'-terminated lines, as the Entries trailer counts them
    unreadable: list[str] = field(default_factory=list)  # where: "log/00000000.jsonl:3"
    unterminated: list[str] = field(default_factory=list)  # segments missing a final newline
    filled: int = 0  # entries given the id or ts they lacked


Tracked = list[tuple[str, str, str]]  # (tracking ref, log commit, remote name)


class Doctor:
    def __init__(self, sessions: Sessions, fix: bool = False, full: bool = False) -> None:
        from .sharing import Sharing

        self.sessions = sessions
        self.repo = sessions.repo
        self.store = sessions.store
        self.sharing = Sharing(sessions)
        self.fix = fix
        self.full = full  # check every log, not only those no earlier run verified
        self.findings: list[Finding] = []
        self._heads: dict[str, str] = {}  # branch -> tip, listed once
        self._verified = VerifiedLogs(sessions.repo, CHECKS, ignore=True)
        self._agents: set[str] = set()
        self._branches: dict[str, list[str]] = {}  # branch -> sessions naming it

    def add(self, check: str, severity: str, message: str, session: str | None = None) -> Finding:
        finding = Finding(check, severity, message, session)
        self.findings.append(finding)
        return finding

    def run(self) -> Report:
        # for-each-ref lists broken refs too, as long as their objects are not asked for.
        logs = self.repo.ref_targets(SESSIONS)
        tracked: dict[str, Tracked] = {}
        for ref, session_id, oid, remote_name in self.sharing.tracking():
            tracked.setdefault(session_id, []).append((ref, oid, remote_name))
        seen = self.sharing.seen()
        self._heads = self.repo.ref_targets("refs/heads/")
        # --full: every log checked again (a fresh cache, saved as this run's verdicts).
        self._verified = VerifiedLogs(self.repo, CHECKS, ignore=self.full)
        names = sorted(logs)
        for at in range(0, len(names), CHUNK):  # read in bulk, a chunk at a time in memory
            chunk = [(sid, logs[sid]) for sid in names[at : at + CHUNK]]
            known = self._known_meta([p for p in chunk if p in self._verified])
            fresh = [oid for sid, oid in chunk if (sid, oid) not in known and is_session_id(sid)]
            raws = self.store.inspect_many(fresh)
            for session_id, oid in chunk:
                where = tracked.get(session_id, [])
                check = partial(
                    self._session,
                    session_id,
                    oid,
                    where,
                    seen,
                    raws.get(oid),
                    known.get((session_id, oid)),
                )
                self._guard(session_id, check)
        for session_id in sorted(set(tracked) - set(logs)):  # fetched, not here (yet)
            self._guard(
                session_id, partial(self._tracking, session_id, None, tracked[session_id], seen)
            )
            merged = self.repo.ref_value(session_ref(session_id)) if self.fix else None
            if merged:  # merged just now: check it like the others
                logs[session_id] = merged
                check = partial(self._session, session_id, merged, tracked[session_id], seen)
                self._guard(session_id, check)
        for branch, owners in sorted(self._branches.items()):
            if len(owners) > 1:
                self.add(
                    "branch",
                    WARNING,
                    f"sessions {', '.join(owners)} all name branch {branch}",
                    owners[0],
                )
        self._guard(None, self._trash)
        self._guard(None, self._hooks)
        now_there = self.repo.ref_targets(SESSIONS) if self.fix else logs  # --fix moves some
        self._verified.save(keep=set(now_there.items()))
        return Report(sorted(logs), self.findings, self.fix)

    def _known_meta(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Meta]:
        """session.json of each log an earlier run verified, in one `cat-file`: all the
        checks that depend on more than the log commit itself need of it."""
        specs = [f"{oid}:{META_FILE}" for _, oid in pairs]
        blobs = self.repo.reader.read_many(specs, failed={}, max_size=META_MAX_BYTES)
        known = {}
        for (session_id, oid), blob in zip(pairs, blobs, strict=True):
            with suppress(GitsessError, ValueError):
                known[(session_id, oid)] = load_meta(session_id, blob)
        return known

    def _guard(self, session_id: str | None, check: Callable[[], None]) -> None:
        """Run one check; whatever breaks in it is reported, and the others still run."""
        try:
            check()
        except GitsessError as exc:
            self.add("doctor", ERROR, f"could not be checked: {exc.message}", session_id)
        except Exception as exc:  # a broken repository must not stop the report
            reason = " ".join(str(exc).split()) or type(exc).__name__
            self.add("doctor", ERROR, f"could not be checked: {reason}", session_id)

    # -- one session ------------------------------------------------------------------

    def _session(
        self,
        session_id: str,
        oid: str,
        tracked: Tracked,
        seen: dict[str, str],
        raw: RawLog | None = None,
        known: Meta | None = None,
    ) -> None:
        if not is_session_id(session_id):
            self.add(
                "ref",
                WARNING,
                f"{SESSIONS}{session_id} is not named by a session id; doctor leaves it alone",
                session_id,
            )
            return
        if known is not None:  # verified by an earlier run: only what lies outside the log
            self._outside(session_id, oid, known, tracked, seen)
            return
        before = len(self.findings)
        state = self._inside(session_id, oid, tracked, raw)
        if state is None:
            return
        if len(self.findings) == before and state.oid == oid:
            self._verified.add(session_id, oid)
        self._outside(session_id, state.oid, state.meta, tracked, seen, state)

    def _inside(
        self, session_id: str, oid: str, tracked: Tracked, raw: RawLog | None
    ) -> LogState | None:
        """Check the log commit itself (its ref, objects, session.json and entries), with
        --fix repairing it; the state to check the rest with, or None to stop here."""
        raw = raw if raw is not None else self.store.inspect(oid)
        repaired = False
        if raw.problem:
            finding = self.add(
                "ref", ERROR, f"{session_ref(session_id)}: {raw.problem}", session_id
            )
            if not self.fix:
                return None
            if raw.unreachable:  # nothing is broken here: the objects are elsewhere
                finding.not_fixed = (
                    "its objects are on a remote git cannot reach now; nothing to repair here: "
                    "run doctor again once it can"
                )
                return None
            restored = self._restore(session_id, raw, tracked, finding)
            if restored is None:
                return None
            raw, repaired = restored, True
        if self._untrusted(session_id, raw):
            return None
        before = len(self.findings)
        if not self._content(session_id, raw):
            return None
        if repaired or len(self.findings) != before or raw.commit is None or raw.meta is None:
            return self.store.state(session_id)  # changed, or odd: read it as commands do
        count = recorded_count(raw.commit)
        meta = load_json(raw.meta)
        if count is None or not isinstance(meta, dict):
            return self.store.state(session_id)
        return LogState(session_id, raw.oid, raw.commit, raw.root, raw.segments, meta, count)

    def _outside(
        self,
        session_id: str,
        oid: str,
        meta: Meta,
        tracked: Tracked,
        seen: dict[str, str],
        state: LogState | None = None,
    ) -> None:
        """What can change while the log does not: its branch, and fetched copies."""
        agent = meta.get("agent")
        if isinstance(agent, str):
            self._agents.add(agent)

        def full() -> LogState:
            return state or self.store.require(session_id)

        self._branch(session_id, meta, full, tracked)
        self._tracking(session_id, oid, tracked, seen)

    def _untrusted(self, session_id: str, raw: RawLog) -> bool:
        """A log no command reads (session.json over the size limit, nested too deeply, or
        naming another session): reported, and with --fix moved to the quarantine, since
        rebuilding its session.json would adopt a log that is not this session's."""
        reason = None
        if raw.meta_size is not None:
            reason = f"is {raw.meta_size:,} bytes, over the {META_MAX_BYTES:,}-byte limit"
        elif raw.meta is not None:
            try:
                value = load_json(raw.meta)
            except ValueError as exc:
                reason = str(exc) if str(exc) == NESTED_TOO_DEEPLY else None
            else:
                claimed = value.get("id") if isinstance(value, dict) else session_id
                if isinstance(value, dict) and "id" in value and claimed != session_id:
                    reason = f"says it is session {repr(claimed)[:40]}: it is not that session"
        if reason is None:
            return False
        finding = self.add("meta", ERROR, f"{META_FILE} {reason}", session_id)
        if self.fix:
            ref = self.store.quarantine(session_id, raw.oid)
            if ref is None:
                finding.not_fixed = RAN_AGAIN
            else:
                finding.fixed = (
                    f"moved to {ref}, where nothing reads or pushes it; "
                    f"`git update-ref {session_ref(session_id)} {ref}` brings it back"
                )
        return True

    def _restore(
        self, session_id: str, raw: RawLog, tracked: Tracked, finding: Finding
    ) -> RawLog | None:
        """Point a broken ref back at the newest complete log commit it had, else at a
        fetched copy. The broken value is named in the reflog message."""
        candidates = [(v, "its reflog") for v in self.repo.reflog_values(session_ref(session_id))]
        candidates += [(theirs, ref) for ref, theirs, _ in tracked]
        tried = {raw.oid}
        for value, source in candidates:
            if value in tried:
                continue
            tried.add(value)
            found = self.store.inspect(value)
            if found.problem:
                continue
            if raw.commit is not None:  # an incomplete commit is still kept from `git gc`
                # What cannot be copied stays in the ref's reflog (its message names it).
                with suppress(GitsessError):
                    self.store.keep(raw.oid, f"doctor {session_id}: incomplete log commit")
            try:
                self.store.move(
                    session_id,
                    value,
                    raw.oid,
                    f"doctor: restore {value[:12]} from {source} (was {raw.oid}, broken)",
                )
            except RefMoved:
                finding.not_fixed = RAN_AGAIN
                return None
            finding.fixed = (
                f"restored {value[:12]}, the newest complete log commit in {source} "
                f"(the broken value {raw.oid[:12]} is in the ref's reflog message)"
            )
            return found
        where = "its reflog" + (" or a fetched copy" if tracked else "")
        finding.not_fixed = (
            f"no complete log commit in {where}; the ref is left as it is (`git fsck` may say "
            f"more; `git update-ref -d {session_ref(session_id)}` removes it if you are done "
            "with it)"
        )
        return None

    def _content(self, session_id: str, raw: RawLog) -> bool:
        """Check session.json and the entries; with --fix, repair them in one new log commit
        on top. True when the session can be read afterwards."""
        assert raw.commit is not None
        value: Meta | None = None
        bad: dict[str, str] = {}
        why = "missing"
        if raw.meta is not None:
            value, bad, why = meta_problems(session_id, raw.meta)
        lines = self._lines(raw)
        folded, dropped, differing = fold_duplicates(lines.entries)
        repeated = _repeated_ids(lines.entries)
        trailer = raw.commit.trailer(ENTRIES_TRAILER)
        found: list[tuple[Finding, str]] = []  # each finding, and what the repair does for it
        if value is None:
            message = f"{META_FILE} is {why}"
            found.append(
                (
                    self.add("meta", ERROR, message, session_id),
                    f"{META_FILE} rebuilt",
                )
            )
        elif bad:
            described = "; ".join(f"{k}: {v}" for k, v in bad.items())
            found.append(
                (
                    self.add("meta", ERROR, f"{META_FILE}: {described}", session_id),
                    f"{', '.join(bad)} rebuilt",
                )
            )
        if lines.unreadable:
            count = len(lines.unreadable)
            message = (
                f"{count} line{'s are' if count != 1 else ' is'} not an entry "
                f"({_some(lines.unreadable)})"
            )
            found.append(
                (
                    self.add("segments", ERROR, message, session_id),
                    "each kept, with its text, in an entry of type event, name unreadable",
                )
            )
        for name in lines.unterminated:
            message = (
                f"{LOG_DIR}/{name} does not end with a newline: the next append would join "
                "two entries"
            )
            found.append((self.add("segments", ERROR, message, session_id), "newline added"))
        if lines.filled:
            message = (
                f"{lines.filled} entr{'ies lack' if lines.filled != 1 else 'y lacks'} an id or ts"
            )
            found.append(
                (self.add("entries", WARNING, message, session_id), "fresh ids and times given")
            )
        if repeated:
            verb = "appears" if len(repeated) == 1 else "appear"
            message = f"{_n(len(repeated), 'entry id')} {verb} more than once ({_some(repeated)})"
            done = f"{_n(dropped, 'identical copy', 'identical copies')} dropped"
            if differing:
                done += (
                    f", {_n(differing, 'differing version')} kept in the winner's meta.conflicts"
                )
            found.append((self.add("ids", ERROR, message, session_id), done))
        if trailer and trailer.isdigit() and int(trailer) != lines.stored:
            message = (
                f"the log commit says it holds {trailer} entries, but it holds {lines.stored} "
                "(`list` shows the wrong count)"
            )
            found.append((self.add("entries", WARNING, message, session_id), "count written again"))
        if not found or not self.fix:
            return value is not None  # enough to check its branch and fetched copies
        if value is not None and not bad:
            meta = value
        else:
            meta = self._rebuilt_meta(session_id, value, bad, raw, folded)
            source = meta["recovered"].get("fields_from")
            origin = (
                f" from the last good one, in log commit {source[:12]}"
                if source
                else " from the log (no earlier log commit has a good one)"
            )
            kept = ""
            if value:
                kept = "; the old values are in its `recovered` field"
            elif raw.meta is not None:
                kept = "; the broken one stays in the parent"
            found = [(f, done + origin + kept if f.check == "meta" else done) for f, done in found]
        encoded = [lines.raw.get(id(e)) or encode_json(e) for e in folded]
        what = ", ".join(sorted({f.check for f, _ in found}))
        try:
            new = self.store.replace(
                session_id,
                meta,
                encoded,
                [raw.oid],
                raw.oid,
                f"doctor: repair {what}",
                root=raw.root,
            )
        except RefMoved:
            for finding, _ in found:
                finding.not_fixed = RAN_AGAIN
            return False
        for finding, done in found:
            finding.fixed = f"{done}; new log commit {new[:12]} on top of {raw.oid[:12]}"
        return True

    def _lines(self, raw: RawLog) -> _Lines:
        """Every stored line as an entry: unreadable ones wrapped, missing ids and times given."""
        assert raw.commit is not None
        found = _Lines()
        last_ts: str | None = None  # the commit's time, read only if an entry needs it
        for segment in raw.segments:
            data = raw.data.get(segment.oid, b"")
            found.stored += data.count(b"\n")
            if data and not data.endswith(b"\n"):
                found.unterminated.append(segment.name)
            for number, line in enumerate(data.split(b"\n"), start=1):
                if not line.strip():
                    continue
                value = quick(line)  # msgspec reads most lines; json judges the others
                if value is NOT_READ:
                    value = _loads(line)
                if not isinstance(value, dict) or not isinstance(value.get("type"), str):
                    where = f"{LOG_DIR}/{segment.name}:{number}"
                    found.unreadable.append(where)
                    last_ts = last_ts or _commit_time(raw)
                    found.entries.append(_unreadable(line, where, last_ts))
                    continue
                entry: Entry = value
                if not isinstance(value.get("id"), str) or not isinstance(value.get("ts"), str):
                    found.filled += 1
                    entry = _filled(value, last_ts or _commit_time(raw))
                else:
                    found.raw[id(entry)] = line
                last_ts = str(entry["ts"])
                found.entries.append(entry)
        return found

    def _rebuilt_meta(
        self,
        session_id: str,
        value: Meta | None,
        bad: dict[str, str],
        raw: RawLog,
        entries: list[Entry],
    ) -> Meta:
        """session.json from what can be salvaged, and defaults for the rest."""
        defaults = self._default_meta(session_id, raw, entries)
        recovered: dict[str, Any] = {"by": "gitsess doctor", "at": now(), "from": raw.oid}
        earlier = self.store.earlier_meta(raw.oid)
        if earlier is not None:  # the last good session.json knows better than defaults
            older, before = earlier
            _, wrong, _ = meta_problems(session_id, json.dumps(before).encode())
            for key, old in before.items():
                if key not in wrong and key != "updated":
                    defaults[key] = old
            recovered["fields_from"] = older
        kept = value or {}
        meta = {k: (kept[k] if k in kept and k not in bad else v) for k, v in defaults.items()}
        meta.update((k, v) for k, v in kept.items() if k not in defaults)
        if value is None:
            recovered["note"] = (
                f"{META_FILE} was missing"
                if raw.meta is None
                else f"{META_FILE} was not a JSON object; it is kept in the parent commit"
            )
        else:
            recovered["replaced"] = {k: kept[k] for k in bad if k in kept}
        meta["recovered"] = recovered
        return meta

    def _default_meta(self, session_id: str, raw: RawLog, entries: list[Entry]) -> Meta:
        assert raw.commit is not None
        title = "(recovered)"
        for entry in entries:
            content = entry.get("content")
            if (
                entry.get("type") == "message"
                and entry.get("role") == "user"
                and isinstance(content, str)
            ):
                first = content.strip().split("\n", 1)[0][:80].strip()
                try:
                    title = check_title(first)
                except GitsessError:
                    continue
                break
        author = re.match(r"^(.*?) <(.*?)>", dict(raw.commit.headers).get("author", ""))
        identity = self.repo.identity()
        heads = _heads(entries)
        agents = [e["agent"] for e in entries if isinstance(e.get("agent"), str)]
        return {
            "format": 1,
            "id": session_id,
            "title": title,
            "branch": self._branch_of(session_id),
            "base": heads[0] if heads else None,
            "created": str(entries[0]["ts"]) if entries else _commit_time(raw),
            "updated": now(),
            "author": {
                "name": author.group(1) if author else identity.name,
                "email": author.group(2) if author else identity.email,
            },
            "agent": agents[0] if agents else None,
            "parent": None,
            "status": "active",
            "visibility": "private",
            "tags": [],
        }

    def _branch_of(self, session_id: str) -> str:
        """The branch whose name ends in the session's id, else the default name."""
        for row in self.repo.refs("refs/heads/", "%(refname)"):
            branch = row[len("refs/heads/") :]
            if session_id_from_branch(branch) == session_id:
                return branch
        prefix = self.repo.config("gitsess.branchPrefix")
        return f"{DEFAULT_BRANCH_PREFIX if prefix is None else prefix}{session_id}"

    def _branch(
        self, session_id: str, meta: Meta, full: Callable[[], LogState], tracked: Tracked
    ) -> None:
        branch = meta.get("branch")
        problem = self.sessions.branch_problem(meta, session_id)
        if problem is not None:  # a teammate's data, never acted on: nothing to create
            finding = self.add("branch", WARNING, f"its branch is ignored: {problem}", session_id)
            if self.fix:
                finding.not_fixed = (
                    "gitsess never checks out, creates, pushes or fetches it; "
                    f"`gitsess delete {session_id}` removes the session if you do not want it"
                )
            return
        assert isinstance(branch, str)
        self._branches.setdefault(branch, []).append(session_id)
        if branch in self._heads or self.repo.branch_tip(branch):  # listed once, or made since
            return
        if self.sessions.remote_branch(branch):
            return  # `resume` makes the branch from the fetched copy
        if tracked:  # a teammate's session whose branch was not fetched
            finding = self.add(
                "branch",
                WARNING,
                f"branch {branch} is not here: the session was fetched, its branch was not",
                session_id,
            )
            if self.fix:
                finding.not_fixed = (
                    f"no copy of it here: `gitsess fetch {tracked[0][2]} {session_id}` "
                    "brings it if the remote has it"
                )
            return
        if meta.get("status") == "archived":
            self.add(
                "branch",
                ADVICE,
                f"branch {branch} of this archived session is gone; `gitsess resume` re-creates it",
                session_id,
            )
            return
        state = full()
        try:
            start, note = self.sessions.branch_start(state, branch)
        except GitsessError as exc:
            if meta.get("base") is None and not _heads(self.store.last_entries(state, 50)):
                # Started in a repository without commits, and none made since: nothing lost.
                self.add(
                    "branch",
                    ADVICE,
                    f"branch {branch} does not exist, and the session records no commit to "
                    "start it at",
                    session_id,
                )
                return
            finding = self.add("branch", ERROR, f"branch {branch} does not exist", session_id)
            if self.fix:
                finding.not_fixed = exc.message
            return
        finding = self.add("branch", ERROR, f"branch {branch} does not exist", session_id)
        if self.fix:
            self.repo.create_branch(branch, start)
            finding.fixed = note

    def _tracking(
        self, session_id: str, ours: str | None, tracked: Tracked, seen: dict[str, str]
    ) -> None:
        """Fetched copies of the session must be in the local log (merge-base is theirs)."""
        for ref, theirs, remote_name in tracked:
            if ours == theirs:
                continue
            if self.repo.read_commit(theirs) is None:
                self.add(
                    "tracking",
                    WARNING,
                    f"{ref} points at {theirs[:12]}, which is not in the repository; "
                    f"`gitsess fetch {remote_name}` fetches it again",
                    session_id,
                )
                continue
            if ours is not None and self.repo.is_ancestor(theirs, ours):
                continue
            if seen.get(ref) == theirs:
                if ours is not None:
                    self.add(
                        "tracking",
                        ADVICE,
                        f"{ref} is left out on purpose (the log was redacted or rewritten "
                        f"here); `gitsess fetch {remote_name} {session_id}` merges it",
                        session_id,
                    )
                continue  # a session deleted here stays deleted
            finding = self.add("tracking", WARNING, f"{ref} is not merged yet", session_id)
            if self.fix:
                try:
                    outcome = self.sharing.integrate(session_id, theirs, remote_name)
                except GitsessError as exc:
                    finding.not_fixed = exc.message
                    continue
                finding.fixed = f"merged into {session_ref(session_id)} ({outcome})"

    # -- the repository ---------------------------------------------------------------

    def _trash(self) -> None:
        """Deleted and replaced logs live in the trash repository (storage/trash.py), which
        must be readable; an earlier version's refs/gitsess/trash is moved there by --fix."""
        from .storage.trash import OLD_TRASH_REF

        trash = Trash(self.repo)
        if trash.old_entries() or self.repo.ref_value(OLD_TRASH_REF):
            self._old_trash(trash)
        if not trash.exists():
            return
        gone, total = trash.missing()
        if gone:
            self.add(
                "trash",
                WARNING,
                f"{gone} of the {total} log commits kept in the trash ({trash.path}) are gone: "
                "those deleted sessions cannot be restored",
            )

    def _old_trash(self, trash: Trash) -> None:
        """An earlier gitsess's trash is a ref, which `git push --mirror` sends: move it."""
        from .storage.trash import OLD_TRASH_REF

        finding = self.add(
            "trash",
            WARNING,
            f"{OLD_TRASH_REF} (from an earlier gitsess) keeps {len(trash.old_entries())} "
            "deleted or redacted logs where `git push --mirror` sends them",
        )
        if not self.fix:
            return
        try:
            moved, dropped = trash.migrate() or (0, 0)
        except GitsessError as exc:
            finding.not_fixed = exc.message
            return
        if self.repo.ref_value(OLD_TRASH_REF):
            finding.not_fixed = f"{OLD_TRASH_REF} changed meanwhile; run it again"
            return
        gone = f"; {dropped} whose objects were gone here dropped" if dropped else ""
        finding.fixed = f"moved {moved} into {trash.path}{gone}"

    def _hooks(self) -> None:
        from .agents.hooks import INSTALLERS, installer
        from .githooks import status

        missing = [
            name for name, state in status(self.repo).items() if not state.startswith("installed")
        ]
        if missing:
            self.add(
                "hooks",
                ADVICE,
                f"git hooks not installed ({', '.join(missing)}): commits are not recorded in "
                "sessions; `gitsess hooks install` installs them",
            )
        root = self.repo.root
        for name in INSTALLERS:
            try:
                row = installer(name).status(root)
            except GitsessError as exc:
                self.add("hooks", WARNING, exc.message)
                continue
            used = any(_same_agent(a, name) for a in self._agents)
            if row.complete or not (used or row.installed):
                continue
            state = "partly installed" if row.installed else "not installed"
            self.add(
                "hooks",
                ADVICE,
                f"{name} capture hooks are {state}; `gitsess hooks install --agent {name}` "
                "installs them",
            )


# -- helpers ------------------------------------------------------------------------------


def meta_problems(session_id: str, data: bytes) -> tuple[Meta | None, dict[str, str], str]:
    """session.json parsed (None if not a JSON object), its bad fields, and why it is None."""
    try:
        value = load_json(data)
    except ValueError as exc:
        return None, {}, f"not JSON ({exc})"
    if not isinstance(value, dict):
        return None, {}, f"a JSON {type(value).__name__}, not an object"
    bad: dict[str, str] = {}
    if "format" not in value:
        bad["format"] = "missing"
    if not plainly_valid_meta(value):  # pydantic (~150 ms to load) only for the doubtful
        _model_problems(value, bad)
    if "id" not in bad and value.get("id") != session_id:
        bad["id"] = f"{value.get('id')!r} is not the ref's {session_id}"
    return value, bad, ""


def _model_problems(value: dict[str, Any], bad: dict[str, str]) -> None:
    """What model.SessionMeta refuses in ``value``, a field each, into ``bad``."""
    from pydantic import ValidationError

    from .model import SessionMeta

    try:
        SessionMeta.model_validate(value)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "value"
            bad.setdefault(
                key, error["msg"].lower() if error["type"] == "missing" else error["msg"]
            )


def _heads(entries: list[Entry]) -> list[str]:
    return [e["head"] for e in entries if isinstance(e.get("head"), str)]


def _repeated_ids(entries: list[Entry]) -> list[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for entry in entries:
        entry_id = entry.get("id")
        if isinstance(entry_id, str):
            (repeated if entry_id in seen else seen).add(entry_id)
    return sorted(repeated)


def _loads(line: bytes) -> Any:
    try:
        return load_json(line)
    except ValueError:
        return None


def _unreadable(line: bytes, where: str, ts: str) -> Entry:
    """An entry that keeps a line which is not one: its text, or its bytes if not UTF-8."""
    data: dict[str, Any] = {"where": where}
    try:
        data["raw"] = line.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        data["raw_base64"] = base64.b64encode(line).decode("ascii")
    return {"id": new_entry_id(), "ts": ts, "type": "event", "name": "unreadable", "data": data}


def _filled(value: Entry, ts: str) -> Entry:
    """``value`` with the id and ts it lacked; a non-string one is kept in meta."""
    original = {k: value[k] for k in ("id", "ts") if k in value and not isinstance(value[k], str)}
    entry: Entry = {
        "id": value["id"] if isinstance(value.get("id"), str) else new_entry_id(),
        "ts": value["ts"] if isinstance(value.get("ts"), str) else ts,
        "type": value["type"],
    }
    entry.update((k, v) for k, v in value.items() if k not in entry)
    if original:
        meta = entry.get("meta")
        entry["meta"] = {**(meta if isinstance(meta, dict) else {}), "original": original}
    return entry


def _commit_time(raw: RawLog) -> str:
    assert raw.commit is not None
    committer = dict(raw.commit.headers).get("committer", "")
    match = re.search(r"> (\d+) [+-]\d{4}$", committer)
    if not match:
        return now()
    return format_ts(datetime.fromtimestamp(int(match.group(1)), timezone.utc))


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _same_agent(agent: str, name: str) -> bool:
    from .agent_names import AGENT_ALIASES

    return AGENT_ALIASES.get(agent, agent) == name
