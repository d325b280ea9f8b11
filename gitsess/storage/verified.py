"""The log commits `doctor` found sound: a cache in the state folder, so a later run reads
only the logs that changed since.

A log commit id names its content forever, so a verdict on (session id, log commit) stays
true for as long as the checks stay the same: the file's first line names the version of
the checks, and a file from other checks, or one that cannot be read, is ignored (the
logs are all checked again and the file rewritten). What it cannot know is whether an
object was lost from disk since; `doctor --full` checks every log again.
"""

from __future__ import annotations

import os

from .repo import Repository

FILE = "doctor-verified"


class VerifiedLogs:
    def __init__(self, repo: Repository, checks: str, ignore: bool = False) -> None:
        self.folder = os.path.join(repo.common_dir_path, "gitsess")
        self.path = os.path.join(self.folder, FILE)
        self.header = f"gitsess doctor verified {checks}"
        self.pairs: set[tuple[str, str]] = set()
        self.changed = ignore  # ignoring the file: rewritten with what this run found
        if ignore:
            return
        try:
            with open(self.path, encoding="ascii") as handle:
                lines = handle.read().splitlines()
        except (OSError, ValueError):
            return
        if not lines or lines[0] != self.header:
            return
        for line in lines[1:]:
            session_id, _, oid = line.partition(" ")
            if session_id and oid:
                self.pairs.add((session_id, oid))

    def __contains__(self, pair: tuple[str, str]) -> bool:
        return pair in self.pairs

    def add(self, session_id: str, oid: str) -> None:
        if (session_id, oid) not in self.pairs:
            self.pairs.add((session_id, oid))
            self.changed = True

    def discard(self, session_id: str, oid: str) -> None:
        if (session_id, oid) in self.pairs:
            self.pairs.discard((session_id, oid))
            self.changed = True

    def save(self, keep: set[tuple[str, str]]) -> None:
        """Write the verdicts on the logs in ``keep`` (those there now), if anything changed."""
        kept = self.pairs & keep
        if not self.changed and kept == self.pairs:
            return
        text = self.header + "\n" + "".join(f"{sid} {oid}\n" for sid, oid in sorted(kept))
        tmp = os.path.join(self.folder, f"{FILE}.{os.getpid()}.tmp")
        try:
            os.makedirs(self.folder, exist_ok=True)
            with open(tmp, "w", encoding="ascii") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except OSError:  # a read-only repository is checked all the same, every time
            if os.path.exists(tmp):
                os.unlink(tmp)
