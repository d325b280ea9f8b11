"""The trash: deleted logs and the histories `redact` replaced, out of every push's reach.

Any ref in the repository is sent by `git push --mirror` (or `refs/*:refs/*`), with every
object it reaches: a pre-redaction history still holds its secrets, a deleted log its
private conversation. So what the trash keeps lives in a repository of its own, a bare
one at ``<git common dir>/gitsess/trash.git``: its objects are copied there (one pack),
and a ref there, ``refs/<kind>/<session id>/<time>``, keeps them from its `git gc`. The
user's repository then has no ref reaching them, and its own `git gc` may prune them.

Kinds: ``deleted`` (`delete`), ``redacted`` (the history `redact` replaced), ``kept``
(anything else, such as doctor's incomplete commits). Each ref's reflog message is the
reason, as the old store's was ("delete <id> <title>").

Earlier versions kept all this in the reflog of ``refs/gitsess/trash`` in the repository
itself. That ref is moved here (and deleted) by the first command that writes to the
trash, and by `doctor --fix`; until then its entries are read as well.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from contextlib import suppress

from ..errors import Conflict, GitsessError
from .git import Git, first_line
from .objects import ObjectReader
from .repo import RefMoved, Repository

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from collections.abc import Iterable

OLD_TRASH_REF = "refs/gitsess/trash"
FOLDER = "trash.git"
KINDS = {"delete": "deleted", "redact": "redacted"}
OTHER_KIND = "kept"
PREFIXES = ("refs/deleted/", "refs/redacted/", "refs/kept/")
# Git's variables that point a git process at a repository (`git rev-parse
# --local-env-vars`, plus the config ones it names by pattern): a hook runs gitsess with
# GIT_DIR set to the user's repository, and the trash's git must not follow it there.
_LOCAL_ENV = re.compile(
    r"GIT_(ALTERNATE_OBJECT_DIRECTORIES|CONFIG|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+"
    r"|CONFIG_VALUE_\d+|OBJECT_DIRECTORY|DIR|WORK_TREE|IMPLICIT_WORK_TREE|GRAFT_FILE"
    r"|INDEX_FILE|NO_REPLACE_OBJECTS|REPLACE_REF_BASE|PREFIX|INTERNAL_SUPER_PREFIX"
    r"|SHALLOW_FILE|COMMON_DIR|NAMESPACE|QUARANTINE_PATH)"
)
_SAFE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class Kept:
    """One log the trash keeps: why (its kind), for which session, since when, and its title."""

    __slots__ = ("kind", "oid", "ref", "session_id", "stamp", "title")

    def __init__(self, kind: str, session_id: str, oid: str, ref: str, stamp: str) -> None:
        self.kind, self.session_id, self.oid, self.ref, self.stamp = (
            kind,
            session_id,
            oid,
            ref,
            stamp,
        )
        self.title = ""


def stamp(seconds: float, sequence: int | None = None) -> str:
    """A ref-name-safe UTC time that sorts as it reads: 20261201T161500.123456Z."""
    whole = int(seconds)
    fraction = int((seconds - whole) * 1_000_000) if sequence is None else sequence % 1_000_000
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(whole)) + f".{fraction:06d}Z"


def ref_for(message: str, when: str) -> tuple[str, str, str]:
    """(kind, session id, ref) for a reason such as "delete <id> <title>"."""
    words = message.split(" ", 2)
    kind = KINDS.get(words[0], OTHER_KIND)
    session_id = words[1].rstrip(":") if len(words) > 1 else ""
    if not _SAFE_ID.fullmatch(session_id):
        session_id = "unknown"
    return kind, session_id, f"refs/{kind}/{session_id}/{when}"


class Trash:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.path = os.path.join(repo.common_dir_path, "gitsess", FOLDER)
        env = {k: v for k, v in repo.git.env.items() if not _LOCAL_ENV.fullmatch(k)}
        env["GIT_DIR"] = self.path
        self.git = Git(self.path, env)

    # -- reading ------------------------------------------------------------------

    def exists(self) -> bool:
        return os.path.isfile(os.path.join(self.path, "HEAD"))

    def entries(self, titles: bool = True) -> list[Kept]:
        """What the trash keeps, newest first (titles from each log's session.json)."""
        if not self.exists():
            return []
        out = self.git.text("for-each-ref", "--format=%(objectname) %(refname)", *PREFIXES)
        found = []
        for line in out.splitlines():
            oid, _, ref = line.partition(" ")
            parts = ref.split("/")
            if len(parts) == 4:
                found.append(Kept(parts[1], parts[2], oid, ref, parts[3]))
        found.sort(key=lambda k: k.stamp, reverse=True)
        if titles and found:
            reader = ObjectReader(self.git)
            blobs = reader.read_many([f"{k.oid}:session.json" for k in found], failed={})
            for kept, blob in zip(found, blobs, strict=True):
                kept.title = _title(blob.data) if blob else ""
        return found

    def missing(self) -> tuple[int, int]:
        """(how many kept log commits are gone from the trash, how many it names)."""
        found = self.entries(titles=False)
        objects = ObjectReader(self.git).read_many([k.oid for k in found], failed={})
        return sum(1 for obj in objects if obj is None), len(found)

    def old_entries(self) -> list[tuple[str, str]]:
        """(log commit, reason) of the old store's reflog (refs/gitsess/trash), newest first."""
        if self.repo.ref_value(OLD_TRASH_REF) is None and not os.path.exists(
            self._old_reflog_path()
        ):
            return []
        return self.repo.reflog(OLD_TRASH_REF)

    # -- writing ------------------------------------------------------------------

    def keep(self, oid: str, message: str) -> str:
        """Copy the log commit ``oid`` and its history into the trash; the trash ref made.

        Raises GitsessError when it cannot be copied: the caller then changes nothing.
        """
        # The old store's move may fail (its objects damaged): that must not stop this keep;
        # the old ref then stays, and `gitsess doctor` names it.
        with suppress(GitsessError):
            self.migrate()
        self._create()
        self._copy([oid])
        for attempt in range(100):
            _, _, ref = ref_for(message, stamp(time.time()))
            try:
                self._update_refs([f"create {ref} {oid}"], message)
            except RefMoved:  # the same session kept in the same microsecond
                time.sleep(0.001 * (attempt + 1))
                continue
            self._maintain()
            return ref
        raise Conflict("the trash kept changing; nothing was changed")

    def keep_many(self, logs: list[tuple[str, str]]) -> None:
        """keep() for many (log commit, reason) pairs at once: one copy, one ref transaction
        (`prune` of thousands of sessions is then a few git processes, not thousands)."""
        if not logs:
            return
        with suppress(GitsessError):
            self.migrate()
        self._create()
        self._copy([oid for oid, _ in logs])
        for attempt in range(100):
            when = stamp(time.time())
            commands = [f"create {ref_for(why, when)[2]} {oid}" for oid, why in logs]
            try:
                self._update_refs(commands, f"{logs[0][1].split(' ', 1)[0]}: {len(logs)} logs")
            except RefMoved:
                time.sleep(0.001 * (attempt + 1))
                continue
            self._maintain()
            return
        raise Conflict("the trash kept changing; nothing was changed")

    def bring_back(self, oid: str) -> None:
        """Copy the kept log commit ``oid`` and its history back into the repository (no
        ref is set: the caller's compare-and-swap create does that)."""
        self._copy([oid], back=True)

    def migrate(self) -> tuple[int, int] | None:
        """Move the old store (refs/gitsess/trash and its reflog) into the trash.

        Returns None when there is nothing to move, else (logs moved, logs skipped because
        their objects are gone here). The old ref is deleted (compare-and-swap) only when
        every log it still reaches was copied.
        """
        value = self.repo.ref_value(OLD_TRASH_REF)
        if value is None and not os.path.exists(self._old_reflog_path()):
            return None  # the usual case, at the cost of one stat
        rows = self._old_reflog()
        if value is None and not rows:
            return None
        present = {
            obj.oid
            for obj in self.repo.reader.read_many(sorted({oid for oid, _, _ in rows}), failed={})
            if obj is not None and obj.kind == "commit"
        }
        kept = [(oid, when, message) for oid, when, message in rows if oid in present]
        self._create()
        if kept:
            self._copy(sorted({oid for oid, _, _ in kept}))
            # Oldest first, each its own name: reflog times have whole seconds only.
            commands = []
            for number, (oid, when, message) in enumerate(reversed(kept)):
                _, _, ref = ref_for(message, stamp(when, number))
                commands.append(f"create {ref} {oid}")
            self._update_refs(commands, f"gitsess: moved from {OLD_TRASH_REF}")
        if value is not None:
            # If an older gitsess added to it meanwhile, the next writer moves that.
            with suppress(RefMoved):
                self.repo.delete_ref(OLD_TRASH_REF, value, "gitsess: moved to the trash")
        else:  # a reflog whose ref is gone: git may skip it; remove the file
            with suppress(OSError):
                os.unlink(self._old_reflog_path())
        return len(kept), len(rows) - len(kept)

    # -- internals ----------------------------------------------------------------

    def _old_reflog_path(self) -> str:
        return os.path.join(self.repo.common_dir_path, "logs", OLD_TRASH_REF)

    def _old_reflog(self) -> list[tuple[str, float, str]]:
        """(log commit, unix time, reason) of each old reflog entry, newest first."""
        try:
            with open(self._old_reflog_path(), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            return self._old_reflog_from_git()
        rows = []
        for line in reversed(text.splitlines()):
            head, _, message = line.partition("\t")
            fields = head.split(" ")
            if len(fields) >= 4 and fields[1].strip("0") and fields[-2].isdigit():
                rows.append((fields[1], float(fields[-2]), message))
        return rows

    def _old_reflog_from_git(self) -> list[tuple[str, float, str]]:
        """The same through git, for ref stores without reflog files (reftable)."""
        proc = self.repo.git.run(
            "reflog", "show", "--date=unix", "--format=%H %gd %gs", OLD_TRASH_REF, "--", check=False
        )
        rows = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            match = re.match(r"([0-9a-f]{40,64}) \S*@\{(\d+)\} (.*)", line)
            if match:
                rows.append((match.group(1), float(match.group(2)), match.group(3)))
        return rows

    def _create(self) -> None:
        """Make the trash repository, configured before it appears under its name."""
        if self.exists():
            return
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{FOLDER}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        env = {k: v for k, v in self.git.env.items() if k != "GIT_DIR"}
        init = Git(folder, env)
        # No templates: no sample hooks, nothing from the user's init.templateDir.
        init.run(
            "init", "--quiet", "--bare", "--template=", "--object-format", self.repo.algorithm, tmp
        )
        setup = Git(tmp, {**env, "GIT_DIR": tmp})
        # Hooks never run here, not even from a global core.hooksPath; reflogs are kept.
        for key, value in (("core.hooksPath", "no-hooks"), ("core.logAllRefUpdates", "always")):
            setup.run("config", key, value)
        try:
            os.rename(tmp, self.path)
        except OSError:  # another gitsess made it meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
            if not self.exists():
                raise

    def _copy(self, oids: Iterable[str], back: bool = False) -> None:
        """Copy the log commits ``oids`` and every object they reach into the trash (or,
        ``back``, from the trash into the repository).

        Loose objects (most of a log's, until a `git gc`) are hard-linked: free, and a
        file git never changes. Packed ones (and any link the file system refuses) go as
        one pack, whose deltas git reuses. Recompressing a long log's loose history
        instead cost seconds of CPU (300 appends: 1.8 s). Objects already missing are
        skipped: doctor keeps incomplete commits too.
        """
        here = (self.repo.git, self.repo.writer.objects_dir)
        there = (self.git, os.path.join(self.path, "objects"))
        (source, source_dir), (target, target_dir) = (there, here) if back else (here, there)
        listing = source.run("rev-list", "--objects", "--missing=allow-any", *oids, "--")
        lines = listing.stdout.decode().splitlines()
        wanted = [line.partition(" ")[0] for line in lines if line]
        to_pack = [oid for oid in wanted if not _link(oid, source_dir, target_dir)]
        if to_pack:  # what the target has packed already need not travel again
            to_pack = self._missing(target, to_pack)
        if to_pack:
            self._pack(to_pack, source, target)

    @staticmethod
    def _missing(target: Git, oids: list[str]) -> list[str]:
        """Which of ``oids`` the repository of ``target`` lacks (one `cat-file`)."""
        payload = "".join(f"{oid}\n" for oid in oids).encode()
        proc = target.run("cat-file", "--batch-check=%(objectname)", input=payload, check=False)
        lines = proc.stdout.decode().splitlines()
        return [oid for oid, line in zip(oids, lines, strict=False) if line.endswith(" missing")]

    def _pack(self, oids: list[str], source: Git, target: Git) -> None:
        """Copy ``oids`` as one pack: `git pack-objects | git index-pack`."""
        packer = subprocess.Popen(
            ["git", "pack-objects", "--stdout", "-q"],
            cwd=source.cwd,
            env=source.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert packer.stdin and packer.stdout and packer.stderr
        indexer = subprocess.Popen(
            ["git", "index-pack", "--stdin"],
            cwd=target.cwd,
            env=target.env,
            stdin=packer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        packer.stdout.close()  # the indexer holds it now
        packer.stdin.write("".join(f"{oid}\n" for oid in oids).encode())
        packer.stdin.close()
        packer_err = packer.stderr.read()
        _, indexer_err = indexer.communicate()
        if packer.wait() != 0 or indexer.returncode != 0:
            why = first_line(packer_err.decode("utf-8", "replace")) or first_line(
                indexer_err.decode("utf-8", "replace")
            )
            raise GitsessError(f"could not copy a log to or from the trash ({self.path}): {why}")

    def _update_refs(self, commands: list[str], message: str) -> None:
        payload = "".join(c + "\n" for c in commands).encode()
        proc = self.git.run(
            "update-ref", "--create-reflog", "-m", message, "--stdin", input=payload, check=False
        )
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            if "already exists" in stderr or "cannot lock ref" in stderr:
                raise RefMoved(commands[0])
            raise GitsessError(f"could not write the trash ({self.path}): {first_line(stderr)}")

    def _maintain(self) -> None:
        """Each keep adds a pack; git's own threshold decides when to pack them together."""
        self.git.run("gc", "--auto", "--quiet", check=False)


def _link(oid: str, source_dir: str, target_dir: str) -> bool:
    """Hard-link the loose object ``oid``; False when it must go in a pack instead."""
    source = os.path.join(source_dir, oid[:2], oid[2:])
    folder = os.path.join(target_dir, oid[:2])
    if os.path.exists(os.path.join(folder, oid[2:])):
        return True
    try:
        if not os.stat(source).st_size:  # what a crash leaves: let git say so
            return False
        os.makedirs(folder, exist_ok=True)
        os.link(source, os.path.join(folder, oid[2:]))
    except FileExistsError:
        return True
    except OSError:  # packed, another file system, or links not allowed
        return False
    return True


def _title(data: bytes) -> str:
    import json

    try:
        meta = json.loads(data)
    except ValueError:
        return ""
    title = meta.get("title") if isinstance(meta, dict) else None
    return title if isinstance(title, str) else ""
