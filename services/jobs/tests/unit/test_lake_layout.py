"""The lake's paths: partition folders, the day's bookkeeping folder, and a reversible encoding of
partition values that readers decode."""

from __future__ import annotations

import datetime as dt

import pytest

from tickwire_jobs.domain.lake_layout import (
    data_path,
    days_between,
    decode_segment,
    encode_segment,
    manifest_path,
    staged_path,
    utc_bounds,
)

DAY = dt.date(2026, 3, 5)


@pytest.mark.parametrize(
    ("name", "segment"),
    [
        ("BTC-USD", "BTC-USD"),
        ("BRK.B", "BRK.B"),
        ("BTC/USD", "BTC%2FUSD"),
        ("a=b", "a%3Db"),
        ("100%", "100%25"),
        ("EUR USD", "EUR%20USD"),
        (".hidden", "%2Ehidden"),
        ("_private", "%5Fprivate"),
        ("日経", "%E6%97%A5%E7%B5%8C"),
    ],
)
def test_segments_encode_what_paths_cannot_hold_and_decode_back(name: str, segment: str) -> None:
    assert encode_segment(name) == segment
    assert decode_segment(segment) == name


def test_a_partition_path_is_hive_style_with_unpadded_dates() -> None:
    assert data_path("coinbase", "ticks", "BTC/USD", DAY) == (
        "provider=coinbase/type=ticks/instrument=BTC%2FUSD/year=2026/month=3/day=5/data.parquet"
    )


def test_bookkeeping_lives_under_an_underscore_folder_and_never_ends_in_parquet() -> None:
    assert manifest_path(DAY) == "_days/2026-03-05/_manifest.json"
    staged = staged_path(DAY, "run1", 7)
    assert staged == "_days/2026-03-05/staging-run1/000007.pending"
    assert not staged.endswith(".parquet")


def test_a_utc_day_is_half_open() -> None:
    start, end = utc_bounds(DAY)
    assert start == dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)


def test_days_between_is_inclusive_and_empty_when_reversed() -> None:
    assert days_between(DAY, DAY + dt.timedelta(days=2)) == [
        DAY,
        DAY + dt.timedelta(days=1),
        DAY + dt.timedelta(days=2),
    ]
    assert days_between(DAY, DAY - dt.timedelta(days=1)) == []
