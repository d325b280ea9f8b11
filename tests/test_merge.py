"""docs/format.md section 6 as pure functions, checked by properties (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitsess.merge import canonical, merge_logs, merge_meta

Entry = dict[str, Any]

timestamps = st.integers(min_value=0, max_value=50).map(lambda s: f"2026-11-25T10:00:{s:02d}Z")


@st.composite
def divergent(draw: st.DrawFn) -> tuple[list[Entry], list[Entry], list[Entry]]:
    """A base log and two sides that each append, and may change some base entries."""
    ids = draw(st.lists(st.text("abcdefghij", min_size=1, max_size=4), unique=True, max_size=24))
    split = sorted(draw(st.lists(st.integers(0, len(ids)), min_size=2, max_size=2)))

    def make(entry_id: str) -> Entry:
        return {
            "id": entry_id,
            "ts": draw(timestamps),
            "type": "event",
            "name": "n",
            "data": draw(st.integers(0, 3)),
        }

    base = [make(i) for i in ids[: split[0]]]
    ours_new = [make(i) for i in ids[split[0] : split[1]]]
    theirs_new = [make(i) for i in ids[split[1] :]]
    # Both sides may also add the same entry (as after an earlier exchange).
    shared = (
        [dict(e) for e in draw(st.lists(st.sampled_from(ours_new), max_size=2, unique_by=id))]
        if ours_new
        else []
    )

    def edit(entries: list[Entry]) -> list[Entry]:
        out = []
        for entry in entries:
            if draw(st.booleans()) and draw(st.booleans()):
                entry = {**entry, "data": draw(st.integers(4, 6)), "ts": draw(timestamps)}
            out.append(entry)
        return out

    ours = edit(base) + ours_new
    theirs = edit(base) + [e for e in shared if e not in theirs_new] + theirs_new
    return base, ours, theirs


def ids(entries: list[Entry]) -> list[str]:
    return [e["id"] for e in entries]


@settings(max_examples=300, deadline=None)
@given(divergent())
def test_merge_is_commutative(case: tuple[list[Entry], list[Entry], list[Entry]]) -> None:
    base, ours, theirs = case
    assert canonical(merge_logs(base, ours, theirs)) == canonical(merge_logs(base, theirs, ours))


@settings(max_examples=300, deadline=None)
@given(divergent())
def test_merge_is_idempotent(case: tuple[list[Entry], list[Entry], list[Entry]]) -> None:
    base, ours, theirs = case
    merged = merge_logs(base, ours, theirs)
    assert merge_logs(base, merged, merged) == merged
    assert merge_logs(base, ours, ours) == ours
    # Merging the result again with either side changes nothing: fetching twice is a no-op.
    assert merge_logs(ours, merged, ours) == merged
    assert merge_logs(theirs, merged, theirs) == merged


@settings(max_examples=300, deadline=None)
@given(divergent())
def test_merge_keeps_every_id_once_and_the_base_order(
    case: tuple[list[Entry], list[Entry], list[Entry]],
) -> None:
    base, ours, theirs = case
    merged = merge_logs(base, ours, theirs)
    assert sorted(ids(merged)) == sorted(set(ids(base) + ids(ours) + ids(theirs)))
    assert ids(merged)[: len(base)] == ids(base)
    if merged in (ours, theirs):
        return  # one side held everything: its order stands (a fast-forward in content)
    agreed = 0
    while agreed < min(len(ours), len(theirs)) and ours[agreed] == theirs[agreed]:
        agreed += 1
    tail = merged[max(agreed, len(base)) :]
    assert [(e["ts"], e["id"]) for e in tail] == sorted((e["ts"], e["id"]) for e in tail)


def test_one_sided_change_of_a_base_entry_wins_without_conflict() -> None:
    base = [
        {
            "id": "a",
            "ts": "2026-01-01T00:00:00Z",
            "type": "message",
            "role": "user",
            "content": "key=SECRET",
        }
    ]
    redacted = [{**base[0], "content": "key=[REDACTED]"}]
    assert merge_logs(base, base, redacted) == redacted
    assert merge_logs(base, redacted, base) == redacted


def test_conflicting_versions_keep_the_loser_in_meta_conflicts() -> None:
    early = {"id": "a", "ts": "2026-01-01T00:00:00Z", "type": "event", "name": "x", "data": 1}
    late = {"id": "a", "ts": "2026-01-02T00:00:00Z", "type": "event", "name": "x", "data": 2}
    merged = merge_logs([], [early], [late])
    assert len(merged) == 1 and merged[0]["data"] == 2
    assert merged[0]["meta"]["conflicts"] == [early]
    assert merge_logs([], [late], [early]) == merged
    # Stable: merging again with the losing side records nothing new.
    assert merge_logs([], merged, [early]) == merged


def test_meta_takes_the_later_side_and_unions_tags() -> None:
    ours = {"id": "s", "title": "Old", "updated": "2026-01-01T00:00:00Z", "tags": ["a"], "x": 1}
    theirs = {"id": "s", "title": "New", "updated": "2026-01-02T00:00:00Z", "tags": ["b"]}
    merged = merge_meta(ours, theirs)
    assert merged["title"] == "New" and merged["x"] == 1
    assert sorted(merged["tags"]) == ["a", "b"]
    assert merge_meta(theirs, ours) == merged


def test_meta_a_rename_wins_over_later_appends_on_the_other_side() -> None:
    # Renamed on one side (a metadata change: `changed` moves, `updated` does not), while
    # the other side appended entries before the rename: the new title wins, and the
    # merged activity time is the later append.
    base = {"id": "s", "title": "Old", "updated": "2026-01-01T00:00:00Z"}
    renamed = {**base, "title": "New", "changed": "2026-01-03T00:00:00Z"}
    appended = {**base, "updated": "2026-01-02T00:00:00Z"}
    merged = merge_meta(renamed, appended)
    assert merged == merge_meta(appended, renamed)
    assert merged["title"] == "New"
    assert merged["updated"] == "2026-01-02T00:00:00Z"
    assert merged["changed"] == "2026-01-03T00:00:00Z"
    # Logs written before `changed` existed merge as before: by `updated` alone.
    older = {**base, "title": "Older", "updated": "2026-01-04T00:00:00Z"}
    assert merge_meta(older, renamed)["title"] == "Older"
