"""The user's repository: discovery, refs with compare-and-swap, branches, the work tree."""

from __future__ import annotations

import os
import re
import time

from ..errors import BadInput, GitsessError, NotARepository
from .git import Git, GitFailed, first_line
from .objects import Commit, ObjectReader, ObjectWriter, decode_commit

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from pathlib import Path

# update-ref's words for a compare-and-swap that lost, or a lock another writer holds.
# (Pattern strings, not compiled here: re compiles and caches them on first use, and most
# commands never get there.)
_LOST_RACE = r"(?i)but expected|already exists|unable to create .*\.lock|cannot lock ref"
_UNSAFE_IN_SIGNATURE = r"[<>\n\r\0]"
_LOCK_EXISTS = r"Unable to create '([^']+\.lock)': File exists"
# Git holds a ref's lock for milliseconds: one this old was left by a git process that died.
STALE_LOCK_SECONDS = 10.0


FETCH_HEAD_SEEN = "fetch-head-seen"
# Up to this many refs are looked up by name; more, by listing their namespace once.
EXACT_LOOKUPS = 512


# From this many new refs at once, they are written into packed-refs (storage/packed.py).
PACKED_FROM = 32


class RefMoved(Exception):
    """A compare-and-swap ref update lost: the ref is no longer at the expected value."""


def _lost_race(stderr: str) -> bool:
    """Did update-ref lose to another writer (and is worth retrying)?

    A lock file older than any writer holds one is not a race: a git process killed while
    updating the ref (a crash, kill -9) left it, and retrying would only end in "kept
    changing" much later. Say what it is at once, as git does.
    """
    locked = re.search(_LOCK_EXISTS, stderr)
    if locked:
        try:
            age = time.time() - os.stat(locked.group(1)).st_mtime
        except OSError:
            age = 0.0  # gone already: a live writer's
        if age > STALE_LOCK_SECONDS:
            raise GitsessError(
                f"{locked.group(1)} is left over from a git process that did not finish "
                "(a crash?); if no git process is running, remove it and try again"
            )
    return bool(re.search(_LOST_RACE, stderr))


class Identity:
    __slots__ = ("email", "name")

    def __init__(self, name: str, email: str) -> None:
        self.name, self.email = name, email

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identity):
            return NotImplemented
        return (self.name, self.email) == (other.name, other.email)

    def __hash__(self) -> int:
        return hash((self.name, self.email))

    def signature(self, when: float | None = None) -> str:
        """Git's `Name <email> <seconds> <offset>` form, with unsafe characters removed."""
        seconds = int(time.time() if when is None else when)
        name = re.sub(_UNSAFE_IN_SIGNATURE, "", self.name).strip() or "unknown"
        email = re.sub(_UNSAFE_IN_SIGNATURE, "", self.email).strip()
        return f"{name} <{email}> {seconds} +0000"


class Repository:
    """A non-bare git repository with a work tree."""

    def __init__(self, path: Path | str | None = None) -> None:
        # Paths are kept as strings and handed out as Path on demand: pathlib (with the
        # urllib.parse it imports) costs every command ~3 ms of start-up.
        start = os.fspath(path or os.getcwd())
        if not os.path.isdir(start):
            raise BadInput(f"cannot use {start}: no such directory")
        git = Git(start)
        # One process for everything gitsess needs to know about the repository.
        facts = ["--absolute-git-dir", "--git-common-dir", "--show-object-format"]
        proc = git.run("rev-parse", *facts, "--git-path", "objects", "--show-toplevel", check=False)
        if proc.returncode != 0:
            raise NotARepository(self._why_not_a_work_tree(git, start))
        git_dir, common_dir, algorithm, objects, top = proc.stdout.decode().splitlines()[:5]
        self.root_path = top
        self.git_dir_path = git_dir
        self.common_dir_path = os.path.realpath(os.path.join(start, common_dir))
        self.git = Git(top, git.env)
        self.algorithm = algorithm
        self.oid_length = 32 if algorithm == "sha256" else 20
        self.zero_oid = "0" * (self.oid_length * 2)
        self.reader = ObjectReader(self.git)
        self.writer = ObjectWriter(os.path.realpath(os.path.join(start, objects)), algorithm)
        self._config: dict[str, str] | None = None
        # Set by callers that already know who is writing (a hook, from the commit just made).
        self.assumed_identity: Identity | None = None

    @property
    def root(self) -> Path:
        """The top of the work tree."""
        from pathlib import Path

        return Path(self.root_path)

    @property
    def git_dir(self) -> Path:
        from pathlib import Path

        return Path(self.git_dir_path)

    @property
    def common_dir(self) -> Path:
        """The git directory worktrees share (the git directory itself, without worktrees)."""
        from pathlib import Path

        return Path(self.common_dir_path)

    @staticmethod
    def _why_not_a_work_tree(git: Git, start: str) -> str:
        proc = git.run("rev-parse", "--is-bare-repository", "--absolute-git-dir", check=False)
        if proc.returncode != 0:
            return f"not a git repository: {start}"
        bare, git_dir = proc.stdout.decode().splitlines()[:2]
        if bare == "true":
            return f"{git_dir} is a bare repository; gitsess needs a work tree (run it in a clone)"
        return f"{start} is inside the git directory, not a work tree"

    def close(self) -> None:
        self.reader.close()

    # -- configuration and identity --------------------------------------

    def config(self, key: str) -> str | None:
        if self._config is None:
            proc = self.git.run("config", "-z", "--list", check=False)
            self._config = {}
            for item in proc.stdout.decode("utf-8", "replace").split("\0"):
                name, _, value = item.partition("\n")
                if name:
                    self._config[name.lower()] = value
        return self._config.get(key.lower())

    def config_all(self, key: str) -> list[str]:
        """Every value of a multi-valued key (`git config --get-all`), split on whitespace."""
        proc = self.git.run("config", "--get-all", key, check=False)
        return proc.stdout.decode("utf-8", "replace").split()

    def git_path(self, name: str) -> Path:
        """Where git keeps ``name`` (`hooks` honours core.hooksPath), as an absolute path."""
        from pathlib import Path

        path = Path(self.git.text("rev-parse", "--git-path", name))
        return path if path.is_absolute() else self.root / path

    def is_ignored(self, relative: str) -> bool:
        """Whether git ignores the work-tree path ``relative``."""
        return self.git.ok("check-ignore", "-q", "--", relative)

    def identity(self, role: str = "AUTHOR") -> Identity:
        """Who is writing (``role`` AUTHOR or COMMITTER): git's own rules, never failing."""
        if self.assumed_identity is not None:
            return self.assumed_identity
        name = os.environ.get(f"GIT_{role}_NAME") or self.config("user.name")
        email = os.environ.get(f"GIT_{role}_EMAIL") or self.config("user.email")
        if not name or not email:
            import getpass
            import socket

            name = name or getpass.getuser()
            email = email or f"{getpass.getuser()}@{socket.gethostname()}"
        return Identity(name, email)

    # -- refs ---------------------------------------------------------------

    def resolve(self, rev: str) -> str | None:
        """The commit ``rev`` names, or None."""
        proc = self.git.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}", check=False
        )
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def ref_value(self, ref: str) -> str | None:
        obj = self.reader.read(ref)
        return obj.oid if obj else None

    def refs(self, prefix: str, fields: str = "%(objectname) %(refname)") -> list[str]:
        out = self.git.text("for-each-ref", f"--format={fields}", prefix)
        return out.splitlines() if out else []

    def ref_targets(self, prefix: str) -> dict[str, str]:
        """{name under ``prefix``: object} for every ref under ``prefix``, in one process."""
        pairs = (row.split(" ", 1) for row in self.refs(prefix))
        return {ref[len(prefix) :]: oid for oid, ref in pairs}

    def ref_values(self, refs: list[str], namespace: str) -> dict[str, str]:
        """{ref: object} for those of ``refs`` (all under ``namespace``) that exist, in one
        process. A few are looked up by name (a binary search each in packed-refs), so the
        cost follows what is asked, not how many refs the namespace holds; many, by
        listing the namespace once."""
        if not refs:
            return {}
        wanted = set(refs)
        patterns = sorted(wanted) if len(wanted) <= EXACT_LOOKUPS else [namespace]
        out = self.git.text("for-each-ref", "--format=%(objectname) %(refname)", *patterns)
        pairs = (row.split(" ", 1) for row in out.splitlines())
        # A pattern also matches the refs below it (refs/x/a matches refs/x/a/b): exact only.
        return {ref: oid for oid, ref in pairs if ref in wanted}

    def update_ref(self, ref: str, new: str, old: str | None, message: str) -> None:
        """Compare-and-swap ``ref`` from ``old`` (None: must not exist) to ``new``.

        Raises RefMoved when another writer got there first.
        """
        proc = self.git.run(
            "update-ref",
            "--create-reflog",
            "-m",
            message,
            ref,
            new,
            old or self.zero_oid,
            check=False,
        )
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            if _lost_race(stderr):
                raise RefMoved(ref)
            raise GitFailed(["update-ref", ref], proc.returncode, stderr)

    def delete_ref(self, ref: str, old: str, message: str) -> None:
        proc = self.git.run("update-ref", "-m", message, "-d", ref, old, check=False)
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            if _lost_race(stderr):
                raise RefMoved(ref)
            raise GitFailed(["update-ref", "-d", ref], proc.returncode, stderr)

    def update_refs(self, commands: list[str], message: str, reflog: bool = True) -> bool:
        """Apply `git update-ref --stdin` commands as one all-or-nothing transaction.

        Each command carries its expected old value (``create`` expects none),
        so the transaction is a compare-and-swap of every ref in it. Returns
        False, changing nothing, when any ref had moved.
        """
        if not commands:
            return True
        payload = "".join(c + "\n" for c in commands).encode()
        flags = ["--create-reflog"] if reflog else []
        proc = self.git.run(
            "update-ref", *flags, "-m", message, "--stdin", input=payload, check=False
        )
        if proc.returncode == 0:
            return True
        stderr = proc.stderr.decode("utf-8", "replace")
        if _lost_race(stderr):
            return False
        raise GitFailed(["update-ref", "--stdin"], proc.returncode, stderr)

    def create_refs(self, refs: dict[str, str], message: str) -> bool:
        """Create ``refs`` ({ref: object}, none of which may exist), without reflogs, all
        or none. Many at once go straight into packed-refs (storage/packed.py: one file
        rewritten instead of a file per ref); else, or when that cannot be done safely,
        one update-ref transaction. False, changing nothing, when one already existed."""
        if len(refs) >= PACKED_FROM:
            from . import packed  # only here: the hot paths never create many refs

            if packed.create(self.common_dir_path, refs):
                return True
        commands = [f"create {ref} {oid}" for ref, oid in refs.items()]
        return self.update_refs(commands, message, reflog=False)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.git.ok("merge-base", "--is-ancestor", ancestor, descendant)

    def merge_base(self, a: str, b: str) -> str | None:
        return self.git.text("merge-base", a, b, check=False) or None

    def remotes(self) -> list[str]:
        out = self.git.text("remote")
        return out.splitlines() if out else []

    def state_dir(self) -> Path:
        """Where gitsess keeps its caches: inside the git directory, shared by worktrees."""
        path = self.common_dir / "gitsess"
        path.mkdir(exist_ok=True)
        return path

    def fetch_head_stamp(self) -> str:
        """Identifies the last `git fetch`: FETCH_HEAD's time and size, per git directory."""
        stamps = []
        for folder in sorted({self.git_dir_path, self.common_dir_path}):
            try:
                info = os.stat(os.path.join(folder, "FETCH_HEAD"))
            except OSError:
                continue
            stamps.append(f"{info.st_mtime_ns}:{info.st_size}")
        return ",".join(stamps)

    def fetched_since_seen(self) -> bool:
        """Has a plain `git fetch` run since gitsess last merged what it brought? Two stats,
        on every command, without loading the sharing code."""
        stamp = self.fetch_head_stamp()
        if not stamp:
            return False
        try:
            return (self.state_dir() / FETCH_HEAD_SEEN).read_text() != stamp
        except OSError:
            return True

    def mark_fetch_seen(self, stamp: str) -> None:
        (self.state_dir() / FETCH_HEAD_SEEN).write_text(stamp)

    def reflog(self, ref: str) -> list[tuple[str, str]]:
        """(sha, message) of each reflog entry of ``ref``, newest first."""
        proc = self.git.run("reflog", "show", "--format=%H %gs", ref, "--", check=False)
        if proc.returncode != 0:
            return self._reflog_file(ref)
        rows = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            sha, _, message = line.partition(" ")
            rows.append((sha, message))
        return rows

    def _reflog_file(self, ref: str) -> list[tuple[str, str]]:
        """The reflog read from its file, for when `git reflog` stops at an object that is
        gone (it dies rather than skip it). Files backend only; with reftable, nothing."""
        try:
            text = (self.common_dir / "logs" / ref).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        rows = []
        for line in reversed(text.splitlines()):
            head, _, message = line.partition("\t")
            fields = head.split(" ", 2)
            if len(fields) == 3 and fields[1] != "0" * len(fields[1]):
                rows.append((fields[1], message))
        return rows

    def reflog_values(self, ref: str, limit: int = 100) -> list[str]:
        """The values ``ref`` had, newest first, from its reflog: even values whose objects are
        gone, and even when the ref itself is broken (`git reflog` stops at a missing object)."""
        specs = [f"{ref}@{{{n}}}" for n in range(limit)]
        # rev-parse prints each value it can read and stops at the end of the reflog.
        proc = self.git.run("rev-parse", *specs, check=False)
        values = proc.stdout.decode("utf-8", "replace").split()
        return [v for v in values if re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", v)]

    # -- branches and the work tree ----------------------------------------

    def head_ref(self) -> str | None:
        """The ref HEAD points at (``refs/heads/...``), or None when detached."""
        with open(os.path.join(self.git_dir_path, "HEAD"), errors="replace") as handle:
            head = handle.read().strip()
        # A reftable repository keeps HEAD in the table and "ref: refs/heads/.invalid" here.
        if head.startswith("ref: ") and head != "ref: refs/heads/.invalid":
            return head[5:]
        if re.fullmatch(r"[0-9a-f]{40,64}", head):
            return None
        proc = self.git.run("symbolic-ref", "-q", "HEAD", check=False)  # reftable and friends
        return proc.stdout.decode().strip() or None

    def current_branch(self) -> str | None:
        ref = self.head_ref()
        return ref[len("refs/heads/") :] if ref and ref.startswith("refs/heads/") else None

    def existing_branches(self, branches: list[str]) -> set[str]:
        """Which of ``branches`` exist here: a few in the `cat-file` already running, many
        from one listing of the branches (reading their commits would cost far more)."""
        if len(branches) > EXACT_LOOKUPS:
            listed = self.ref_values([f"refs/heads/{b}" for b in branches], "refs/heads/")
            return {b for b in branches if f"refs/heads/{b}" in listed}
        found = self.reader.read_many([f"refs/heads/{b}" for b in branches])
        return {b for b, obj in zip(branches, found, strict=True) if obj is not None}

    def read_commit(self, rev: str) -> tuple[str, Commit] | None:
        """The commit ``rev`` names, decoded, and its id."""
        obj = self.reader.read(rev)
        if obj is None or obj.kind != "commit":
            return None
        return obj.oid, decode_commit(obj.data)

    def branch_tip(self, branch: str) -> str | None:
        return self.ref_value(f"refs/heads/{branch}")

    def valid_branch_name(self, name: str) -> bool:
        return self.git.ok("check-ref-format", "--branch", name)

    def create_branch(self, branch: str, start: str) -> None:
        try:
            self.update_ref(f"refs/heads/{branch}", start, None, f"gitsess: branch at {start}")
        except RefMoved:
            raise GitsessError(f"branch {branch} already exists") from None

    def switch(self, branch: str, create_at: str | None = None) -> None:
        """Check ``branch`` out, carrying local changes as `git switch` does.

        Refuses, touching nothing, when local changes would be overwritten.
        """
        args = ["switch", "--no-guess", "--quiet"]
        args += ["-c", branch, create_at] if create_at else [branch]
        proc = self.git.run(*args, check=False)
        if proc.returncode != 0:
            reason = first_line(proc.stderr.decode("utf-8", "replace"))
            raise GitsessError(f"cannot check out {branch}: {reason}")

    def point_unborn_head(self, branch: str) -> None:
        """On a repository without commits, make the next commit start ``branch``."""
        self.git.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def copy_branch(self, old: str, new: str) -> str | None:
        """Make branch ``new`` at the tip of ``old`` (compare-and-swap: ``new`` must not
        exist, unless it is already there); the tip, None when ``old`` does not exist.

        The first half of renaming a branch; `retire_branch` is the second. The messages
        name neither branch: the old name is what is being removed.
        """
        tip = self.branch_tip(old)
        if tip is not None and self.branch_tip(new) != tip:
            self.update_ref(f"refs/heads/{new}", tip, None, "gitsess: redact (branch renamed)")
        return tip

    def retire_branch(self, old: str, new: str, tip: str) -> bool:
        """After `copy_branch`: move HEAD (if on ``old``) and ``old``'s settings to ``new``,
        then delete ``old`` (compare-and-swap at ``tip``). False when ``old`` stays: it
        moved meanwhile, or another worktree has it checked out."""
        if self.current_branch() == old:
            self.git.run("symbolic-ref", "-m", "gitsess: redact", "HEAD", f"refs/heads/{new}")
        self.git.run("config", "--rename-section", f"branch.{old}", f"branch.{new}", check=False)
        if old in self._branches_checked_out_elsewhere():
            return False
        try:
            self.delete_ref(f"refs/heads/{old}", tip, "gitsess: redact (branch renamed)")
        except RefMoved:
            return False
        return True

    def _branches_checked_out_elsewhere(self) -> set[str]:
        out = self.git.run("worktree", "list", "--porcelain", check=False).stdout.decode()
        here, found, path = os.path.realpath(self.root), set(), ""
        for line in out.splitlines():
            if line.startswith("worktree "):
                path = os.path.realpath(line[9:])
            elif line.startswith("branch refs/heads/") and path != here:
                found.add(line[18:])
        return found

    def operation_in_progress(self) -> str | None:
        """What git operation is stopped half-way here (a rebase, a merge...), or None.

        A few stats of the files git itself uses; the refs a reftable repository may
        keep in its table are asked of git, in such repositories only.
        """
        found = _operation_from_files(self.git_dir)
        if found is None and (self.config("extensions.refStorage") or "") == "reftable":
            for ref, what in (("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert")):
                if self.git.ok("rev-parse", "--quiet", "--verify", ref):
                    return what
        return found

    def rebasing_branch(self) -> str | None:
        """The branch a stopped rebase is rewriting, or None (no rebase, or a detached one)."""
        for folder in ("rebase-merge", "rebase-apply"):
            try:
                name = (self.git_dir / folder / "head-name").read_text(errors="replace").strip()
            except OSError:
                continue
            return name[len("refs/heads/") :] if name.startswith("refs/heads/") else None
        return None

    def is_shallow(self) -> bool:
        return self.git.text("rev-parse", "--is-shallow-repository", check=False) == "true"

    def head_commit(self) -> str | None:
        return self.resolve("HEAD")

    def local_changes(self) -> list[str]:
        """`git status --porcelain` lines: what is uncommitted in the work tree."""
        out = self.git.text("status", "--porcelain", "--untracked-files=normal")
        return out.splitlines() if out else []


# (file or folder in the git directory, what git is doing), in git's own order of checks.
_IN_PROGRESS = (
    ("rebase-merge", "rebase"),
    ("rebase-apply/applying", "git am"),
    ("rebase-apply", "rebase"),
    ("MERGE_HEAD", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
    ("BISECT_LOG", "bisect"),
)


def _operation_from_files(git_dir: Path) -> str | None:
    for name, what in _IN_PROGRESS:
        if os.path.lexists(git_dir / name):
            return what
    return None
