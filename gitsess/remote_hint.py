"""What the remote has that this clone does not: the hint a fresh clone needs.

A `git clone` brings branches, not session logs, so in a fresh clone `list` shows nothing
and every session name fails. `list` (as a table) and a failed session lookup then say
how many sessions the default remote has that are not here, and to run `gitsess fetch`.

The check is one `git ls-remote` (nothing fetched), asked so that it never waits on a
person and never for long (storage/remote.probe_sessions), and its answer, reachable or
not, is kept in .git/gitsess/remote-sessions.json for a few minutes; a fetch forgets it.
Nothing here can make a command fail: a remote that is missing, unreachable or asks for
a password means no hint. The hot paths (status, list --json, record, capture, hook)
never get here (docs/sharing.md#a-fresh-clone).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

from .errors import GitsessError
from .storage import remote as transfer
from .storage.layout import SESSIONS
from .storage.remote import Remote
from .storage.repo import Repository

CACHE_FILE = "remote-sessions.json"
FRESH_FOR = 300.0  # seconds a check is trusted before the remote is asked again
OFF = ("false", "no", "off", "0")


def print_list_hint(repo: Repository) -> None:
    """What `list` adds on stderr when it shows no sessions and the remote has some."""
    found = sessions_not_here(repo)
    if found is not None:
        where, count = found
        print(
            f"gitsess: {where} has {_sessions(count)} not fetched here: run `gitsess fetch` "
            "to get them",
            file=sys.stderr,
        )


def lookup_hint(repo: Repository) -> str:
    """What a failed session lookup adds to its message ("" when there is nothing to say)."""
    found = sessions_not_here(repo)
    if found is None:
        return ""
    where, count = found
    return f" ({where} has {_sessions(count)} not fetched here: run `gitsess fetch`)"


def sessions_not_here(repo: Repository) -> tuple[str, int] | None:
    """(the default remote, as named to the user; how many of its sessions are neither
    here nor deliberately left out here), or None when that is none or unknown."""
    try:
        if (repo.config("gitsess.remoteHint") or "").lower() in OFF:
            return None
        branch = repo.current_branch()
        name = transfer.default_remote(repo, [branch] if branch else [])
        remote = transfer.resolve_remote(repo, name)  # BadInput: no such remote, no hint
        remote = transfer.sessions_remote(repo, remote)  # where the logs are
        on_remote = _remote_ids(repo, remote)
        if not on_remote:
            return None
        # A session tracked from this remote but missing here was deleted here: a fetch
        # would not bring it back, so it is no reason to fetch.
        known = set(repo.ref_targets(SESSIONS)) | transfer.tracked_ids(repo, remote)
        missing = len(set(on_remote) - known)
    except (GitsessError, OSError, ValueError):  # a hint never turns into a failure
        return None
    return (remote.name if remote.named else remote.url, missing) if missing else None


def delete_notes(repo: Repository, session_id: str, branch: str | None) -> list[str]:
    """For a session just deleted here: each remote that still has it (as gitsess last saw
    it, fetching or pushing), and the command that removes it there."""
    configured = set(repo.remotes())
    logs_only = _sessions_remote_apart(repo, branch)
    notes = []
    for name in transfer.tracked_on(repo, session_id):
        target = name if name in configured else "URL"  # pushed to a URL: its name is a hash
        where = name if name in configured else "the remote you pushed it to by URL"
        log = f"{SESSIONS}{session_id}"
        if branch and name == logs_only:  # the branch went with the code, elsewhere
            code = transfer.default_remote(repo, [branch])
            there = f" on {code}" if _has_branch(repo, code, branch) else f", if it went to {code},"
            how = (
                f"`git push {target} --delete {log}`, and its branch{there} "
                f"with `git push {code} --delete {branch}`"
            )
        elif branch and _has_branch(repo, name, branch):
            how = f"`git push {target} --delete {log} {branch}`"
        elif branch:  # pushed with the log, unless it did not exist then
            how = (
                f"`git push {target} --delete {log}`, and its branch, if it went too, "
                f"with `git push {target} --delete {branch}`"
            )
        else:
            how = f"`git push {target} --delete {log}`"
        notes.append(f"{where} still has session {session_id}: remove it there with {how}")
    return notes


def _sessions_remote_apart(repo: Repository, branch: str | None) -> str | None:
    """The tracking name of `gitsess.sessionsRemote` when it is a remote apart from the
    one ``branch`` goes to (it then holds logs, not branches), else None."""
    try:
        code = transfer.resolve_remote(
            repo, transfer.default_remote(repo, [branch] if branch else [])
        )
        logs = transfer.sessions_remote(repo, code)
    except GitsessError:
        return None
    return logs.name if logs != code else None


def _has_branch(repo: Repository, remote_name: str, branch: str) -> bool:
    """Whether a fetch saw ``branch`` on the remote (git's remote-tracking branch, or
    gitsess's own for a remote given as a URL)."""
    return any(
        repo.ref_value(ref)
        for ref in (
            f"refs/remotes/{remote_name}/{branch}",
            f"{transfer.TRACKING_ROOT}{remote_name}/heads/{branch}",
        )
    )


def forget(repo: Repository) -> None:
    """Drop the kept answer: a fetch changed what is here."""
    with contextlib.suppress(OSError):
        os.unlink(repo.state_dir() / CACHE_FILE)


def _remote_ids(repo: Repository, remote: Remote) -> list[str] | None:
    """The remote's session ids: as checked less than FRESH_FOR ago, else asked now."""
    path = repo.state_dir() / CACHE_FILE
    now = time.time()
    try:
        kept = json.loads(path.read_text())
        if kept["url"] == remote.url and 0 <= now - float(kept["checked"]) < FRESH_FOR:
            ids = kept["sessions"]
            return [str(i) for i in ids] if isinstance(ids, list) else None
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no answer kept, or an unreadable one: ask
    ids = transfer.probe_sessions(repo, remote.url)
    # An unreachable remote is kept too (as null), so it costs one timeout per FRESH_FOR.
    tmp = path.with_name(f"{CACHE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"url": remote.url, "checked": now, "sessions": ids}))
    os.replace(tmp, path)
    return ids


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"
