"""The day's manifest and the export plan: what is written, kept and removed, decided from the
database's partition summaries and the previous manifest alone."""

from __future__ import annotations

import datetime as dt

import pytest

from tickwire_jobs.domain.lake_kinds import KINDS, kinds_named
from tickwire_jobs.domain.lake_manifest import (
    COMPLETE,
    PUBLISHING,
    FileEntry,
    KindSchema,
    Manifest,
    ManifestError,
    PartitionKey,
    PartitionState,
    content_fingerprint,
    plan_day,
    schema_fingerprint,
)

DAY = dt.date(2026, 3, 5)
A = PartitionKey("ticks", "coinbase", "BTC-USD")
B = PartitionKey("ticks", "coinbase", "ETH-USD")
BAR = PartitionKey("bars", "yahoo", "AAPL")


def state(key: PartitionKey, content: str, rows: int = 10) -> PartitionState:
    return PartitionState(
        key, rows, "2026-03-05T00:00:00+00:00", "2026-03-05T23:00:00+00:00", content
    )


def entry(key: PartitionKey, content: str, staged: str | None = None) -> FileEntry:
    return FileEntry(
        key, f"{key.kind}/{key.instrument}", 10, "t0", "t1", content, "ab" * 32, 99, staged
    )


def manifest(*files: FileEntry, state: str = COMPLETE) -> Manifest:
    return Manifest(
        DAY,
        state,
        "run0",
        "1.0",
        "2026-03-06T00:00:00+00:00",
        files,
        {"ticks": KindSchema("s1", "a1")},
    )


def test_a_first_export_writes_every_partition() -> None:
    plan = plan_day(None, [state(A, "x"), state(B, "y")], ["ticks"])
    assert [s.key for s in plan.write] == [A, B]
    assert plan.keep == () and plan.remove == ()


def test_an_unchanged_day_plans_nothing() -> None:
    previous = manifest(entry(A, "x"), entry(B, "y"))
    plan = plan_day(previous, [state(A, "x"), state(B, "y")], ["ticks"])
    assert plan.unchanged
    assert set(plan.keep) == set(previous.files)


def test_a_changed_partition_is_rewritten_and_the_others_kept() -> None:
    plan = plan_day(
        manifest(entry(A, "x"), entry(B, "y")), [state(A, "x2"), state(B, "y")], ["ticks"]
    )
    assert [s.key for s in plan.write] == [A]
    assert [e.key for e in plan.keep] == [B]


def test_a_partition_gone_from_the_database_is_removed() -> None:
    plan = plan_day(manifest(entry(A, "x"), entry(B, "y")), [state(A, "x")], ["ticks"])
    assert [e.key for e in plan.remove] == [B]
    assert not plan.unchanged


def test_kinds_not_exported_this_time_are_kept_as_they_are() -> None:
    plan = plan_day(manifest(entry(A, "x"), entry(BAR, "b")), [state(A, "x")], ["ticks"])
    assert plan.unchanged
    assert {e.key for e in plan.keep} == {A, BAR}


def test_the_manifest_round_trips_through_json() -> None:
    original = manifest(
        entry(A, "x", staged="_days/2026-03-05/staging-r/000000.pending"),
        entry(BAR, "b"),
        state=PUBLISHING,
    )
    original = Manifest(**{**original.__dict__, "removed": ("old/path",)})
    again = Manifest.from_json(original.to_json())
    assert again == original
    assert again.rows_by_kind() == {"ticks": 10, "bars": 10}


def test_a_manifest_of_another_format_is_refused() -> None:
    with pytest.raises(ManifestError, match="format"):
        Manifest.from_json('{"format": 99}')
    with pytest.raises(ManifestError):
        Manifest.from_json("not json")


def test_content_moves_with_rows_digest_and_schema() -> None:
    base = content_fingerprint(10, "123", "s1")
    assert base == content_fingerprint(10, "123", "s1")
    assert (
        len(
            {
                base,
                content_fingerprint(11, "123", "s1"),
                content_fingerprint(10, "124", "s1"),
                content_fingerprint(10, "123", "s2"),
            }
        )
        == 4
    )


def test_schema_fingerprint_moves_with_names_types_and_docs() -> None:
    base = schema_fingerprint([("price", "double", "Last price.")])
    assert base != schema_fingerprint([("price", "float", "Last price.")])
    assert base != schema_fingerprint([("price", "double", "Price.")])


def test_kinds_are_one_table_and_picked_by_name() -> None:
    assert [k.name for k in KINDS] == [
        "ticks",
        "gaps",
        "bars",
        "anomalies",
        "signals",
        "short_volume",
        "short_interest",
        "quality_daily",
    ]
    assert [k.name for k in kinds_named(["bars", "ticks"])] == ["ticks", "bars"]
    assert kinds_named(None) == KINDS
    with pytest.raises(ValueError, match="unknown kind candles"):
        kinds_named(["candles"])


def test_the_path_holds_provider_instrument_and_a_time_column_that_is_the_day() -> None:
    by_name = {k.name: k for k in KINDS}
    assert by_name["quality_daily"].day_from_path
    assert by_name["quality_daily"].path_columns == {"provider", "instrument", "day"}
    for name in ("ticks", "bars", "short_volume"):
        assert not by_name[name].day_from_path
        assert by_name[name].path_columns == {"provider", "instrument"}
