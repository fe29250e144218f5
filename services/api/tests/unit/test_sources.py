"""The source filter and the rule that keeps computed and vendor bars apart unless asked for."""

import pytest

from tickwire_api.domain.sources import (
    MixedSources,
    SourceFilter,
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
    ],
)
def test_what_each_filter_selects(value: str | None, expected: SourceFilter) -> None:
    assert source_filter(value) == expected
    assert source_filter(value).given is (value is not None)


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
