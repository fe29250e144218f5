"""The source filter, the rule that keeps computed and vendor bars apart unless asked for, and
the intervals rollup bars exist at."""

import pytest

from tickwire_api.domain.intervals import RangeError, interval_seconds
from tickwire_api.domain.sources import (
    MixedSources,
    SourceFilter,
    check_rollup_interval,
    check_unmixed,
    interval_name,
    source_filter,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, SourceFilter(computed=True, vendor=True, name=None)),
        ("computed", SourceFilter(computed=True, vendor=False, name=None)),
        ("vendor", SourceFilter(computed=False, vendor=True, name=None)),
        ("trade", SourceFilter(computed=True, vendor=False, name="trade")),
        ("mid", SourceFilter(computed=True, vendor=False, name="mid")),
        ("yahoo", SourceFilter(computed=False, vendor=True, name="yahoo")),
        ("rollup", SourceFilter(computed=False, vendor=False, name="rollup")),
    ],
)
def test_what_each_filter_selects(value: str | None, expected: SourceFilter) -> None:
    assert source_filter(value) == expected
    assert source_filter(value).given is (value is not None)
    assert source_filter(value).rollup is (value == "rollup")


def test_both_kinds_without_a_filter_are_refused_naming_every_source() -> None:
    with pytest.raises(MixedSources) as refused:
        check_unmixed(source_filter(None), ["trade", "yahoo", "mid", "trade", "binance"])
    assert refused.value.parameter == "source"
    assert refused.value.computed == ["mid", "trade"]
    assert refused.value.vendor == ["binance", "yahoo"]
    assert "source=computed" in str(refused.value) and "source=vendor" in str(refused.value)


@pytest.mark.parametrize(
    ("value", "sources"),
    [
        (None, ["trade", "mid"]),  # computed side by side, as always
        (None, ["yahoo", "coingecko"]),
        (None, []),
        ("computed", ["trade", "yahoo"]),  # a filter given: what it selected is served
        ("vendor", ["yahoo"]),
        ("rollup", ["rollup"]),
    ],
)
def test_one_kind_or_a_chosen_filter_passes(value: str | None, sources: list[str]) -> None:
    check_unmixed(source_filter(value), sources)


@pytest.mark.parametrize(
    ("seconds", "name"),
    [
        (1, "1s"),
        (90, "90s"),
        (60, "1m"),
        (900, "15m"),
        (3600, "1h"),
        (14_400, "4h"),
        (86_400, "1d"),
    ],
)
def test_interval_names_are_the_stored_ones(seconds: int, name: str) -> None:
    assert interval_name(seconds) == name


@pytest.mark.parametrize("interval", ["1m", "60s", "1h", "60m", "3600s"])
def test_rollup_bars_are_served_at_the_rollups_intervals(interval: str) -> None:
    check_rollup_interval(source_filter("rollup"), interval, interval_seconds(interval))


@pytest.mark.parametrize("interval", ["1s", "30s", "5m", "15m", "2h", "1d"])
def test_rollup_bars_at_any_other_interval_are_refused_naming_those_there_are(
    interval: str,
) -> None:
    with pytest.raises(RangeError) as refused:
        check_rollup_interval(source_filter("rollup"), interval, interval_seconds(interval))
    assert refused.value.parameter == "interval"
    assert str(refused.value).startswith("source=rollup has bars at 1m and 1h only")
    assert f"not at {interval}:" in str(refused.value)


@pytest.mark.parametrize("source", [None, "computed", "vendor", "trade", "yahoo"])
def test_other_sources_keep_every_interval(source: str | None) -> None:
    for interval in ("1s", "5m", "1d"):
        check_rollup_interval(source_filter(source), interval, interval_seconds(interval))
