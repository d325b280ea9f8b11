"""What gitsess has already merged of each tracking ref, and which blobs scanned clean.

Both are caches in the git directory's `gitsess/` folder, written by appending so that
pushing or fetching one session costs the same with 100,000 sessions as with ten:

- ``tracking-seen``: one ``<log commit> <tracking ref>`` line per merge or push, the
  later line winning; the format of `git for-each-ref`, so that what a plain `git fetch`
  changed is a set difference. It replaces ``tracking-seen.json`` (one JSON object
  rewritten whole every time), which is still read when it is the only one there.
- ``clean-blobs``: the ids of log blobs the secret scan found nothing in, one a line.

Losing either only costs work: a ref merged again (a no-op), a blob scanned again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

SEEN_FILE = "tracking-seen"
OLD_SEEN_FILE = "tracking-seen.json"
CLEAN_BLOBS_FILE = "clean-blobs"
# Below this many ids, a membership test searches the file's bytes rather than building
# a set of every id in it (300,000 of them at 100,000 sessions).
FEW_IDS = 64


def read_seen(state_dir: Path) -> dict[str, str]:
    """{tracking ref: log commit} as last merged or pushed; compacts a long journal."""
    path = state_dir / SEEN_FILE
    try:
        data = path.read_bytes()
    except OSError:
        return _read_old(state_dir)
    seen: dict[str, str] = {}
    lines = data.decode("utf-8", "replace").splitlines()
    for line in lines:
        oid, _, ref = line.partition(" ")
        if ref:
            seen[ref] = oid
    if len(lines) > 2 * len(seen) + 1024:  # mostly superseded lines: write it afresh
        _write(path, seen)
    return seen


def record_seen(state_dir: Path, refs: dict[str, str]) -> None:
    """Remember ``refs`` ({tracking ref: log commit}) as merged or pushed: one append."""
    if not refs:
        return
    path = state_dir / SEEN_FILE
    if not path.exists() and (state_dir / OLD_SEEN_FILE).exists():
        _write(path, {**_read_old(state_dir), **refs})  # from the old JSON file, once
        (state_dir / OLD_SEEN_FILE).unlink(missing_ok=True)
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(_lines(refs))


def _read_old(state_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((state_dir / OLD_SEEN_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _lines(refs: dict[str, str]) -> str:
    return "".join(f"{oid} {ref}\n" for ref, oid in refs.items())


def _write(path: Path, refs: dict[str, str]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(_lines(refs), encoding="utf-8")
    os.replace(tmp, path)  # a lost race only costs a recomputation next time


def clean_among(state_dir: Path, oids: Iterable[str]) -> set[str]:
    """Those of ``oids`` that an earlier scan found clean."""
    wanted = list(oids)
    try:
        data = (state_dir / CLEAN_BLOBS_FILE).read_bytes()
    except OSError:
        return set()
    if len(wanted) <= FEW_IDS:
        data = b"\n" + data
        return {oid for oid in wanted if b"\n" + oid.encode() + b"\n" in data}
    return set(data.decode("ascii", "replace").split()) & set(wanted)


def add_clean(state_dir: Path, oids: Iterable[str]) -> None:
    text = "".join(oid + "\n" for oid in oids)
    if text:
        with open(state_dir / CLEAN_BLOBS_FILE, "a") as handle:
            handle.write(text)
