"""The quality report's arithmetic on hand-made facts, each expectation worked out by hand: coverage
of a session, gaps by reason, the duplicate rate, rejects, anomalies and the bar agreement."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tickwire_jobs.domain.quality import (
    BarPair,
    DayFacts,
    Gap,
    bar_agreement,
    quality_row,
    relative_difference,
)
from tickwire_jobs.domain.sessions import Session, around_the_clock

DAY = date(2024, 11, 29)
MIDNIGHT = datetime(2024, 11, 29, tzinfo=UTC)


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def test_a_crypto_day_with_gaps_duplicates_rejects_and_anomalies() -> None:
    facts = DayFacts(
        ticks_by_kind={"quote": 700, "trade": 290, "ticker": 10},
        first_tick=at(0.01),
        last_tick=at(23.99),
        minutes=set(range(0, 1440, 2)),  # every other minute: 720 of 1440
        gaps=[
            Gap(at(1), at(1) + timedelta(seconds=90), "disconnect", None),
            Gap(at(2), at(2) + timedelta(seconds=30), "disconnect", None),
            Gap(at(3), at(3) + timedelta(seconds=4.5), "sequence", 17),
        ],
        duplicates=250,
        rejects={"non_positive_price": 3, "crossed_market": 1},
        anomalies={"late_tick": {"warning": 4}, "zscore": {"warning": 2, "critical": 1}},
    )
    row = quality_row("binance", "BTC-USDT", DAY, around_the_clock(DAY), facts, "1.2.3")
    assert (row.session_minutes, row.covered_minutes, row.coverage) == (1440, 720, 0.5)
    assert (row.ticks, row.quotes, row.trades, row.tickers) == (1000, 700, 290, 10)
    assert (row.gaps, row.gap_seconds, row.gap_lost) == (3, 124.5, 17)
    assert row.gaps_by_reason == {
        "disconnect": {"gaps": 2, "seconds": 120.0, "lost": 0},
        "sequence": {"gaps": 1, "seconds": 4.5, "lost": 17},
    }
    assert (row.duplicates, row.duplicate_rate) == (250, 0.2)  # 250 / (250 + 1000)
    assert (row.rejects, row.rejects_by_reason) == (
        4,
        {"crossed_market": 1, "non_positive_price": 3},
    )
    assert (row.late_ticks, row.anomalies) == (4, 7)
    assert row.anomalies_by_rule == {
        "late_tick": {"warning": 4},
        "zscore": {"critical": 1, "warning": 2},
    }
    assert (row.first_tick, row.last_tick) == (at(0.01), at(23.99))
    assert (row.calendar, row.tickwire_version, row.day) == ("24/7", "1.2.3", DAY)
    assert row.vendor_close is None and row.close_rel_diff is None and row.bar_agreement == {}


def test_an_equitys_coverage_counts_only_its_session_minutes() -> None:
    # The day after Thanksgiving 2024: New York closes early, 14:30 to 18:00 UTC = 210 minutes.
    session = Session("XNYS", DAY, ((at(14.5), at(18)),))
    before_open = set(range(600, 870))  # 10:00 to 14:30 UTC: not in the session
    in_session = set(range(870, 870 + 105))  # the first half of the session
    facts = DayFacts(ticks_by_kind={"trade": 5}, minutes=before_open | in_session | {1080})
    row = quality_row("yahoo", "AAPL", DAY, session, facts, "v")
    assert (row.session_minutes, row.covered_minutes, row.coverage) == (210, 105, 0.5)


def test_a_day_without_a_session_or_data_has_no_rates() -> None:
    closed = quality_row("yahoo", "AAPL", DAY, Session("XNYS", DAY, ()), DayFacts(), "v")
    assert (closed.session_minutes, closed.coverage, closed.duplicate_rate) == (0, None, None)
    silent = quality_row("kraken", "ETH-USD", DAY, around_the_clock(DAY), DayFacts(), "v")
    assert (silent.session_minutes, silent.covered_minutes, silent.coverage) == (1440, 0, 0.0)
    only_copies = quality_row(
        "kraken", "ETH-USD", DAY, around_the_clock(DAY), DayFacts(duplicates=3), "v"
    )
    assert only_copies.duplicate_rate == 1.0


def test_unattributed_rejects_have_no_calendar() -> None:
    facts = DayFacts(rejects={"undecodable_payload": 2})
    row = quality_row("*", "*", DAY, None, facts, "v")
    assert (row.calendar, row.session_minutes, row.coverage, row.rejects) == (None, 0, None, 2)


def test_session_minutes_of_stretches_that_are_not_whole_minutes_or_cross_midnight() -> None:
    split = Session("XHKG", DAY, ((at(1.5), at(4)), (at(5), at(8))))  # a lunch break
    assert len(split.minute_indexes()) == 150 + 180
    ragged = Session("X", DAY, ((at(1) + timedelta(seconds=30), at(1) + timedelta(seconds=150)),))
    assert sorted(ragged.minute_indexes()) == [61, 62]  # 01:01 and 01:02 start inside it
    late = Session("X", DAY, ((at(23), at(26)),))  # into the next UTC day: clipped
    assert len(late.minute_indexes()) == 60


def test_the_daily_close_and_the_intraday_bars_against_the_vendors() -> None:
    facts = DayFacts(
        vendor_source="binance",
        vendor_close=100.0,
        computed_close=100.5,
        bar_pairs=[
            BarPair("binance", "1m", 200.0, 202.0),  # +1%
            BarPair("binance", "1m", 50.0, 49.0),  # -2%
            BarPair("binance", "1m", 10.0, 10.0),
            BarPair("binance", "1h", 400.0, 401.0),  # +0.25%
        ],
    )
    row = quality_row("binance", "BTC-USDT", DAY, around_the_clock(DAY), facts, "v")
    assert row.close_rel_diff == pytest.approx(0.005)
    assert row.bar_agreement == {
        "binance": {
            "1h": {"bars": 1, "mean_abs_rel_diff": 0.0025, "max_abs_rel_diff": 0.0025},
            "1m": {
                "bars": 3,
                "mean_abs_rel_diff": pytest.approx(0.01),
                "max_abs_rel_diff": pytest.approx(0.02),
            },
        }
    }
    assert relative_difference(1.0, 0.0) is None
    assert bar_agreement([BarPair("x", "1m", 0.0, 1.0)]) == {}
