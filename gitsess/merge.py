"""Merging two divergent copies of one session (docs/format.md section 6), as pure functions.

The merged log is the part both sides agree on, in its order, then the
merge base's other entries in the base's order, then every entry that only
one side (or both) added, ordered by (`ts`, `id`); but when one side already
holds every merged entry (it is a merge result itself), its order stands. An entry both sides
changed differently is kept once: the later `ts` wins and the other version
goes into the winner's `meta.conflicts`. Every choice is symmetric, so
whichever clone merges, the result is the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Entry = dict[str, Any]
Meta = dict[str, Any]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_key(entry: Entry) -> str:
    entry_id = entry.get("id")
    return entry_id if isinstance(entry_id, str) else "raw:" + canonical(entry)


def merge_logs(
    base: Sequence[Entry], ours: Sequence[Entry], theirs: Sequence[Entry]
) -> list[Entry]:
    """The merged log of ``ours`` and ``theirs``, whose merge base holds ``base``."""
    base_map = _by_key(base)
    ours_map = _by_key(ours)
    theirs_map = _by_key(theirs)
    order: list[str] = []
    seen: set[str] = set()
    for a, b in zip(ours, theirs, strict=False):  # the agreed prefix keeps its order
        if canonical(a) != canonical(b):
            break
        _take(entry_key(a), order, seen)
    for entry in base:
        _take(entry_key(entry), order, seen)
    rest = [k for k in {**ours_map, **theirs_map} if k not in seen]
    resolved = {k: _resolve(base_map.get(k), ours_map.get(k), theirs_map.get(k)) for k in order}
    added = {k: _resolve(None, ours_map.get(k), theirs_map.get(k)) for k in rest}
    # A side that already holds the merged version of every entry is the merge: keeping its
    # order means a log merged once is never reordered by a later exchange.
    merged = {**resolved, **added}
    for side in sorted((ours, theirs), key=canonical):
        if _holds(side, merged):
            return list(side)
    tail = sorted(added, key=lambda k: (str(added[k].get("ts", "")), k))
    return [resolved[k] for k in order] + [added[k] for k in tail]


def fold_duplicates(entries: Sequence[Entry]) -> tuple[list[Entry], int, int]:
    """One entry per id, where a log holds an id more than once (written by another tool).

    Identical copies are dropped; differing ones are kept as a merge keeps them: the later
    `ts` wins and the other versions go into its `meta.conflicts`. Each id stays where it
    first appears. Returns the entries, and how many copies were dropped and folded.
    """
    kept: list[Entry] = []
    where: dict[str, int] = {}
    dropped = folded = 0
    for entry in entries:
        entry_id = entry.get("id")
        if not isinstance(entry_id, str):
            kept.append(entry)
            continue
        if entry_id not in where:
            where[entry_id] = len(kept)
            kept.append(entry)
            continue
        first = kept[where[entry_id]]
        if canonical(_without_conflicts(first)) == canonical(_without_conflicts(entry)):
            dropped += 1
            continue
        folded += 1
        kept[where[entry_id]] = _resolve(None, first, entry)
    return kept, dropped, folded


def merge_meta(ours: Meta, theirs: Meta) -> Meta:
    """Each field from the side changed later; `tags` is the union.

    A side's time is the later of `updated` (conversation activity) and `changed` (a
    rename, archive, ...; logs written before `changed` existed have only `updated`), so
    a rename on one side wins over mere appends on the other. The merged `updated` and
    `changed` are each the later of the two sides': the merge holds both sides' entries.
    """
    winner, loser = (ours, theirs) if _meta_rank(ours) >= _meta_rank(theirs) else (theirs, ours)
    merged = {**winner, **{k: v for k, v in loser.items() if k not in winner}}
    tags = [t for t in _tags(winner) if isinstance(t, str)]
    tags += [t for t in _tags(loser) if isinstance(t, str) and t not in tags]
    if "tags" in merged or tags:
        merged["tags"] = tags
    for key in ("updated", "changed"):
        times = [m[key] for m in (ours, theirs) if isinstance(m.get(key), str)]
        if times:
            merged[key] = max(times)
    return merged


def _tags(meta: Meta) -> list[Any]:
    tags = meta.get("tags")
    return tags if isinstance(tags, list) else []  # not a string's characters, nor a number


def _meta_rank(meta: Meta) -> tuple[str, str]:
    changed = meta.get("changed")
    latest = max(str(meta.get("updated", "")), changed if isinstance(changed, str) else "")
    return latest, canonical(meta)


def _by_key(entries: Sequence[Entry]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for entry in entries:
        key = entry_key(entry)
        other = found.setdefault(key, entry)
        if other is not entry and canonical(other) != canonical(entry):
            # One side repeats an id (a damaged log): keep both versions, as for a conflict.
            found[key] = _resolve(None, other, entry)
    return found


def _holds(side: Sequence[Entry], merged: dict[str, Entry]) -> bool:
    if len(side) != len(merged):
        return False
    keys = [entry_key(e) for e in side]
    if len(set(keys)) != len(keys):
        return False  # a side that repeats an id is not a merge result
    return all(canonical(merged.get(k)) == canonical(e) for k, e in zip(keys, side, strict=True))


def _take(key: str, order: list[str], seen: set[str]) -> None:
    if key not in seen:
        seen.add(key)
        order.append(key)


def _resolve(base: Entry | None, ours: Entry | None, theirs: Entry | None) -> Entry:
    """One entry's merged version: the changed side if only one changed, else the later."""
    if ours is None or theirs is None:
        # `is not None`, not `or`: an empty object (a stored "{}" line) is an entry too.
        found = ours if ours is not None else theirs if theirs is not None else base
        assert found is not None
        return found
    if canonical(ours) == canonical(theirs):
        return ours
    if base is not None:
        if canonical(ours) == canonical(base):
            return theirs
        if canonical(theirs) == canonical(base):
            return ours
    winner, loser = (ours, theirs) if _rank(ours) >= _rank(theirs) else (theirs, ours)
    return _with_conflict(winner, loser)


def _rank(entry: Entry) -> tuple[str, str]:
    """Later `ts` wins; the version itself (without recorded conflicts) breaks ties."""
    return str(entry.get("ts", "")), canonical(_without_conflicts(entry))


def _without_conflicts(entry: Entry) -> Entry:
    meta = entry.get("meta")
    if not isinstance(meta, dict) or "conflicts" not in meta:
        return entry
    rest = {k: v for k, v in meta.items() if k != "conflicts"}
    stripped = {k: v for k, v in entry.items() if k != "meta"}
    if rest:
        stripped["meta"] = rest
    return stripped


def _conflicts(entry: Entry) -> list[Any]:
    meta = entry.get("meta")
    found = meta.get("conflicts") if isinstance(meta, dict) else None
    return list(found) if isinstance(found, list) else []


def _with_conflict(winner: Entry, loser: Entry) -> Entry:
    versions = _conflicts(winner) + _conflicts(loser) + [_without_conflicts(loser)]
    unique = {
        canonical(v): v for v in versions if canonical(v) != canonical(_without_conflicts(winner))
    }
    meta = winner.get("meta")
    merged_meta = dict(meta) if isinstance(meta, dict) else {}
    merged_meta["conflicts"] = [unique[k] for k in sorted(unique)]
    return {**winner, "meta": merged_meta}
