"""The backfill plan: where each instrument starts (since, the vendor's earliest, the stored
watermark, --restart), where it ends (until, never after now), grouped requests, datasets."""

from __future__ import annotations

import pytest

from tickwire_ingest.domain.history.plan import (
    PlanError,
    choose_dataset,
    group_name,
    make_plan,
    parse_time,
    read_instruments,
)

DAY = 86_400_000_000
NOW = 20_000 * DAY


def plan(**kw):  # type: ignore[no-untyped-def]
    args = dict(
        source="yahoo",
        grouped=False,
        dataset="ohlcv:1d",
        instruments=["AAPL", "MSFT"],
        since=None,
        until=None,
        now=NOW,
        earliest=0,
        watermarks={},
    )
    return make_plan(**{**args, **kw})


def test_a_first_run_starts_at_since_and_ends_now() -> None:
    steps = plan(since=10 * DAY)
    assert [(s.instrument, s.since, s.until, s.watermark) for s in steps] == [
        ("AAPL", 10 * DAY, NOW, None),
        ("MSFT", 10 * DAY, NOW, None),
    ]


def test_without_since_a_first_run_starts_at_the_vendors_earliest() -> None:
    [step, _] = plan(earliest=5 * DAY)
    assert step.since == 5 * DAY


def test_a_later_run_starts_at_the_watermark() -> None:
    aapl, msft = plan(since=10 * DAY, watermarks={"AAPL": 300 * DAY})
    assert (aapl.since, aapl.watermark) == (300 * DAY, 300 * DAY)
    assert msft.since == 10 * DAY


def test_since_after_the_watermark_wins() -> None:
    [aapl, _] = plan(since=400 * DAY, watermarks={"AAPL": 300 * DAY})
    assert aapl.since == 400 * DAY


def test_restart_ignores_the_watermark() -> None:
    [aapl, _] = plan(since=10 * DAY, watermarks={"AAPL": 300 * DAY}, restart=True)
    assert aapl.since == 10 * DAY and aapl.watermark == 300 * DAY


def test_until_is_never_after_now() -> None:
    [a, _] = plan(until=NOW + DAY)
    [b, _] = plan(until=NOW - DAY)
    assert (a.until, b.until) == (NOW, NOW - DAY)


def test_an_instrument_whose_watermark_reached_until_is_up_to_date() -> None:
    aapl, msft = plan(until=500 * DAY, watermarks={"AAPL": 500 * DAY})
    assert aapl.up_to_date and not msft.up_to_date


def test_a_grouped_source_makes_one_request_for_all_or_for_the_sorted_list() -> None:
    [one] = plan(grouped=True, instruments=["MSFT", "AAPL", "MSFT"])
    assert one.instrument == "AAPL,MSFT"
    [everything] = plan(grouped=True, instruments=[])
    assert everything.instrument == group_name([]) == "*"


def test_instruments_named_twice_are_fetched_once() -> None:
    assert [s.instrument for s in plan(instruments=["A", "B", "A"])] == ["A", "B"]


def test_no_instruments_is_an_error() -> None:
    with pytest.raises(PlanError, match="no instruments"):
        plan(instruments=[])


@pytest.mark.parametrize(
    ("interval", "trades", "want"),
    [(None, False, "ohlcv:1d"), ("1h", False, "ohlcv:1h"), (None, True, "trades")],
)
def test_the_dataset_follows_interval_and_trades(interval, trades, want) -> None:  # type: ignore[no-untyped-def]
    assert choose_dataset("binance", ["ohlcv:1d", "ohlcv:1h", "trades"], interval, trades) == want


def test_a_source_with_one_dataset_needs_no_interval() -> None:
    assert choose_dataset("finra-short-volume", ["regsho"], None, False) == "regsho"


def test_a_dataset_the_source_does_not_serve_is_named() -> None:
    with pytest.raises(PlanError, match="yahoo does not serve trades; it serves ohlcv:1d"):
        choose_dataset("yahoo", ["ohlcv:1d"], None, True)


def test_times_are_dates_or_date_times_in_utc() -> None:
    assert parse_time("1970-01-02", "--since") == DAY
    assert parse_time("1970-01-01T01:00:00Z", "--since") == 3_600_000_000
    assert parse_time("1970-01-01T02:00:00+01:00", "--since") == 3_600_000_000
    assert parse_time("1970-01-01T00:00:00.5", "--since") == 500_000
    with pytest.raises(PlanError, match="--until 'soon'"):
        parse_time("soon", "--until")


def test_instrument_lists_take_commas_lines_and_comments() -> None:
    text = "AAPL, MSFT\n# the banks\nJPM  # and one more\n\nBRK-B,\n"
    assert read_instruments(text) == ["AAPL", "MSFT", "JPM", "BRK-B"]
