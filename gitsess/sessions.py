"""What gitsess does with sessions: the operations behind the commands.

This layer knows the rules (ids, references, branches, forks); the storage
layer below it knows git, and the CLI above it knows the terminal.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator

from .errors import AmbiguousSession, BadInput, BrokenSession, GitsessError, SessionNotFound
from .ids import (
    DEFAULT_BRANCH_PREFIX,
    branch_problem,
    check_title,
    is_id_prefix,
    is_session_id,
    new_session_id,
    now,
    session_id_from_branch,
    slugify,
)
from .storage.listcache import (
    ARCHIVED,
    CHECK_BRANCH,
    REREAD,
    Snapshot,
    ascii_json,
    field_value,
)
from .storage.log import (
    Change,
    Entry,
    Listed,
    LogState,
    LogStore,
    Meta,
    encode_json,
    line_id,
    parse_line,
    session_ref,
    summary_meta,
)
from .storage.objects import TreeEntry
from .storage.repo import Repository

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object


class Resumed:
    __slots__ = ("local_changes", "note", "recent", "state", "switched")

    def __init__(
        self,
        state: LogState,
        switched: bool,
        note: str | None,  # how the branch was made, when it had to be
        recent: list[Entry],
        local_changes: list[str],
    ) -> None:
        self.state, self.switched, self.note = state, switched, note
        self.recent, self.local_changes = recent, local_changes


class Sessions:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.store = LogStore(repo)
        self._current_branch: str | None = None
        self._prefix: str | None = None
        # May a failed lookup ask the remote whether it has sessions this clone lacks? The
        # command line turns it on, off the hot paths (remote_hint.py).
        self.remote_hints = False

    # -- finding sessions ------------------------------------------------------

    def resolve(self, reference: str) -> str:
        """The id of the session ``reference`` names (docs/format.md section 3), or a clear
        error: an ambiguous name lists the candidates, an unknown one the closest titles."""
        if is_session_id(reference) and self.store.exists(reference):
            return reference  # a full id reads no other session
        from .names import listed_sessions, match_titles

        short = reference.removeprefix("refs/heads/")
        snapshot = self.store.listing_cache(whole=False)
        if snapshot.names_with(2, REREAD):  # sessions read afresh: the rules over them all
            return self._resolve_read(reference, short)
        # Each rule is a search of the cache's names: no session is parsed but those found.
        found = snapshot.names_with(3, ascii_json(reference))
        if is_id_prefix(reference):
            found += snapshot.names_with(1, reference.encode("ascii"), prefix=True)
        for fields in snapshot.names_with(4, ascii_json(short)):
            if self.branch_problem({"branch": short}, fields[1].decode()) is None:
                found.append(fields)
        titles = {f[1].decode(): _title(f[3]) for f in found}
        matches = list(titles)
        if not matches:  # an exact-case title wins; else titles match up to case
            # By id, as git lists the refs: the closest titles are named in that order.
            titled = sorted((f[1].decode(), _title(f[3])) for f in snapshot.name_lines())
            titles = dict(titled)
            matches = match_titles(reference, titled)
            if not matches:
                raise self._unmatched(reference, titled)
        if len(matches) == 1:
            return matches[0]
        chosen = listed_sessions((sid, titles[sid]) for sid in matches)
        raise AmbiguousSession(f"{reference!r} is ambiguous: it matches {chosen}")

    def _resolve_read(self, reference: str, short: str) -> str:
        """resolve() reading every session: when some cannot be cached (unreadable ones)."""
        from .names import listed_sessions, match_titles

        titled: list[tuple[str, str]] = []
        matches: list[str] = []
        for listed in sorted(self.store.read_all(), key=lambda r: str(r.meta.get("id", ""))):
            meta = listed.meta
            sid = str(meta.get("id", ""))
            titled.append((sid, str(meta.get("title", ""))))
            if (
                (is_id_prefix(reference) and sid.startswith(reference))
                or (meta.get("branch") == short and self.branch_of(meta, sid) is not None)
                or meta.get("title") == reference
            ):
                matches.append(sid)
        if not matches:  # an exact-case title wins; else titles match up to case
            matches = match_titles(reference, titled)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise self._unmatched(reference, titled)
        titles = dict(titled)
        chosen = listed_sessions((sid, titles[sid]) for sid in matches)
        raise AmbiguousSession(f"{reference!r} is ambiguous: it matches {chosen}")

    def _unmatched(self, reference: str, titled: list[tuple[str, str]]) -> GitsessError:
        """The error for a name no readable session answers to: an unreadable session it
        names, a prefix too short, or the closest titles (and a deleted one it names)."""
        from .names import no_match

        broken = [
            sid
            for sid in self.store.broken
            if sid == reference or (is_id_prefix(reference) and sid.startswith(reference))
        ]
        if len(broken) == 1:
            return self.store.broken[broken[0]]
        if broken:
            return BadInput(
                f"{reference!r} matches only unreadable sessions: {', '.join(sorted(broken))}"
                " (see `gitsess doctor`)"
            )
        hint = ""
        if any(sid == reference for sid, _, _ in self.store.deleted(titles=False)):
            hint = f" (it was deleted: `gitsess undelete {reference}` restores it)"
        hint = hint or self.remote_hint()
        return SessionNotFound(no_match(reference, titled) + hint)

    def remote_hint(self) -> str:
        """What a failed lookup adds when the remote has sessions this clone lacks ("" when
        it has none, or remote_hints is off)."""
        if not self.remote_hints:
            return ""
        from .remote_hint import lookup_hint

        return lookup_hint(self.repo)

    def current(self) -> LogState | None:
        """The session whose branch is checked out.

        Found from the id that ends every session branch name, so the cost
        does not depend on how many sessions the repository holds.
        """
        # A stopped rebase detaches HEAD; the session is still the one being rebased.
        branch = self.repo.current_branch() or self.repo.rebasing_branch()
        if not branch:
            return None
        candidate = session_id_from_branch(branch)
        if candidate is None:
            return None
        state = self.store.state(candidate)
        if state is None or state.meta.get("branch") != branch:
            return None
        return state

    def resolve_or_current(self, reference: str | None) -> str:
        """The session ``reference`` names, or the current one when there is no reference
        (an empty one is a name, matching nothing: an unset shell variable is not "here")."""
        if reference is None:
            return self.require_current().session_id
        return self.resolve(reference)

    def require_current(self) -> LogState:
        """The current session, or BadInput saying where HEAD is and the way out."""
        state = self.current()
        if state is None:
            branch = self.repo.current_branch() or self.repo.rebasing_branch()
            if not branch:
                where = "HEAD is detached"
            elif session_id_from_branch(branch) is None:
                where = f"HEAD is on {branch}, not a session branch"
            else:  # named like one, but no session here has it (deleted, or not fetched)
                where = f"HEAD is on {branch}, which no session here has"
            raise BadInput(
                f"no current session: {where}; name one (`gitsess list` shows them) "
                "or check one out (`gitsess resume SESSION`)"
            )
        return state

    def listing(self, include_archived: bool = False) -> list[Listed]:
        rows = [
            row
            for row in self.store.read_all()
            if include_archived or row.meta.get("status") != "archived"
        ]
        return sorted(rows, key=lambda r: str(r.meta.get("updated", "")), reverse=True)

    def family(self, session_id: str) -> list[Listed]:
        """The sessions of ``session_id``'s fork family (for tree.families): the root its
        parents lead to and every session forked from it, at most FAMILY_LIMIT. Found by
        byte searches of the listing cache's names (each row names the session it was
        forked from), so no other session is read: the viewer shows a family on every
        session page. When the cache cannot say (a session that must be read afresh),
        every session: tree.families finds the family among them."""
        snapshot = self.store.listing_cache()
        if snapshot.names_with(2, REREAD):
            return self.listing(include_archived=True)
        root, seen = session_id, {session_id}
        while (source := _source_of(snapshot, root)) is not None and source not in seen:
            seen.add(source)
            root = source
        members, queue = {root: None}, [root]
        while queue and len(members) < FAMILY_LIMIT:
            for name in snapshot.names_with(7, ascii_json(queue.pop())):
                child = name[1].decode("utf-8", "surrogateescape")
                if child not in members:
                    members[child] = None
                    queue.append(child)
        return self._cached_rows(snapshot, list(members)[:FAMILY_LIMIT])

    def with_task(self, task: str, limit: int) -> list[Listed]:
        """Up to ``limit`` sessions whose `task` is ``task``, most recent first: the rows
        whose summary holds the task's JSON, checked once parsed (every session read when
        the cache cannot say)."""
        snapshot = self.store.listing_cache(names=False)
        if snapshot.rows_with(3, REREAD):
            listed = self.listing(include_archived=True)
            return [row for row in listed if row.meta.get("task") == task][:limit]
        needles = {ascii_json(task), json.dumps(task, ensure_ascii=False).encode()}
        found: list[Listed] = []
        for line in snapshot.lines():
            if len(found) >= limit:
                break
            if any(needle in line for needle in needles):
                fields = line.split(b"\t", 7)
                meta = summary_meta(fields[7])
                if meta.get("task") == task:
                    found.append(Listed(meta, int(fields[2]), fields[0].decode()))
        return found

    def _cached_rows(self, snapshot: Snapshot, session_ids: list[str]) -> list[Listed]:
        rows = []
        for sid in session_ids:
            found = snapshot.rows_with(1, sid.encode("utf-8", "surrogateescape"))
            if found:
                fields = found[0]
                rows.append(Listed(summary_meta(fields[7]), int(fields[2]), fields[0].decode()))
        return rows

    def listing_json(
        self, include_archived: bool, limit: int | None, warnings: dict[str, str]
    ) -> Iterator[bytes] | None:
        """`list --json` as the cache holds it: each summary's JSON, newest first, at most
        ``limit``, given as it is read (never all of them in memory twice); the warnings
        for the sessions listed go in ``warnings``. None when some session must be read
        afresh (then listing() says it all)."""
        snapshot = self.store.listing_cache(names=False)  # the body says it all
        if snapshot.rows_with(3, REREAD):
            return None
        return self._summaries(snapshot, include_archived, limit, warnings)

    def _summaries(
        self,
        snapshot: Snapshot,
        include_archived: bool,
        limit: int | None,
        warnings: dict[str, str],
    ) -> Iterator[bytes]:
        current = self._current_json()
        given = 0
        for line in snapshot.lines():
            fields = line.split(b"\t", 7)
            if not include_archived and ARCHIVED in fields[3]:
                continue
            if limit is not None and given >= limit:
                break
            given += 1
            self._check_row(fields, warnings)
            yield self._as_current(fields[7]) if fields[6] == current else fields[7]

    def page(
        self, include_archived: bool, limit: int | None, first: list[str]
    ) -> tuple[list[dict[str, Any]], int, list[str]]:
        """`list`'s page: the sessions in ``first`` (pinned ones, in that order) then the most
        recently updated, ``limit`` in all (None: every one); how many the listing holds;
        and the warnings for those listed. Only the page's rows are parsed."""
        snapshot = self.store.listing_cache()
        if snapshot.rows_with(3, REREAD):
            return self._page_read(include_archived, limit, first)
        current = self._current_json()
        warnings: dict[str, str] = {}
        # Counted and checked by searching the bytes: only the page's rows are parsed.
        archived = [f[1] for flags in (b"A", b"Ab") for f in snapshot.rows_with(3, flags)]
        for flags in (b"b", b"Ab") if include_archived else (b"b",):
            for fields in snapshot.rows_with(3, flags):
                self._check_row(fields, warnings)
        total = snapshot.body.count(b"\n") - (0 if include_archived else len(archived))
        hidden = set() if include_archived else set(archived)
        picked = [
            found[0]
            for sid in first
            if (found := snapshot.rows_with(1, sid.encode("utf-8", "replace")))
            and found[0][1] not in hidden
        ]
        skip = hidden | {f[1] for f in picked}
        for line in snapshot.lines():
            if limit is not None and len(picked) >= limit:
                break
            fields = line.split(b"\t", 7)
            if fields[1] not in skip:
                picked.append(fields)
        rows = []
        for fields in picked[:limit]:
            summary = json.loads(self._as_current(fields[7]) if fields[6] == current else fields[7])
            rows.append(summary)
        return rows, total, [warnings[sid] for sid in sorted(warnings)]

    def _page_read(
        self, include_archived: bool, limit: int | None, first: list[str]
    ) -> tuple[list[dict[str, Any]], int, list[str]]:
        """page() reading every session (some cannot be cached: unreadable ones)."""
        listed = self.listing(include_archived)
        warnings = [broken.message for _, broken in sorted(self.store.broken.items())]
        warnings += [flagged for _, flagged in sorted(self.flagged(listed).items())]
        order = {sid: n for n, sid in enumerate(first)}
        rows = [self.summary(r.meta, r.count, r.oid) for r in listed]
        rows.sort(key=lambda r: order.get(str(r.get("id")), len(order)))
        return rows[:limit], len(rows), warnings

    def _current_json(self) -> bytes | None:
        """The checked-out branch as a cache row's branch field holds it (None: none)."""
        if self._current_branch is None:
            self._current_branch = self.repo.current_branch() or ""
        return ascii_json(self._current_branch) if self._current_branch else None

    def _as_current(self, summary: bytes) -> bytes:
        """A cached summary naming the checked-out branch, with `current` worked out."""
        meta = summary_meta(summary)
        row = self.summary(meta, *_count_and_log(summary))
        return json.dumps(row, ensure_ascii=False).encode("utf-8")

    def _check_row(self, fields: list[bytes], warnings: dict[str, str]) -> None:
        """Note the warning for a cached row whose branch gitsess ignores."""
        if CHECK_BRANCH not in fields[3]:
            return
        sid = fields[1].decode()
        problem = self.branch_problem(summary_meta(fields[7]), sid)
        if problem is not None:
            warnings[sid] = flagged_branch(sid, problem)

    def summary(self, meta: Meta, count: int, oid: str) -> dict[str, Any]:
        """The session summary (docs/format.md section 7): session.json plus entries, log and
        current."""
        if self._current_branch is None:
            self._current_branch = self.repo.current_branch() or ""
        # Only the one session naming the checked-out branch needs its branch checked.
        current = bool(self._current_branch) and meta.get("branch") == self._current_branch
        current = current and self.branch_of(meta, str(meta.get("id", ""))) is not None
        return {**meta, "entries": count, "log": oid, "current": current}

    def summary_of(self, state: LogState) -> dict[str, Any]:
        return self.summary(state.meta, state.count, state.oid)

    # -- branches ---------------------------------------------------------------

    def branch_prefix(self) -> str:
        """`gitsess.branchPrefix`, else `session/`."""
        if self._prefix is None:
            prefix = self.repo.config("gitsess.branchPrefix")
            self._prefix = DEFAULT_BRANCH_PREFIX if prefix is None else prefix
        return self._prefix

    def branch_problem(self, meta: Meta, session_id: str) -> str | None:
        """Why the session's recorded branch is not used (None: it is fine).

        session.json comes from whoever pushed the log: its `branch` is data, and only a
        name of the form gitsess gives its own branches is ever checked out, created,
        pushed or fetched (see ids.branch_problem).
        """
        return branch_problem(meta.get("branch"), session_id, self.branch_prefix)

    def branch_of(self, meta: Meta, session_id: str) -> str | None:
        """The session's branch, or None when session.json names one gitsess will not use."""
        if self.branch_problem(meta, session_id) is not None:
            return None
        return str(meta["branch"])

    def require_branch(self, state: LogState) -> str:
        """The session's branch, or BadInput saying why it is ignored."""
        problem = self.branch_problem(state.meta, state.session_id)
        if problem is not None:
            raise BadInput(flagged_branch(state.session_id, problem))
        return str(state.meta["branch"])

    def flagged(self, rows: Iterable[Listed]) -> dict[str, str]:
        """{session id: warning} for listed sessions whose branch gitsess ignores."""
        found = {}
        for row in rows:
            sid = str(row.meta.get("id", ""))
            problem = self.branch_problem(row.meta, sid)
            if problem is not None:
                found[sid] = flagged_branch(sid, problem)
        return found

    # -- creating --------------------------------------------------------------

    def new(
        self,
        title: str,
        from_rev: str | None = None,
        checkout: bool = True,
        agent: str | None = None,
        entries: list[Entry] | None = None,
        extra: Meta | None = None,
        trusted: bool = False,
    ) -> LogState:
        """A new session; with ``entries`` (already in the entry format) its log starts with
        them."""
        check_title(title)
        # No entries, nothing to validate: an empty session does not load pydantic.
        normal, _ = self.normalized(entries or [], head=None, trusted=trusted or not entries)
        lines = _input_lines(normal)
        if from_rev is None:
            start = self.repo.head_commit()
        else:
            start = self.repo.resolve(from_rev)
            if start is None:
                raise BadInput(f"unknown revision {from_rev!r}")
        session_id = new_session_id()
        meta = self._new_meta(session_id, title, start, agent=agent)
        meta.update(extra or {})
        self._start(meta, start, checkout, lambda: self.store.create(meta, lines=lines))
        return self.store.require(session_id)

    @staticmethod
    def normalized(
        raw: Iterable[Any],
        head: str | None,
        numbers: Iterable[int] | None = None,
        trusted: bool = False,
    ) -> tuple[list[Entry], dict[str, int]]:
        """entries (docs/format.md) from ``raw``, and the line of each id the input supplied.

        Input from outside is validated against the model; ``trusted`` entries,
        built by gitsess itself, are only shaped. BadInput names the first bad
        entry, or the first repeated id.
        """
        if trusted:
            from .entry import shape_entry as normalize_entry
        else:
            from .validate import normalize_entry

        entries: list[Entry] = []
        seen: dict[str, int] = {}
        for number, value in zip(numbers or itertools.count(1), raw, strict=False):
            try:
                entry = normalize_entry(value, head)
            except ValueError as exc:
                raise BadInput(f"line {number}: {exc}") from None
            if isinstance(value, dict) and "id" in value:
                if entry["id"] in seen:
                    raise BadInput(
                        f"line {number}: id {entry['id']!r} repeats line {seen[entry['id']]}"
                    )
                seen[entry["id"]] = number
            entries.append(entry)
        return entries, seen

    def fork(
        self,
        source: str,
        at: str | None = None,
        title: str | None = None,
        checkout: bool = True,
    ) -> LogState:
        state = self.store.require(source)
        # One read of the segments serves both finding the entry and splitting the log.
        blobs = self.store.segment_blobs(state.segments, source)  # all of them, or an error
        data = {s.oid: blob for s, blob in zip(state.segments, blobs, strict=True)}
        lines = [line for s in state.segments for line in data[s.oid].splitlines()]
        position = len(lines) - 1
        if at is not None:
            position = self.entry_position(lines, at)
        entry = parse_line(lines[position]) if position >= 0 else None
        new_title = (
            check_title(title) if title is not None else f"{state.meta.get('title', source)} (fork)"
        )
        start = self._fork_start(state, entry)
        session_id = new_session_id()
        meta = self._new_meta(session_id, new_title, start, agent=state.meta.get("agent"))
        meta["parent"] = {"session": source, "entry": entry.get("id") if entry else None}
        meta["tags"] = list(state.meta.get("tags") or [])
        meta["from_branch"] = state.meta.get("from_branch")  # promoted where its source would be
        if isinstance(state.meta.get("task"), str):
            meta["task"] = state.meta["task"]  # another attempt at the same task
        whole, rest = self._fork_segments(state, position + 1, data)
        parent = self._fork_point(state, position + 1, whole, rest)

        def write() -> str:
            return self.store.create(
                meta,
                segments=whole,
                lines=rest,
                parents=[parent],
                message=f"fork {source} at {meta['parent']['entry'] or 'start'}",
            )

        self._start(meta, start, checkout, write)
        return self.store.require(session_id)

    @staticmethod
    def entry_position(lines: list[bytes], reference: str) -> int:
        """The index in a log's ``lines`` of the entry ``reference`` names, for every
        command that takes an entry (docs/format.md section 3; names.locate_entry): a
        number counts entries, every non-blank line, as `show` numbers them."""
        from .names import locate_entry

        kept = [at for at, line in enumerate(lines) if line.strip()]
        return kept[locate_entry([line_id(lines[at]) for at in kept], reference)]

    # -- appending -------------------------------------------------------------

    def record(
        self,
        session_id: str,
        raw: Iterable[tuple[int, Any]],
        skip_known: bool = False,
        trusted: bool = False,
        assume_new: bool = False,
    ) -> tuple[int, str]:
        """Append entries, all or nothing. ``raw`` pairs each entry with its line number.

        An id the session already has is an error, or with ``skip_known`` (capture,
        which may see an entry again) that entry is left out. ``trusted``: the
        entries were built by gitsess (see `normalized`). ``assume_new``: the caller
        knows the ids are not in the log (capture of a large transcript keeps the ids it
        recorded), so the log's ids are not all read (their cost grows with the log).
        """
        state = self.store.require(session_id)
        branch = self.branch_of(state.meta, session_id)
        head = self.repo.branch_tip(branch) if branch else None
        pairs = list(raw)
        entries, supplied = self.normalized(
            (v for _, v in pairs), head, (n for n, _ in pairs), trusted=trusted
        )
        appended = len(entries)
        encoded = _input_lines(entries)

        def change(state: LogState) -> Change | None:
            nonlocal appended
            chosen, lines = entries, encoded
            if supplied and not assume_new:
                known = self._known_ids(state, supplied)
                if known and not skip_known:
                    first = min(known, key=lambda i: supplied[i])
                    raise BadInput(
                        f"line {supplied[first]}: id {first!r} is already in the session"
                    )
                if known:
                    kept = [i for i, e in enumerate(entries) if e["id"] not in known]
                    chosen, lines = [entries[i] for i in kept], [encoded[i] for i in kept]
            appended = len(chosen)
            if not chosen:
                return None
            meta = {**state.meta, "updated": now()}
            noun = "entry" if len(chosen) == 1 else "entries"
            return Change(meta, f"append {len(chosen)} {noun}", lines)

        if not entries:
            return 0, state.oid
        oid = self.store.update(session_id, change)
        return appended, oid

    # -- changing metadata -----------------------------------------------------

    def rename(self, session_id: str, title: str) -> str:
        check_title(title)
        return self._set(session_id, "rename", title=title)

    def set_status(self, session_id: str, status: str) -> str:
        return self._set(
            session_id, "archive" if status == "archived" else "unarchive", status=status
        )

    def set_task(self, session_id: str, task: str) -> str:
        return self._set(session_id, "task", task=task)

    def set_visibility(self, session_id: str, visibility: str) -> str:
        return self._set(
            session_id, "share" if visibility == "shared" else "unshare", visibility=visibility
        )

    def delete(self, session_id: str) -> LogState:
        state = self.store.require(session_id)
        self.store.delete(session_id)
        return state

    def deleted(
        self, every: list[tuple[str, str, str]] | None = None
    ) -> list[tuple[str, str, str]]:
        """(id, log commit, title) of each deleted session as `undelete` lists them, newest
        first: not those whose log is back (restored, or fetched again). ``every``: the
        trash's rows, when already read."""
        rows = self.store.deleted() if every is None else every
        return [row for row in rows if not self.store.exists(row[0])]

    def undelete(self, reference: str) -> str:
        """Restore the deleted session ``reference`` names: an id, a unique prefix or a
        title (up to case when unambiguous), as `undelete` lists them; its newest log."""
        from .names import listed_sessions, match_named, no_match

        every = self.store.deleted()
        listed = [(sid, title) for sid, _, title in self.deleted(every)]
        found = match_named(reference, listed)
        if not found:
            back = match_named(reference, [(sid, title) for sid, _, title in every])
            if len(back) == 1:  # the listing leaves it out: its log is there again
                raise BadInput(f"session {back[0]} is not deleted")
            raise SessionNotFound(no_match(reference, listed, "deleted session"))
        if len(found) > 1:
            titles = dict(listed)
            chosen = listed_sessions((sid, titles[sid]) for sid in found)
            raise AmbiguousSession(f"{reference!r} is ambiguous: it matches {chosen}")
        session_id = found[0]
        rows = [(oid, title) for sid, oid, title in every if sid == session_id]  # newest first
        # A log deleted twice is listed twice: the row named by its title, else the newest.
        named = [oid for oid, title in rows if match_named(reference, [(session_id, title)])]
        self.store.restore(session_id, (named or [rows[0][0]])[0])
        return session_id

    # -- resuming --------------------------------------------------------------

    def resume(self, session_id: str, recent: int = 5) -> Resumed:
        state = self.store.require(session_id)
        branch = self.require_branch(state)
        switched, note = False, None
        if self.repo.current_branch() != branch:
            self._refuse_mid_operation()
            if self.repo.branch_tip(branch):
                self.repo.switch(branch)
            else:
                start, note = self.branch_start(state, branch)
                self.repo.switch(branch, create_at=start)
            switched = True
            self._current_branch = None
        return Resumed(
            state,
            switched,
            note,
            self.store.last_entries(state, recent),
            self.repo.local_changes(),
        )

    def last_session(self) -> str:
        rows = self.listing()
        if not rows:
            raise SessionNotFound("there are no sessions yet: start one with `gitsess new TITLE`")
        flagged = self.flagged(rows)
        usable = [r for r in rows if str(r.meta.get("id", "")) not in flagged]
        if not usable:  # only sessions whose branch is ignored: name the newest one's problem
            raise BadInput(flagged[str(rows[0].meta.get("id", ""))])
        return str(usable[0].meta["id"])

    # -- internals -------------------------------------------------------------

    def _set(self, session_id: str, message: str, **fields: Any) -> str:
        """Change metadata fields. `updated` is the conversation's activity time (what
        `list` sorts by and a bare `resume` picks), so this moves `changed` instead."""

        def change(state: LogState) -> Change | None:
            if all(state.meta.get(k) == v for k, v in fields.items()):
                return None
            return Change({**state.meta, **fields, "changed": now()}, message)

        return self.store.update(session_id, change)

    def _new_meta(self, session_id: str, title: str, start: str | None, agent: str | None) -> Meta:
        identity = self.repo.identity()
        stamp = now()
        # Built here from checked parts; tests hold it to model.SessionMeta.
        return {
            "format": 1,
            "id": session_id,
            "title": title,
            "branch": self._branch_name(title, session_id),
            "base": start,
            "created": stamp,
            "updated": stamp,
            "author": {"name": identity.name, "email": identity.email},
            "agent": agent,
            "parent": None,
            # Where the session was started: `promote` merges it back there.
            "from_branch": self.repo.current_branch(),
            "status": "active",
            "visibility": "private",
            "tags": [],
        }

    def _branch_name(self, title: str, session_id: str) -> str:
        prefix = self.repo.config("gitsess.branchPrefix")
        prefix = DEFAULT_BRANCH_PREFIX if prefix is None else prefix
        slug = slugify(title)
        name = f"{prefix}{slug}-{session_id}" if slug else f"{prefix}{session_id}"
        # The default prefix, a slug of [a-z0-9] and single hyphens, and the id make a valid
        # name by construction: git is asked only about a configured prefix (a process less
        # for every `new` and `fork`).
        if prefix != DEFAULT_BRANCH_PREFIX and not self.repo.valid_branch_name(name):
            raise BadInput(f"{name!r} is not a valid branch name: check gitsess.branchPrefix")
        return name

    def _start(
        self, meta: Meta, start: str | None, checkout: bool, write: Callable[[], str]
    ) -> None:
        """Write the log, then create the branch; remove the log if the branch cannot be made.

        In this order a crash in between leaves a whole session whose branch is missing
        (`resume` makes it, at the session's base), never a branch without a session.
        """
        branch = meta["branch"]
        if checkout:
            self._refuse_mid_operation(" (or use --no-checkout)")
        oid = write()
        try:
            if start is None:
                if checkout:
                    self.repo.point_unborn_head(branch)
            elif checkout:
                self.repo.switch(branch, create_at=start)
            else:
                self.repo.create_branch(branch, start)
        except BaseException:
            if start is not None and self.repo.branch_tip(branch) is None:
                self.repo.delete_ref(session_ref(meta["id"]), oid, "gitsess: undo")
            raise
        finally:
            self._current_branch = None

    def _refuse_mid_operation(self, alternative: str = "") -> None:
        """Checking a branch out in the middle of a rebase or merge would wreck it: refuse."""
        operation = self.repo.operation_in_progress()
        if operation is None:
            return
        how = "end it with `git bisect reset`" if operation == "bisect" else "finish or abort it"
        raise GitsessError(
            f"a {operation} is in progress: {how} first{alternative}; nothing was changed"
        )

    def _not_here(self) -> str:
        """Why a commit a session records may be missing here, when the reason is known."""
        if self.repo.is_shallow():
            return " (this is a shallow clone: `git fetch --unshallow` brings the rest)"
        return ""

    def _fork_start(self, state: LogState, entry: Entry | None) -> str | None:
        branch = self.branch_of(state.meta, state.session_id)
        candidates = [
            entry.get("head") if entry else None,
            self.repo.branch_tip(branch) if branch else None,
            state.meta.get("base"),
        ]
        for candidate in candidates:
            if isinstance(candidate, str) and self.repo.resolve(candidate):
                return self.repo.resolve(candidate)
        recorded = next((c for c in candidates if isinstance(c, str)), None)
        if recorded:  # starting anywhere else would be a guess
            raise GitsessError(
                f"the code commit to fork at, {recorded[:12]}, is not in this repository, "
                f"nor is the session's branch{self._not_here()}"
            )
        return self.repo.head_commit()

    @staticmethod
    def _fork_segments(
        state: LogState, keep: int, data: dict[str, bytes]
    ) -> tuple[list[TreeEntry], list[bytes]]:
        """The segments holding the first ``keep`` entries: whole ones shared, the rest as lines."""
        whole: list[TreeEntry] = []
        taken = 0
        for segment in state.segments:
            lines = data.get(segment.oid, b"").splitlines()
            if taken + len(lines) <= keep:
                whole.append(segment)
                taken += len(lines)
                continue
            return whole, lines[: keep - taken]
        return whole, []

    def _fork_point(
        self, state: LogState, count: int, whole: list[TreeEntry], rest: list[bytes]
    ) -> str:
        """A log commit holding exactly the source's first ``count`` entries: the parent of
        the fork's first log commit, so a pushed fork reaches nothing of the source past
        the fork point (not its later entries, not its later session.json).

        The oldest such commit on the source's first-parent line is taken (its session.json
        is the source's as it was then, before later renames); its ancestors hold only
        earlier states of those entries. When no commit holds exactly them (they were
        appended in one batch with later ones, or merged, or redacted), a parentless one is
        written: the same segment blobs, and a session.json that says only whose entries
        they are ({"format", "id"}): every later title or field of a private source stays
        home, and nothing in it is new to whoever gets the fork (its `parent` names the
        source already).
        """
        expected = b"".join(line + b"\n" for line in rest)
        history = self.store.entry_counts(state.oid)
        candidates = [sha for sha, n in reversed(history) if n == count]
        for sha in candidates[:20]:  # a bound: equal counts are renames and the like
            try:
                candidate = self.store.state(state.session_id, at=sha)
            except BrokenSession:  # a commit of the source's own source (a fork of a fork)
                continue
            if candidate is not None and self._holds_exactly(candidate, whole, expected):
                return sha
        minimal = {"format": 1, "id": state.session_id}
        return self.store.snapshot(
            state.session_id, minimal, whole, rest, f"fork point: the first {count} entries"
        )

    def _holds_exactly(self, state: LogState, whole: list[TreeEntry], expected: bytes) -> bool:
        """Whether the log ``state`` is the segments ``whole`` followed by ``expected``."""
        head = state.segments[: len(whole)]
        if [s.oid for s in head] != [s.oid for s in whole]:
            return False
        tail = state.segments[len(whole) :]
        return b"".join(self.store.segment_blobs(tail, state.session_id)) == expected

    def branch_start(self, state: LogState, branch: str) -> tuple[str, str]:
        """Where to re-create a missing session branch, and a note saying so."""
        remote = self.remote_branch(branch)
        if remote:
            return remote, f"Branch created from {remote.removeprefix('refs/remotes/')}."
        recorded = [e.get("head") for e in self.store.last_entries(state, 50) if e.get("head")]
        for head in reversed(recorded):
            if isinstance(head, str) and self.repo.resolve(head):
                return head, f"Branch re-created at {head[:12]}, the last commit the log records."
        base = state.meta.get("base")
        if isinstance(base, str) and self.repo.resolve(base):
            lost = " (its later commits are not in this repository)" if recorded else ""
            return base, f"Branch {branch} was gone; re-created at its base {base[:12]}{lost}."
        raise GitsessError(
            f"branch {branch} exists neither here nor on a fetched remote, "
            f"and none of the session's commits is here{self._not_here()}"
        )

    def remote_branch(self, branch: str) -> str | None:
        """A fetched copy of ``branch``: a remote-tracking branch, or gitsess's own tracking.
        The remote `gitsess.sessionsRemote` names comes last: it holds logs, and branches
        come from the code's remotes."""
        logs_only = self.repo.config("gitsess.sessionsRemote")
        for remote in sorted(self.repo.remotes(), key=lambda name: name == logs_only):
            ref = f"refs/remotes/{remote}/{branch}"
            if self.repo.ref_value(ref):
                return ref
        for row in self.repo.refs("refs/gitsess/remotes/"):
            _, ref = row.split(" ", 1)
            if ref.endswith(f"/heads/{branch}"):
                return ref
        return None

    def _known_ids(self, state: LogState, supplied: dict[str, int]) -> set[str]:
        return {entry_id for entry_id in self.store.ids(state) if entry_id in supplied}


def _count_and_log(summary: bytes) -> tuple[int, str]:
    row = json.loads(summary)
    return int(row["entries"]), str(row["log"])


def _title(field: bytes) -> str:
    """A cached row's title as name lookups compare it ("" when it has none)."""
    value = field_value(field)
    return "" if value is None and field == b"-" else str(value)


def flagged_branch(session_id: str, problem: str) -> str:
    return (
        f"session {session_id} names a branch gitsess ignores: {problem}; it is never "
        "checked out, created, pushed or fetched (see `gitsess doctor`)"
    )


def _strict_json(entry: Entry) -> bytes:
    return encode_json(entry, allow_nan=False)


def _input_lines(entries: list[Entry]) -> list[bytes]:
    """New entries as log lines; BadInput for a value JSON cannot carry."""
    from .jsonl import encode_lines

    try:
        return encode_lines(entries, _strict_json)
    except (ValueError, RecursionError):
        pass
    for entry in entries:  # the slow way, only to name the entry
        try:
            encode_json(entry, allow_nan=False)
        except ValueError:
            raise BadInput(
                f"entry {entry.get('id')!r}: NaN or an infinite number (such as 1e400) is not JSON"
            ) from None
        except RecursionError:
            raise BadInput(f"entry {entry.get('id')!r}: nested too deeply") from None
    raise BadInput("an entry cannot be stored as JSON")


FAMILY_LIMIT = 2_000  # sessions of one fork family read for a tree (a hostile one can be huge)


def _source_of(snapshot: Snapshot, session_id: str) -> str | None:
    """The session ``session_id`` was forked from, as its cache names line says."""
    found = snapshot.names_with(1, session_id.encode("utf-8", "surrogateescape"))
    source = field_value(found[0][7].rstrip(b"\t")) if found and len(found[0]) > 7 else None
    return source if isinstance(source, str) and source else None
