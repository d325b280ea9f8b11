"""Transfers: pushing and fetching session refs in one git process each.

Fetched logs land in a tracking namespace of their own,
``refs/gitsess/remotes/<remote>/sessions/<id>``, which cannot collide with a
remote branch (``refs/remotes/<remote>/sessions/...`` would).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import BadInput, GitsessError
from .git import first_line
from .layout import SESSIONS
from .repo import Repository

TRACKING_ROOT = "refs/gitsess/remotes/"


@dataclass(frozen=True)
class Remote:
    """A configured remote (``name``) or a URL or path used directly."""

    name: str
    url: str
    named: bool

    @property
    def tracking_prefix(self) -> str:
        return f"{TRACKING_ROOT}{self.name}/sessions/"

    def tracking_ref(self, session_id: str) -> str:
        return self.tracking_prefix + session_id

    @property
    def sessions_refspec(self) -> str:
        return f"+{SESSIONS}*:{self.tracking_prefix}*"

    def branch_ref(self, branch: str) -> str:
        """Where this remote's copy of ``branch`` is tracked."""
        if self.named:
            return f"refs/remotes/{self.name}/{branch}"
        return f"{TRACKING_ROOT}{self.name}/heads/{branch}"

    @property
    def branches_refspec(self) -> str:
        return f"+refs/heads/*:{self.branch_ref('*')}"


class MissingRemoteRef(GitsessError):
    """A fetch named a ref the remote does not have (and so fetched nothing)."""

    def __init__(self, message: str, ref: str) -> None:
        super().__init__(message)
        self.ref = ref


@dataclass(frozen=True)
class PushedRef:
    ref: str
    ok: bool
    summary: str


def default_remote(repo: Repository, branches: Iterable[str]) -> str:
    """The remote a command uses when none is named: `gitsess.remote`, else the upstream
    remote of the first of ``branches`` that has one (read only as far as needed), else
    origin."""
    name = repo.config("gitsess.remote")
    if name:
        return name
    for branch in branches:
        name = repo.config(f"branch.{branch}.remote")
        if name:
            return name
    return "origin"


def names_remote(repo: Repository, name: str) -> bool:
    """Whether ``name``, given where a remote may stand (`gitsess fetch origin ...`), is one:
    a configured remote, a URL, or a path to a repository."""
    return name in repo.remotes() or is_repository_address(repo, name)


# `user@host:path`, or `host.domain:path`: how git writes an ssh address without ssh://.
_SCP_LIKE = re.compile(r"[\w.-]+@[\w.-]+:|[\w-]+(\.[\w-]+)+:[^/\s]")


def is_repository_address(repo: Repository, name: str) -> bool:
    """A URL (``scheme://``, scp-like ``user@host:path``), a name ending in `.git`, a path
    written as one (`/...`, `./...`, `../...`, `~/...`), or a path to a repository. A
    session's branch (`session/...`) or title is none of these, unless a repository
    happens to sit at that path."""
    if "://" in name or _SCP_LIKE.match(name) or name.endswith(".git"):
        return True
    if name.startswith(("/", "./", "../", "~/")):
        return True
    path = os.path.join(repo.root_path, os.path.expanduser(name))
    return os.path.isfile(os.path.join(path, "HEAD")) or os.path.exists(os.path.join(path, ".git"))


def resolve_remote(repo: Repository, name: str) -> Remote:
    if name in repo.remotes():
        url = repo.config(f"remote.{name}.url") or name
        return Remote(name, url, True)
    if "/" in name or ":" in name or name.endswith(".git"):
        digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        return Remote(f"url-{digest}", name, False)
    raise BadInput(f"no remote named {name!r} (see `git remote -v`)")


# Where session logs go, when not with the branches: a remote of their own, so that the
# code repository's refs stay few however many sessions there are.
SESSIONS_REMOTE = "gitsess.sessionsRemote"


def sessions_remote(repo: Repository, code: Remote) -> Remote:
    """Where session logs go and come from: the remote `gitsess.sessionsRemote` names (a
    configured remote, or a URL or path), else ``code``, the remote of the branches. The
    code remote itself (by name or by URL) counts as unset: one remote, as before.

    Raises BadInput when the setting names no remote, before anything is sent."""
    name = repo.config(SESSIONS_REMOTE)
    if not name:
        return code
    try:
        found = resolve_remote(repo, name)
    except BadInput:
        raise BadInput(
            f"{SESSIONS_REMOTE} names no remote {name!r} (see `git remote -v`, or unset it: "
            f"`git config --unset {SESSIONS_REMOTE}`)"
        ) from None
    return code if found.name == code.name or found.url == code.url else found


def ensure_fetch_refspec(repo: Repository, remote: Remote) -> bool:
    """Make a plain `git fetch REMOTE` bring session logs too. True if it was added."""
    if not remote.named:
        return False
    proc = repo.git.run("config", "--get-all", f"remote.{remote.name}.fetch", check=False)
    if remote.sessions_refspec in proc.stdout.decode("utf-8", "replace").splitlines():
        return False
    repo.git.run("config", "--add", f"remote.{remote.name}.fetch", remote.sessions_refspec)
    return True


def _on_terminal() -> bool:
    """Long transfers show git's progress on a terminal, and are quiet otherwise."""
    return sys.stderr.isatty()


# Above this many refs in one namespace, a wildcard with exclusions is cheaper for git.
WILDCARD_FROM = 32


def push(repo: Repository, remote: Remote, refs: list[str]) -> list[PushedRef]:
    """Push each of ``refs`` to the same name (never forced) in one transfer.

    git matches every explicit refspec against every ref (1,000 of them cost a second
    of CPU), so where most refs of a namespace go, they are sent as one wildcard minus
    negative refspecs for the rest. A ref created here meanwhile would match the
    wildcard: if that made it new on the remote, it is deleted there right away, so
    a private session never stays. (One the remote already had is not private.)
    """
    wanted = set(refs)
    results = _push(repo, remote, _refspecs(repo, refs))
    strays = [
        r.ref for r in results if r.ok and r.ref not in wanted and r.summary.startswith("[new")
    ]
    if strays:
        _push(repo, remote, [f":{ref}" for ref in strays])
    return [r for r in results if r.ref in wanted]


def _refspecs(repo: Repository, refs: list[str]) -> list[str]:
    by_namespace: dict[str, list[str]] = {}
    for ref in refs:
        by_namespace.setdefault(ref.rsplit("/", 1)[0] + "/", []).append(ref)
    specs = []
    for namespace, members in by_namespace.items():
        if len(members) >= WILDCARD_FROM:
            others = set(repo.ref_targets(namespace)) - {m[len(namespace) :] for m in members}
            if len(others) < len(members):
                specs.append(f"{namespace}*:{namespace}*")
                specs += [f"^{namespace}{name}" for name in sorted(others)]
                continue
        specs += [f"{ref}:{ref}" for ref in members]
    return specs


def _push(repo: Repository, remote: Remote, refspecs: list[str]) -> list[PushedRef]:
    progress = ["--progress"] if _on_terminal() else []
    args = ["push", "--porcelain", *progress, remote.url, *refspecs]
    # Our own pushes do not run gitsess's pre-push work again (it would push the logs twice).
    env = {"GITSESS_IN_PRE_PUSH": "1"}
    proc = repo.git.run(*args, check=False, show_stderr=_on_terminal(), env=env)
    results = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[0]) == 1:
            flag, spec, summary = parts[0], parts[1], parts[2]
            results.append(PushedRef(spec.split(":", 1)[-1], flag != "!", summary))
    if proc.returncode != 0 and not results:
        reason = first_line(proc.stderr.decode("utf-8", "replace")) or "git push failed"
        raise GitsessError(f"push to {remote.url} failed: {reason}")
    return results


def fetch(repo: Repository, remote: Remote, refspecs: list[str]) -> None:
    """Fetch ``refspecs`` in one transfer. With protocol v2 the remote advertises only
    the refs the refspecs name (their prefixes), so fetching one session from a remote
    of 100,000 costs what fetching one ref costs. Raises MissingRemoteRef when a refspec
    without a wildcard names a ref the remote lacks: git then fetches nothing."""
    progress = "--progress" if _on_terminal() else "--quiet"
    args = ["fetch", progress, "--no-write-fetch-head", remote.url, *refspecs]
    proc = repo.git.run(*args, check=False, show_stderr=_on_terminal())
    if proc.returncode != 0:
        reason = first_line(proc.stderr.decode("utf-8", "replace")) or "git fetch failed"
        if reason.startswith("bad object refs/"):  # git stops at any local ref it cannot read
            reason += " (see `gitsess doctor`)"
        if reason.startswith(_NO_REMOTE_REF):
            missing = reason[len(_NO_REMOTE_REF) :].strip()
            raise MissingRemoteRef(f"fetch from {remote.url} failed: {reason}", missing)
        raise GitsessError(f"fetch from {remote.url} failed: {reason}")


_NO_REMOTE_REF = "couldn't find remote ref "


def remote_sessions(repo: Repository, remote: Remote) -> dict[str, str]:
    """{session id: log commit} on the remote, without fetching anything."""
    proc = repo.git.run("ls-remote", "--refs", remote.url, f"{SESSIONS}*", check=False)
    if proc.returncode != 0:
        reason = first_line(proc.stderr.decode("utf-8", "replace")) or "git ls-remote failed"
        raise GitsessError(f"cannot read {remote.url}: {reason}")
    return _session_ids(proc.stdout)


# A remote asked for a hint (never for a transfer the user asked for) gets this long.
PROBE_TIMEOUT = 3.0


def probe_sessions(repo: Repository, url: str, timeout: float = PROBE_TIMEOUT) -> list[str] | None:
    """The session ids on the remote at ``url`` (`git ls-remote`: nothing is fetched), asked
    so that nothing ever waits on a person: no password, passphrase or host-key question
    (no terminal at all: git runs in a session of its own), and at most ``timeout``
    seconds. None when the remote cannot be read that way."""
    env = {
        **repo.git.env,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",  # empty: git asks no askpass program either (not even core.askPass)
        "SSH_ASKPASS": "",
        "SSH_ASKPASS_REQUIRE": "never",
        "GCM_INTERACTIVE": "never",  # Git Credential Manager: no dialog
    }
    if not (env.get("GIT_SSH_COMMAND") or env.get("GIT_SSH") or repo.config("core.sshCommand")):
        seconds = max(1, int(timeout))
        env["GIT_SSH_COMMAND"] = f"ssh -o BatchMode=yes -o ConnectTimeout={seconds}"
    args = ["-c", "credential.interactive=false", "ls-remote", "--refs", url, f"{SESSIONS}*"]
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=repo.root_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end(proc)
        return None
    if proc.returncode != 0:
        return None
    return sorted(_session_ids(out))


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Stop git and whatever it started (ssh, a credential helper): its process group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()


def _session_ids(listing: bytes) -> dict[str, str]:
    """{session id: log commit} of `git ls-remote` output; other refs are left out."""
    found = {}
    for line in listing.decode("utf-8", "replace").splitlines():
        oid, _, ref = line.partition("\t")
        if ref.startswith(SESSIONS) and re.fullmatch(r"[0-9a-z]{10}", ref[len(SESSIONS) :]):
            found[ref[len(SESSIONS) :]] = oid
    return found


def tracked_on(repo: Repository, session_id: str) -> list[str]:
    """The remotes (tracking names) whose copy of the session gitsess has seen: fetched
    from there, or pushed there."""
    rows = repo.refs(f"{TRACKING_ROOT}*/sessions/{session_id}", "%(refname)")
    return sorted(row[len(TRACKING_ROOT) :].split("/sessions/", 1)[0] for row in rows)


def tracked_ids(repo: Repository, remote: Remote) -> set[str]:
    """The sessions whose copy on ``remote`` gitsess has seen (fetched or pushed)."""
    return set(repo.ref_targets(remote.tracking_prefix))


def remote_heads(repo: Repository, remote: Remote) -> set[str]:
    """The branch refs (`refs/heads/...`) the remote has now: one ls-remote (none when it
    cannot be asked)."""
    proc = repo.git.run("ls-remote", "--heads", remote.url, check=False)
    listing = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    return {line.split("\t", 1)[1] for line in listing if "\t" in line}
