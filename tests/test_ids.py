"""Ids and timestamps: the forms every entry is stored in."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsess.ids import ENTRY_ID_RE, SESSION_ID_RE, new_entry_id, new_session_id, normalize_ts


def test_new_ids_are_valid_and_distinct() -> None:
    entry_ids = {new_entry_id() for _ in range(2000)}
    assert len(entry_ids) == 2000 and all(ENTRY_ID_RE.match(i) for i in entry_ids)
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{16}", i) for i in entry_ids)
    assert all(SESSION_ID_RE.match(new_session_id()) for _ in range(200))


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2025-01-01T00:00:03.000Z", "2025-01-01T00:00:03.000Z"),
        ("2025-01-01t00:00:03z", "2025-01-01T00:00:03Z"),
        ("2025-01-01 00:00:03Z", "2025-01-01T00:00:03Z"),
        ("2025-01-01T00:00:03+02:00", "2024-12-31T22:00:03.000Z"),
        ("2024-02-29T23:59:59.5Z", "2024-02-29T23:59:59.5Z"),
        ("2025-02-29T00:00:00Z", None),  # not a leap year
        ("2025-04-31T00:00:00Z", None),
        ("2025-13-01T00:00:00Z", None),
        ("2025-01-01T24:00:00Z", None),
        ("2025-01-01", None),
        ("yesterday", None),
    ],
)
def test_normalize_ts(text: str, stored: str | None) -> None:
    assert normalize_ts(text) == stored


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)))
def test_every_real_utc_moment_is_kept_as_written(moment: datetime) -> None:
    text = moment.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert normalize_ts(text) == text
