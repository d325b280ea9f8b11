"""Sharing sessions through git remotes: push, fetch, merge (docs/format.md sections 2
and 6), secrets.

Pushing and fetching are one git transfer each, however many sessions move.
Fetched logs land in a tracking namespace and are then merged into the local
refs/sessions/<id>: created if new, fast-forwarded if behind, merged if both
sides moved. A plain `git fetch` also fills the tracking namespace (once the
remote's fetch refspec is set up); the next gitsess command merges it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import BadInput, GitsessError
from .ids import is_id_prefix, is_session_id, slugify
from .merge import canonical, merge_logs, merge_meta
from .sessions import Sessions, flagged_branch
from .storage import remote as transfer
from .storage import seen as seen_state
from .storage.layout import SESSIONS
from .storage.log import (
    MAX_ATTEMPTS,
    NESTED_TOO_DEEPLY,
    Entry,
    Listed,
    LogState,
    encode_json,
    load_json,
    session_ref,
)
from .storage.reach import blobs_by_tip, commits_between, new_log_blobs
from .storage.remote import TRACKING_ROOT, PushedRef, Remote
from .storage.repo import RefMoved

TYPE_CHECKING = False  # typing's flag: the scanner's module loads only when a push scans
if TYPE_CHECKING:
    from .secrets import Finding

# Branches found missing one fetch at a time before the remote's branches are listed.
BRANCH_RETRIES = 3
# Sessions whose objects are read in one batch, then checked (memory stays bounded).
PREFETCH_SESSIONS = 2000
# From this many sessions changed by a fetch, they are checked through the listing cache.
LISTED_FROM = 100


@dataclass
class Blocked:
    """A session held back from a push because its log holds likely secrets."""

    session_id: str
    findings: dict[str, list[Finding]]  # entry id (or "session.json") -> findings

    def describe(self) -> str:
        kinds = sorted({f.kind for found in self.findings.values() for f in found})
        entries = ", ".join(list(self.findings)[:5]) + (" ..." if len(self.findings) > 5 else "")
        return f"session {self.session_id}: {', '.join(kinds)} in {entries}"


@dataclass
class Redaction:
    """What `redact` did to one session."""

    session_id: str
    # entry id (or "session.json") -> field path -> kinds of secret replaced there
    fields: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # entry id (or "session.json") -> kinds found only where redact never writes
    left: dict[str, list[str]] = field(default_factory=dict)
    branch: str | None = None  # the branch's new name, when its old one held a secret
    old_branch_removed: bool = True


@dataclass
class SessionPush:
    """What one push did with one session's log and branch."""

    log: str = "not pushed"  # "created", "sent", "up to date" or "rejected"
    entries: int = 0  # entries the remote's log gained
    branch: str | None = None  # the branch pushed beside the log (None: not pushed)
    branch_result: str | None = None  # "created", "sent", "up to date" or "rejected"
    commits: int = 0  # commits the remote's branch gained (when it moved on)
    refused: list[str] = field(default_factory=list)  # what was refused, and what to do

    @property
    def sent(self) -> bool:
        return self.log in ("created", "sent") or self.branch_result in ("created", "sent")

    def describe(self) -> str:
        """What was sent, in a few words: "log: 3 new entries; branch b: 2 new commits"."""
        log = {
            "created": f"log: created, {_count(self.entries, 'entry', 'entries')}",
            "sent": f"log: {_count(self.entries, 'new entry', 'new entries')}",
            "up to date": "log: up to date",
        }.get(self.log, f"log: {self.log}")
        if self.branch is None:
            return log
        branch = {
            "sent": _count(self.commits, "new commit", "new commits"),
        }.get(self.branch_result or "", self.branch_result or "not pushed")
        return f"{log}; branch {self.branch}: {branch}"

    def as_json(self) -> dict[str, Any]:
        branch = None
        if self.branch is not None:
            branch = {"name": self.branch, "result": self.branch_result, "commits": self.commits}
        return {
            "log": {"result": self.log, "entries": self.entries},
            "branch": branch,
            "refused": self.refused,
        }


@dataclass
class PushReport:
    remote: Remote
    pushed: list[str] = field(default_factory=list)  # something was sent (log or branch)
    up_to_date: list[str] = field(default_factory=list)  # nothing to send, nothing refused
    rejected: dict[str, str] = field(default_factory=dict)  # what was refused, what to do
    blocked: list[Blocked] = field(default_factory=list)
    sessions: dict[str, SessionPush] = field(default_factory=dict)  # per session, in detail
    sessions_remote: Remote | None = None  # where the logs went, when not to ``remote``


@dataclass
class FetchReport:
    remote: Remote
    outcomes: dict[str, str] = field(default_factory=dict)  # session id -> new/updated/merged/...
    missing_branches: list[str] = field(default_factory=list)
    # session id -> why gitsess will not use it as fetched (unreadable, another session's
    # log, a branch it ignores): a teammate's data, reported and never acted on
    problems: dict[str, str] = field(default_factory=dict)
    sessions_remote: Remote | None = None  # where the logs came from, when not ``remote``
    branches_error: str | None = None  # why no branch came from ``remote`` (logs did)


class Sharing:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.repo = sessions.repo
        self.store = sessions.store
        self.not_merged: dict[str, str] = {}  # session id -> why integrate_all could not
        self._read: dict[str, Listed] = {}  # sessions shared_sessions read (push reuses them)

    # -- remotes ---------------------------------------------------------------

    def remote(self, name: str | None, session_ids: list[str] | None = None) -> Remote:
        """REMOTE, else `gitsess.remote`, else the upstream remote of the sessions' branches
        (else of the checked-out branch), else origin."""
        if not name:
            name = transfer.default_remote(self.repo, self._branches(session_ids or []))
        return transfer.resolve_remote(self.repo, name)

    def _branches(self, session_ids: list[str]) -> Iterator[str]:
        """The sessions' branches, then the checked-out one: read only as far as needed."""
        for session_id in session_ids:
            state = self.store.state(session_id)
            branch = self.sessions.branch_of(state.meta, session_id) if state else None
            if branch:
                yield branch
        current = self.repo.current_branch()
        if current:
            yield current

    def logs_remote(self, code: Remote) -> Remote:
        """Where session logs go and come from: `gitsess.sessionsRemote`, else ``code``,
        the remote of the branches."""
        return transfer.sessions_remote(self.repo, code)

    def remotes(self, name: str | None, session_ids: list[str]) -> tuple[Remote, Remote]:
        """(where branches go, where logs go). REMOTE (``name``) picks where branches go;
        logs go to `gitsess.sessionsRemote` when set. REMOTE naming the sessions remote
        itself picks nothing new: its branches still go where they always go."""
        code = self.remote(name, session_ids)
        logs = self.logs_remote(code)
        if name and logs == code and self.repo.config(transfer.SESSIONS_REMOTE):
            usual = self.remote(None, session_ids)
            if self.logs_remote(usual) == code:
                code = usual
        return code, logs

    def setup(self, name: str | None) -> tuple[Remote, bool]:
        remote = self.remote(name) if name else self.logs_remote(self.remote(None))
        if not remote.named:
            raise BadInput("`remote setup` needs a configured remote name")
        return remote, transfer.ensure_fetch_refspec(self.repo, remote)

    # -- push -----------------------------------------------------------------

    def push(
        self,
        session_ids: list[str],
        remote_name: str | None,
        allow_secrets: bool = False,
        with_branches: bool = True,
    ) -> PushReport:
        """Push the logs (and, unless the caller is git pushing them, the branches)."""
        remote, logs_remote = self.remotes(remote_name, session_ids)
        transfer.ensure_fetch_refspec(self.repo, logs_remote)
        report = PushReport(remote, sessions_remote=None if logs_remote == remote else logs_remote)
        unread = [sid for sid in session_ids if sid not in self._read]
        sessions = {sid: self._read[sid] for sid in session_ids if sid in self._read}
        sessions.update(self.store.read_many(unread))
        if not allow_secrets:
            report.blocked = self.scan_for_push(logs_remote, {s: sessions[s].oid for s in sessions})
        blocked = {b.session_id for b in report.blocked}
        ids = [sid for sid in session_ids if sid in sessions and sid not in blocked]
        # Only a branch of the form gitsess gives the session's own branches goes along: a
        # teammate's session.json can name `main` or another session's branch.
        branches = {sid: self.sessions.branch_of(sessions[sid].meta, sid) or "" for sid in ids}
        existing = self.repo.existing_branches([b for b in branches.values() if b])
        refs, branch_of = [], {}
        for session_id in ids:
            if sessions[session_id].meta.get("visibility") != "shared":
                self.sessions.set_visibility(session_id, "shared")
            refs.append(session_ref(session_id))
            branch = branches[session_id]
            if with_branches and branch in existing:
                refs.append(f"refs/heads/{branch}")
                branch_of[f"refs/heads/{branch}"] = session_id
        if not refs:
            return report
        tracking_refs = {sid: logs_remote.tracking_ref(sid) for sid in ids}
        known = self.repo.ref_values(list(tracking_refs.values()), logs_remote.tracking_prefix)
        before = {sid: known[ref] for sid, ref in tracking_refs.items() if ref in known}
        results = self._send(remote, logs_remote, refs)
        local = self._local_logs(ids)
        updates, creates, logs_there = [], {}, []
        for result in results:
            if not result.ref.startswith(SESSIONS):
                owner = branch_of.get(result.ref)
                if owner:
                    self._account_branch(report, owner, result, remote)
                continue
            session_id = result.ref[len(SESSIONS) :]
            detail = report.sessions.setdefault(session_id, SessionPush())
            if not result.ok:
                detail.log = "rejected"
                detail.refused.append(f"log not pushed: {_rejection(result.summary)}")
                continue
            logs_there.append(session_id)
            detail.log = _pushed_result(result.summary)
            new = local.get(session_id)
            old = before.get(session_id)
            if new and new != old:
                ref = logs_remote.tracking_ref(session_id)
                if old:
                    updates.append(f"update {ref} {new} {old}")
                else:
                    creates[ref] = new
        counts = {row.oid: row.count for row in sessions.values()}  # as listed: no read
        self._count_entries(report, results, local, counts)
        for session_id, detail in report.sessions.items():
            if detail.refused:
                report.rejected[session_id] = "; ".join(detail.refused)
            if detail.sent:
                report.pushed.append(session_id)
            elif not detail.refused:
                report.up_to_date.append(session_id)
        # The tracking refs now mirror what the remote has (git may have updated them itself).
        # They are a cache of the remote's state: no reflog.
        self.repo.update_refs(updates, "gitsess: push", reflog=False)
        self.repo.create_refs(creates, "gitsess: push")
        self._mark_seen({logs_remote.tracking_ref(s): local.get(s, "") for s in logs_there})
        return report

    def _send(self, code: Remote, logs: Remote, refs: list[str]) -> list[PushedRef]:
        """Push ``refs``: in one transfer, or with a sessions remote, the logs there first
        and then the branches to ``code``. A sessions remote that cannot be reached stops
        the push before any branch goes (one error that says so); a code remote that
        cannot be reached once the logs went leaves each branch refused, with git's reason."""
        if logs == code:
            return transfer.push(self.repo, code, refs)
        log_refs = [ref for ref in refs if ref.startswith(SESSIONS)]
        branch_refs = [ref for ref in refs if not ref.startswith(SESSIONS)]
        try:
            results = transfer.push(self.repo, logs, log_refs) if log_refs else []
        except GitsessError as exc:
            if not branch_refs:
                raise
            branches = ", ".join(ref.removeprefix("refs/heads/") for ref in branch_refs)
            raise GitsessError(
                f"{exc.message}; nothing was pushed (branch {branches} not pushed to "
                f"{_where(code)} either)"
            ) from None
        if branch_refs:
            try:
                results += transfer.push(self.repo, code, branch_refs)
            except GitsessError as exc:
                results += [
                    PushedRef(ref, False, f"[not sent] ({exc.message})") for ref in branch_refs
                ]
        return results

    def _account_branch(
        self, report: PushReport, session_id: str, result: PushedRef, remote: Remote
    ) -> None:
        """Record what the push did with a session's branch, and what to do if refused."""
        detail = report.sessions.setdefault(session_id, SessionPush())
        branch = result.ref[len("refs/heads/") :]
        detail.branch = branch
        if result.ok:
            detail.branch_result = _pushed_result(result.summary)
            old, _, new = result.summary.partition("..")
            if detail.branch_result == "sent" and new:
                detail.commits = commits_between(self.repo, old, new)
            return
        detail.branch_result = "rejected"
        where = remote.name if remote.named else remote.url
        if "non-fast-forward" in result.summary or "fetch first" in result.summary:
            detail.refused.append(
                f"branch {branch} not pushed: it has diverged from the branch on {where} "
                f"(which has commits yours lacks): bring them in with `git switch {branch} && "
                f"git pull --rebase {where} {branch}` (or merge them), then "
                f"`gitsess push {session_id}`"
            )
        else:
            detail.refused.append(f"branch {branch} not pushed: {_rejection(result.summary)}")

    def _count_entries(
        self,
        report: PushReport,
        results: list[PushedRef],
        local: dict[str, str],
        counts: dict[str, int],
    ) -> None:
        """How many entries each log sent gave the remote: its `Entries` trailer, minus that
        of the old log commit git names in its summary. ``counts`` holds the counts of
        the log commits listed before the push ({log commit: entries}); the others are
        read with one cat-file for them all (a new log needs none: 10,000 created logs
        read no commit)."""
        moved = []  # (session, new log commit, old one or "" for a new ref)
        for result in results:
            session_id = result.ref[len(SESSIONS) :]
            detail = report.sessions.get(session_id)
            if not result.ref.startswith(SESSIONS) or detail is None:
                continue
            if detail.log == "sent":  # "old..new", both (abbreviated) log commits we have
                old, _, new = result.summary.partition("..")
                here = local.get(session_id, "")
                moved.append((session_id, here if here.startswith(new) else new, old))
            elif detail.log == "created" and session_id in local:
                moved.append((session_id, local[session_id], ""))
        specs = [
            spec for _, new, old in moved for spec in (new, old) if spec and spec not in counts
        ]
        found = dict(zip(specs, self.repo.reader.read_many(specs), strict=True))
        for session_id, new, old in moved:
            after = counts[new] if new in counts else _entries_of(found[new])
            before = (counts[old] if old in counts else _entries_of(found[old])) if old else 0
            report.sessions[session_id].entries = max(after - before, 0)

    def _local_logs(self, session_ids: list[str]) -> dict[str, str]:
        """{session id: log commit} of those of ``session_ids`` that are here."""
        found = self.repo.ref_values([session_ref(s) for s in session_ids], SESSIONS)
        return {ref[len(SESSIONS) :]: oid for ref, oid in found.items()}

    def shared_sessions(self) -> list[str]:
        rows = self.sessions.listing(include_archived=True)
        self._read = {str(row.meta["id"]): row for row in rows}
        return [sid for sid, row in self._read.items() if row.meta.get("visibility") == "shared"]

    # -- secrets ----------------------------------------------------------------

    def scan_for_push(self, remote: Remote, logs: dict[str, str]) -> list[Blocked]:
        """Scan every log object the remote lacks; the sessions that hold likely secrets.

        ``logs`` maps each session to push to its log commit. One `rev-list` finds the
        new objects of all of them, however many; blobs an earlier scan found clean are
        not scanned again. Only when something is found does one `git log` tell which
        sessions reach it.
        """
        # A log already at its tracking ref has nothing the remote lacks (as last seen):
        # a second `push --all` with nothing new walks nothing.
        tracked = self._tracked(remote, list(logs))
        logs = {sid: tip for sid, tip in logs.items() if tracked.get(sid) != tip}
        if not logs:
            return []
        exclude = self._known_there(remote, logs, tracked)
        blobs = new_log_blobs(self.repo, list(logs.values()), exclude)
        clean = seen_state.clean_among(self.repo.state_dir(), {oid for oid, _ in blobs})
        to_scan = [(oid, path) for oid, path in blobs if oid not in clean]
        if not to_scan:
            return []
        from .secrets import scan_entries

        contents = self.store.segment_data([oid for oid, _ in to_scan])
        items: list[tuple[tuple[str, str], Any]] = []
        for oid, path in to_scan:
            if oid not in contents:
                continue
            if path.endswith("session.json"):
                items.append(((oid, "session.json"), _scannable(contents[oid])))
                continue
            for line in contents[oid].splitlines():
                entry = _scannable(line)
                key = entry.get("id") if isinstance(entry, dict) else None
                items.append(((oid, str(key or "?")), entry))
        allowed = set(self._config_all("gitsess.allowSecret"))
        findings: dict[str, dict[str, list[Finding]]] = {}  # blob -> entry -> findings
        for (oid, entry_id), found in scan_entries(items).items():
            kept = [f for f in found if f.secret_hash not in allowed]
            if kept:
                findings.setdefault(oid, {})[entry_id] = kept
        clean_now = [oid for oid, _ in to_scan if oid not in findings]
        seen_state.add_clean(self.repo.state_dir(), clean_now)
        if not findings:
            return []
        blocked = []
        reaching = blobs_by_tip(self.repo, logs, exclude)
        if set(findings) - set().union(*reaching.values()):
            # A blob with findings that no session's new commits brought in (it should not
            # happen): ask each session's history the slow way rather than let it pass.
            for session_id, tip in logs.items():
                reaching[session_id] = {oid for oid, _ in new_log_blobs(self.repo, [tip], exclude)}
        for session_id in logs:
            per_entry: dict[str, list[Finding]] = {}
            for oid in reaching.get(session_id, set()) & findings.keys():
                for entry_id, found in findings[oid].items():
                    for finding in found:
                        if finding not in per_entry.setdefault(entry_id, []):
                            per_entry[entry_id].append(finding)
            if per_entry:
                blocked.append(Blocked(session_id, per_entry))
        return blocked

    def _tracked(self, remote: Remote, session_ids: list[str]) -> dict[str, str]:
        """{session: log commit} of the tracking refs of ``session_ids`` on ``remote``,
        looked up by name (so one session costs the same however many the remote holds)."""
        refs = {remote.tracking_ref(sid): sid for sid in session_ids}
        found = self.repo.ref_values(list(refs), remote.tracking_prefix)
        return {refs[ref]: oid for ref, oid in found.items()}

    def _known_there(
        self, remote: Remote, logs: dict[str, str], tracked: dict[str, str]
    ) -> list[str]:
        """What rev-list leaves out as already on the remote, as its arguments: the
        tracking refs of the sessions pushed, or when many are pushed, the whole
        tracking namespace (as git push itself then reads every ref there)."""
        if len(logs) >= transfer.WILDCARD_FROM:
            return [f"--glob={remote.tracking_prefix}*"]
        return sorted({tracked[sid] for sid in logs if sid in tracked})

    def redact(self, session_id: str) -> Redaction:
        """Replace likely secrets with markers, in a new log history of one commit.

        Text fields are rewritten; structural fields and opaque provider fields never are.
        A secret in the branch name renames the branch. Entries without findings keep
        their bytes. The old history stays recoverable from the trash
        (.git/gitsess/trash.git), which no push reaches.
        """
        from .secrets import SESSION, holds, redact, redact_text, scan_entries

        for _ in range(MAX_ATTEMPTS):
            state = self.store.require(session_id)
            raw = [line for line in self.store.lines(state) if line.strip()]
            values = [_scannable(line) for line in raw]
            found = scan_entries(
                [(i, v) for i, v in enumerate(values) if v is not None]
                + [("session.json", state.meta)]
            )
            allowed = set(self._config_all("gitsess.allowSecret"))
            found = {k: [f for f in v if f.secret_hash not in allowed] for k, v in found.items()}
            found = {k: v for k, v in found.items() if v}
            report = Redaction(session_id)
            meta_findings = found.pop("session.json", [])
            slug = slugify(str(state.meta.get("title") or ""))  # before redact rewrites it
            meta = redact(state.meta, meta_findings, SESSION) if meta_findings else None
            if meta and meta.places:
                report.fields["session.json"] = meta.places
            lines = list(raw)
            for index, findings in found.items():
                name = _entry_name(values[index], index)
                if isinstance(values[index], (dict, list)):
                    done = redact(values[index], findings)
                    if done.places:
                        lines[index] = encode_json(done.value)
                    places = done.places
                else:  # not JSON this can walk (nested too deeply...): its text, as it is
                    text, kinds = redact_text(raw[index].decode("utf-8", "replace"), findings)
                    places = {"(line)": kinds} if kinds else {}
                    lines[index] = text.encode("utf-8")
                if places:
                    report.fields[name] = places
                left = _still_held(lines[index].decode("utf-8", "replace"), findings)
                if left:
                    report.left[name] = left
            new_meta = dict(meta.value if meta else state.meta)
            branch = str(state.meta.get("branch") or "")
            # A branch named after a title that held a secret holds what its slug kept of it.
            from_title = bool(meta and "title" in meta.places and slug and slug in branch)
            if branch and (from_title or holds(branch, meta_findings)):
                report.branch = self._safe_branch(new_meta, branch, meta_findings)
                new_meta["branch"] = report.branch
            left = _still_held(encode_json(new_meta).decode("utf-8"), meta_findings)
            if left:
                report.left["session.json"] = left
            if not report.fields and not report.branch:
                return report
            title = str(new_meta.get("title", ""))
            # The new branch first, the log naming it next, the old branch last: a crash
            # between leaves a spare branch, never a session whose branch is gone.
            tip = self.repo.copy_branch(branch, report.branch) if report.branch else None
            self.store.keep(state.oid, f"redact {session_id} {title}")
            try:
                self.store.replace(session_id, new_meta, lines, [], state.oid, "redact")
            except RefMoved:
                continue
            if report.branch and tip:
                report.old_branch_removed = self.repo.retire_branch(branch, report.branch, tip)
            return report
        raise GitsessError(f"session {session_id} kept changing; nothing was redacted")

    def _safe_branch(self, meta: dict[str, Any], old: str, findings: list[Finding]) -> str:
        """A new branch name for a session whose branch name held a secret: from the
        redacted title, else the bare id, under the session prefix (ending in the id)."""
        from .secrets import holds

        session_id = str(meta["id"])
        name = self.sessions._branch_name(str(meta.get("title") or ""), session_id)
        taken = self.repo.branch_tip(name)  # by another branch (not by an earlier attempt)
        if holds(name, findings) or (taken and taken != self.repo.branch_tip(old)):
            name = self.sessions._branch_name("", session_id)
        return name

    # -- fetch and merge --------------------------------------------------------

    def fetch(self, remote_name: str | None, references: list[str]) -> FetchReport:
        """Bring in the sessions ``references`` name (all when none) from the remote
        ``remote_name`` (default: as for a push of the named sessions found here)."""
        # The sessions here only matter to choose the remote: named, they are not read.
        local = [] if remote_name else [s for s in map(self.local_session, references) if s]
        remote, logs = self.remotes(remote_name, local)
        transfer.ensure_fetch_refspec(self.repo, logs)
        report = FetchReport(remote, sessions_remote=None if logs == remote else logs)
        if references:
            wanted, fetched = self._fetch_named(logs, references, remote)
            try:
                report.missing_branches = self._fetch_branches(remote, wanted, fetched, logs)
            except GitsessError as exc:
                if logs == remote:
                    raise
                report.branches_error = exc.message  # the logs came: they are merged
        elif logs == remote:
            transfer.fetch(self.repo, remote, [remote.sessions_refspec, remote.branches_refspec])
            wanted = None
        else:  # from a sessions remote: its logs, then the code remote's branches
            transfer.fetch(self.repo, logs, [logs.sessions_refspec])
            try:
                transfer.fetch(self.repo, remote, [remote.branches_refspec])
            except GitsessError as exc:
                report.branches_error = exc.message
            wanted = None
        report.outcomes = self.integrate_all(logs, wanted)
        report.problems = self._problems(report.outcomes)
        from .remote_hint import forget

        forget(self.repo)  # what the remote has that is not here has changed
        return report

    def _fetch_named(
        self, remote: Remote, references: list[str], code: Remote
    ) -> tuple[list[str], set[str]]:
        """Fetch the sessions ``references`` name into the tracking refs: their ids, and
        the branches fetched along.

        Full ids are fetched by name: git asks the remote about those refs alone, so one
        session costs the same whatever the remote holds; the branches their copies here
        name come in the same transfer (a guess: the fetched log may name another, which
        _fetch_branches then brings). Anything else (a prefix, a title), or an id the
        remote lacks, needs the remote's list of sessions first. With a sessions remote
        (``code`` is another), no branch is guessed: they come from ``code`` afterwards."""
        if all(is_session_id(ref) for ref in references):
            guesses = self._branches_here(references) if code == remote else []
            for branches in (guesses, []) if guesses else ([],):
                try:
                    self._fetch_logs(remote, references, branches)
                    return references, set(branches)
                except transfer.MissingRemoteRef:
                    pass  # a guessed branch is not there, or a log: the listing says which
        on_remote = transfer.remote_sessions(self.repo, remote)
        wanted = [self._remote_id(ref, on_remote, remote) for ref in references]
        self._fetch_logs(remote, wanted, [])
        return wanted, set()

    def _branches_here(self, session_ids: list[str]) -> list[str]:
        """The branches the copies here of ``session_ids`` name (those of gitsess's form)."""
        branches = []
        for session_id in session_ids:
            try:
                state = self.store.state(session_id)
            except GitsessError:
                continue
            branch = self.sessions.branch_of(state.meta, session_id) if state else None
            if branch:
                branches.append(branch)
        return branches

    def _fetch_logs(self, remote: Remote, session_ids: list[str], branches: list[str]) -> None:
        specs = [f"+{session_ref(sid)}:{remote.tracking_ref(sid)}" for sid in session_ids]
        specs += [f"+refs/heads/{b}:{remote.branch_ref(b)}" for b in branches]
        transfer.fetch(self.repo, remote, list(dict.fromkeys(specs)))

    def _problems(self, outcomes: dict[str, str]) -> dict[str, str]:
        """Why sessions a fetch changed cannot be used as they came, by session id."""
        changed = [sid for sid, what in outcomes.items() if what != "up to date"]
        if len(changed) >= LISTED_FROM:
            return self._problems_listed(changed)
        problems: dict[str, str] = {}
        for start in range(0, len(changed), PREFETCH_SESSIONS):
            chunk = changed[start : start + PREFETCH_SESSIONS]
            self.store.prefetch_states(chunk)
            try:
                problems.update(self._problems_of(chunk))
            finally:
                self.repo.reader.forget()
        return problems

    def _problems_listed(self, changed: list[str]) -> dict[str, str]:
        """_problems() for many sessions, from the listing cache (storage/listcache.py),
        which reads each new log's session.json and commit once, flags the unreadable
        ones and those whose branch needs checking, and so also has the next `list`
        ready. The flagged, the not merged and any not listed are looked at one by one."""
        from .storage.listcache import REREAD

        wanted = set(changed) - set(self.not_merged)
        found: dict[str, str] = {}
        again: list[str] = [sid for sid in changed if sid in self.not_merged]
        for line in self.store.listing_cache().lines():
            fields = line.split(b"\t", 7)
            session_id = fields[1].decode("utf-8", "surrogateescape")
            if session_id not in wanted:
                continue
            wanted.discard(session_id)
            if REREAD in fields[3]:
                again.append(session_id)
            else:
                self.sessions._check_row(fields, found)
        again += wanted  # not listed (gone meanwhile): asked as before
        for start in range(0, len(again), PREFETCH_SESSIONS):
            chunk = again[start : start + PREFETCH_SESSIONS]
            self.store.prefetch_states(chunk)
            try:
                found.update(self._problems_of(chunk))
            finally:
                self.repo.reader.forget()
        return {sid: found[sid] for sid in changed if sid in found}

    def _problems_of(self, session_ids: list[str]) -> dict[str, str]:
        problems = {}
        for session_id in session_ids:
            if session_id in self.not_merged:
                problems[session_id] = f"{self.not_merged[session_id]} (not merged)"
                continue
            try:
                state = self.store.state(session_id)
            except GitsessError as exc:
                problems[session_id] = exc.message
                continue
            if state is not None:
                problem = self.sessions.branch_problem(state.meta, session_id)
                if problem is not None:
                    problems[session_id] = flagged_branch(session_id, problem)
        return problems

    def sync(self) -> dict[str, str]:
        """Merge what a plain `git fetch` brought into the tracking refs."""
        stamp = self.repo.fetch_head_stamp()
        outcomes = self.integrate_all(None, None)
        if stamp:
            self.repo.mark_fetch_seen(stamp)
        return outcomes

    def integrate_all(self, remote: Remote | None, only: list[str] | None) -> dict[str, str]:
        """Merge tracking refs (of ``remote``, or of all) into the local logs.

        Only what changed since the last merge is looked at: the tracking refs are
        compared with what was last merged (or pushed) in one set difference, and the
        local logs are read for the changed ones alone. Named sessions (``only``) are
        all looked at: they are brought back even if deleted here since last seen."""
        tracking = self.tracking(remote, only)
        outcomes: dict[str, str] = {}
        if only is None:
            seen = self.seen()
            for ref, session_id, theirs, _ in tracking:
                if seen.get(ref) == theirs:
                    outcomes.setdefault(session_id, "up to date")
            tracking = [row for row in tracking if seen.get(row[0]) != row[2]]
        local = self._local_logs(list({row[1] for row in tracking}))
        creates: dict[str, tuple[str, str]] = {}  # session id: (tracking ref, theirs)
        todo: list[tuple[str, str, str, str]] = []
        for ref, session_id, theirs, remote_name in tracking:
            ours = local.get(session_id)
            if ours == theirs:
                outcomes.setdefault(session_id, "up to date")
            elif ours is None and session_id not in creates:
                creates[session_id] = (ref, theirs)
            else:
                todo.append((ref, session_id, theirs, remote_name))
        new_refs = {session_ref(sid): theirs for sid, (_, theirs) in creates.items()}
        # No reflog for a creation: it would only say "created at theirs", which the first
        # later update's entry records as its old value anyway; writing 500 of them took
        # a quarter of a fresh fetch. Many go straight into packed-refs.
        if self.repo.create_refs(new_refs, "gitsess: fetch"):
            outcomes.update({sid: "new" for sid in creates})
        else:  # someone created one of them meanwhile: take them one by one
            todo += [(ref, sid, theirs, "") for sid, (ref, theirs) in creates.items()]
        for _ref, session_id, theirs, remote_name in todo:
            try:
                outcomes[session_id] = self.integrate(session_id, theirs, remote_name)
            except GitsessError as exc:  # one unreadable log (theirs or ours) stops no other
                outcomes[session_id] = "not merged"
                self.not_merged[session_id] = exc.message
        self._mark_seen({ref: theirs for ref, _, theirs, *_ in tracking})
        return outcomes

    def tracking(
        self, remote: Remote | None = None, only: list[str] | None = None
    ) -> list[tuple[str, str, str, str]]:
        """(tracking ref, session id, log commit, remote name) of fetched logs (of ``remote``,
        else of every remote)."""
        prefix = remote.tracking_prefix if remote else TRACKING_ROOT
        if remote is not None and only is not None:  # looked up by name: O(len(only))
            named = [remote.tracking_ref(sid) for sid in only]
            rows = [f"{oid} {ref}" for ref, oid in self.repo.ref_values(named, prefix).items()]
        else:
            rows = self.repo.refs(prefix)
        found = []
        for row in rows:
            oid, ref = row.split(" ", 1)
            remote_name, _, rest = ref[len(TRACKING_ROOT) :].partition("/sessions/")
            if rest and "/" not in rest and (only is None or rest in only):
                found.append((ref, rest, oid, remote_name))
        return found

    def integrate(self, session_id: str, theirs: str, remote_name: str = "") -> str:
        """Bring the log commit ``theirs`` into the local session; what happened, in a word."""
        for _ in range(MAX_ATTEMPTS):
            ours = self.repo.ref_value(session_ref(session_id))
            try:
                if ours is None:
                    self.store.move(session_id, theirs, None, "fetch")
                    return "new"
                if ours == theirs or self.repo.is_ancestor(theirs, ours):
                    return "up to date"
                if self.repo.is_ancestor(ours, theirs):
                    self.store.move(session_id, theirs, ours, "fast-forward")
                    return "updated"
                return self._merge(session_id, ours, theirs, remote_name)
            except RefMoved:
                continue
        raise GitsessError(f"session {session_id} kept changing; it was not merged")

    def _merge(self, session_id: str, ours: str, theirs: str, remote_name: str) -> str:
        mine = self._require_at(session_id, ours)
        other = self._require_at(session_id, theirs)
        base_oid = self.repo.merge_base(ours, theirs)
        if base_oid is None:
            # Every real copy of a session descends from the log commit that created it.
            # One that shares no history is another log under this id: a teammate who
            # learned the id (from a `Session:` trailer) and forged one, or the copy pushed
            # before a `redact`. Merging it would take their entries into this session.
            raise GitsessError(
                f"session {session_id}: the copy on {remote_name or 'the remote'} shares no "
                "history with yours (someone else's log under this id, or your log before a "
                "`redact`); it was not merged"
            )
        base_state = self.store.state(session_id, at=base_oid)
        raw: dict[int, bytes] = {}
        base = self._parsed(base_state, raw) if base_state else []
        my_entries, their_entries = self._parsed(mine, raw), self._parsed(other, raw)
        merged = merge_logs(base, my_entries, their_entries)
        meta = merge_meta(mine.meta, other.meta)
        if canonical(merged) == canonical(their_entries) and canonical(meta) == canonical(
            other.meta
        ):
            self.store.move(session_id, theirs, ours, "fast-forward (same content)")
            return "updated"
        # Entries kept as they were keep their bytes, so unchanged segments stay shared.
        lines = [raw.get(id(e)) or encode_json(e) for e in merged]
        where = f" {remote_name}" if remote_name else ""
        self.store.replace(session_id, meta, lines, [ours, theirs], ours, f"merge{where}")
        return "merged"

    # -- internals ---------------------------------------------------------------

    def _require_at(self, session_id: str, oid: str) -> LogState:
        state = self.store.state(session_id, at=oid)
        if state is None:
            raise GitsessError(f"session {session_id}: log commit {oid[:12]} is missing")
        return state

    def _parsed(self, state: LogState, raw: dict[int, bytes]) -> list[Entry]:
        entries = []
        for line in self.store.lines(state):
            if not line.strip():
                continue
            entry = _loads(line)
            if not isinstance(entry, dict):
                entry = {"type": "invalid", "raw": line.decode("utf-8", "replace")}
            raw[id(entry)] = line
            entries.append(entry)
        return entries

    def _remote_id(self, reference: str, on_remote: dict[str, str], remote: Remote) -> str:
        if reference in on_remote:
            return reference
        matches = [
            sid for sid in on_remote if is_id_prefix(reference) and sid.startswith(reference)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise BadInput(
                f"{reference!r} is ambiguous on {remote.url}: {', '.join(sorted(matches))}"
            )
        # A local name (title, branch) for a session the remote also has.
        local_id = self.local_session(reference)
        if local_id in on_remote:
            return str(local_id)
        raise BadInput(f"no session {reference!r} on {remote.url}")

    def local_session(self, name: str) -> str | None:
        """The session here that ``name`` names, or None. A probe: failing asks no remote."""
        hints, self.sessions.remote_hints = self.sessions.remote_hints, False
        try:
            return self.sessions.resolve(name)
        except BadInput:
            return None
        finally:
            self.sessions.remote_hints = hints

    def _fetch_branches(
        self, remote: Remote, session_ids: list[str], fetched: set[str], logs: Remote
    ) -> list[str]:
        """Fetch the code branches of sessions (as their logs fetched from ``logs`` name
        them) from ``remote``; the branches the remote no longer has.

        Each branch is fetched by name (the remote advertises only those refs); one the
        remote lacks makes git fetch nothing and say which, so it is set aside and the
        rest fetched again. Past a few such, the remote's branches are listed once."""
        specs: dict[str, str] = {}  # branch -> refspec, in the sessions' order
        for session_id in session_ids:
            try:
                state = self.store.state(session_id, at=logs.tracking_ref(session_id))
            except GitsessError:  # reported when it is merged
                continue
            branch = self.sessions.branch_of(state.meta, session_id) if state else None
            if branch and branch not in fetched:
                specs.setdefault(branch, f"+refs/heads/{branch}:{remote.branch_ref(branch)}")
        order = {branch: index for index, branch in enumerate(specs)}
        missing: list[str] = []
        while specs:
            try:
                transfer.fetch(self.repo, remote, list(specs.values()))
                break
            except transfer.MissingRemoteRef as exc:
                branch = exc.ref.removeprefix("refs/heads/")
                if branch not in specs:
                    raise
                missing.append(branch)
                del specs[branch]
                if len(missing) == BRANCH_RETRIES:
                    missing += self._absent_branches(remote, specs)
        return sorted(missing, key=order.__getitem__)

    def _absent_branches(self, remote: Remote, specs: dict[str, str]) -> list[str]:
        """Take out of ``specs`` the branches the remote does not have (one listing)."""
        heads = transfer.remote_heads(self.repo, remote)
        absent = [b for b in specs if f"refs/heads/{b}" not in heads]
        for branch in absent:
            del specs[branch]
        return absent

    def _config_all(self, key: str) -> list[str]:
        return self.repo.config_all(key)

    def seen(self) -> dict[str, str]:
        """{tracking ref: log commit} already merged once, or deliberately left out since
        (a session deleted or redacted here): a plain sync does not merge these again, and
        unchanged ones cost nothing."""
        return seen_state.read_seen(self.repo.state_dir())

    def _mark_seen(self, refs: dict[str, str]) -> None:
        seen_state.record_seen(self.repo.state_dir(), refs)


def _where(remote: Remote) -> str:
    return remote.name if remote.named else remote.url


def _pushed_result(summary: str) -> str:
    """A successful push line's summary in a word: created, up to date, or sent."""
    if summary.startswith("[new"):
        return "created"
    return "up to date" if summary == "[up to date]" else "sent"


def _entries_of(obj: Any) -> int:
    """The entry count a log commit records in its trailer (0 if unknown)."""
    if obj is None or obj.kind != "commit":
        return 0
    from .storage.log import recorded_count
    from .storage.objects import decode_commit

    return recorded_count(decode_commit(obj.data)) or 0


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _rejection(summary: str) -> str:
    """Why git refused a log, and what to do: "[remote rejected] (hook declined)" reads
    "remote rejected: hook declined"."""
    if "fetch first" in summary or "non-fast-forward" in summary:
        return "the remote has entries you do not have: run `gitsess fetch`, then push again"
    what, _, why = summary.partition("(")
    what, why = what.strip("[] "), why.rstrip(") ")
    return f"{what}: {why}" if what and why else what or why or "rejected"


def _loads(data: bytes) -> Any:
    """The JSON value of ``data``; its text when it nests too deeply to parse (to be scanned
    as text); None when it is no JSON at all."""
    try:
        return load_json(data)  # a fetched line may be nested 200,000 deep
    except ValueError as exc:
        # Too deep to parse is still text that can hold a secret: scan it as text.
        return data.decode("utf-8", "replace") if str(exc) == NESTED_TOO_DEEPLY else None


def _still_held(text: str, findings: list[Finding]) -> list[str]:
    """The kinds of the findings whose secret ``text`` still holds after redaction (in
    fields redact never rewrites)."""
    from .secrets import holds

    return sorted({f.kind for f in findings if holds(text, [f])})


def _scannable(line: bytes) -> Any:
    """A stored line as the scan reads it: its JSON value, else its text (None: blank)."""
    if not line.strip():
        return None
    value = _loads(line)
    return line.decode("utf-8", "replace") if value is None else value


def _entry_name(value: Any, index: int) -> str:
    entry_id = value.get("id") if isinstance(value, dict) else None
    return entry_id if isinstance(entry_id, str) and entry_id else f"line {index + 1}"
