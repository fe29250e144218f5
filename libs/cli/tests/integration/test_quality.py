"""`tickwire quality` against the real database: a day with injected ticks, gaps, duplicates
(dedup tallies), rejects, late ticks, anomalies and bars gives exactly the injected numbers; a
rerun replaces the day's rows instead of adding to them, and every run is in job_runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tickwire_sink.adapters.migrations import migrate
from tickwire_testing.cli import Tickwire

pytestmark = pytest.mark.integration

DAY = date(2024, 11, 29)  # New York closes early: 14:30 to 18:00 UTC
MIDNIGHT = datetime(2024, 11, 29, tzinfo=UTC)
BTC = ("binance", "BTC-USDT")


def at(minutes: float) -> datetime:
    return MIDNIGHT + timedelta(minutes=minutes)


def ticks(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
    """(provider, instrument, kind, exchange_ts[, gap_end_ts, gap_reason, gap_lost])"""
    conn.cursor().executemany(
        "INSERT INTO ticks (provider, instrument, kind, exchange_ts, received_ts, dedup_key,"
        " gap_end_ts, gap_reason, gap_lost) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (p, i, kind, ts, ts, f"{kind}-{n}", *gap, *[None] * (3 - len(gap)))
            for n, (p, i, kind, ts, *gap) in enumerate(rows)
        ],
    )


def seed(conn: psycopg.Connection[Any]) -> None:
    # BTC-USDT: quotes in minutes 0-599, two trades a minute in 600-719, five tickers in minute 0:
    # 845 ticks over 720 of 1440 minutes. Trades just before and after the day do not count.
    rows = [(*BTC, "quote", at(m) + timedelta(seconds=7)) for m in range(600)]
    rows += [(*BTC, "trade", at(m) + timedelta(seconds=s)) for m in range(600, 720) for s in (1, 2)]
    rows += [(*BTC, "ticker", at(0) + timedelta(seconds=s)) for s in range(5)]
    rows += [(*BTC, "trade", at(-0.01)), (*BTC, "trade", at(1440))]
    rows += [
        (*BTC, "gap", at(720), at(721.5), "disconnect", None),  # 90 s
        (*BTC, "gap", at(780), at(780) + timedelta(seconds=2), "sequence", 17),
        (*BTC, "gap", at(-60), at(30), "disconnect", None),  # began the day before: its day
    ]
    # AAPL: trades 14:00-16:14:59 UTC, of which 14:30-16:14:59 (105 minutes) in the session.
    rows += [("yahoo", "AAPL", "trade", at(m)) for m in range(840, 975)]
    ticks(conn, rows)
    conn.cursor().executemany(
        "INSERT INTO dedup_tallies (provider, instrument, day, duplicates, source_topic,"
        " source_partition, source_offset) VALUES (%s, %s, %s, %s, 'tickwire.dedup', 0, %s)",
        [(*BTC, DAY, 30, 1), (*BTC, DAY, 20, 2), (*BTC, DAY + timedelta(days=1), 9, 3)],
    )
    rejects = [
        (*BTC, "non_positive_price", at(10), at(11)),
        (*BTC, "non_positive_price", at(20), at(21)),
        (*BTC, "non_positive_price", at(30), at(31)),
        (*BTC, "crossed_market", at(1439), at(1441)),  # rejected after midnight: still its day
        (*BTC, "crossed_market", at(-5), at(1)),  # about the day before
        ("binance", None, "undecodable_payload", None, at(100)),
        ("binance", None, "undecodable_payload", None, at(200)),
        (None, None, "schema_mismatch", None, at(300)),
    ]
    conn.cursor().executemany(
        "INSERT INTO rejects (provider, instrument, reason, event_ts, rejected_ts, message,"
        " service, source_topic, source_partition, source_offset, payload)"
        " VALUES (%s, %s, %s, %s, %s, 'x', 'normalize', 'tickwire.ticks.raw', 0, %s, '')",
        [(*r, n) for n, r in enumerate(rejects)],
    )
    anomalies = [("late_tick", "warning", m) for m in (1, 2, 3, 4)]
    anomalies += [("zscore", "warning", 5), ("zscore", "warning", 6), ("zscore", "critical", 7)]
    anomalies += [("zscore", "critical", 1440 + 1)]  # the next day
    conn.cursor().executemany(
        "INSERT INTO anomalies (provider, instrument, rule, severity, ts, value, threshold)"
        " VALUES (%s, %s, %s, %s, %s, 1, 1)",
        [(*BTC, rule, severity, at(m)) for rule, severity, m in anomalies],
    )
    bars = [
        ("1d", 0, "binance", 100.0),  # the vendor's daily close
        ("1m", 718, "binance", 100.0),
        ("1m", 719, "binance", 100.5),
        ("1m", 718, "trade", 99.0),  # 1% below the vendor's
        ("1m", 719, "trade", 100.5),  # the day's last computed close
        ("1m", 719, "mid", 90.0),  # trades' bars win over mids'
        ("1s", 700, "trade", 101.0),  # no vendor bar of 1s: not compared
    ]
    conn.cursor().executemany(
        'INSERT INTO bars (provider, instrument, "interval", start_ts, open, high, low, close,'
        " volume, tick_count, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s)",
        [
            (*BTC, interval, at(m), close, close, close, close, 0 if src == "binance" else 1, src)
            for interval, m, src, close in bars
        ],
    )
    # A feed running across the day without a tick in it.
    conn.execute(
        "INSERT INTO feed_status (provider, instrument, first_exchange_ts, last_exchange_ts)"
        " VALUES ('kraken', 'ETH-USD', %s, %s)",
        (at(-3000), at(3000)),
    )


EXPECTED_BTC = {
    "calendar": "24/7",
    "session_minutes": 1440,
    "covered_minutes": 720,
    "coverage": 0.5,
    "ticks": 845,
    "quotes": 600,
    "trades": 240,
    "tickers": 5,
    "first_tick": at(0),
    "last_tick": at(719) + timedelta(seconds=2),
    "gaps": 2,
    "gap_seconds": 92.0,
    "gap_lost": 17,
    "gaps_by_reason": {
        "disconnect": {"gaps": 1, "seconds": 90.0, "lost": 0},
        "sequence": {"gaps": 1, "seconds": 2.0, "lost": 17},
    },
    "duplicates": 50,
    "duplicate_rate": 50 / 895,
    "rejects": 4,
    "rejects_by_reason": {"crossed_market": 1, "non_positive_price": 3},
    "late_ticks": 4,
    "anomalies": 7,
    "anomalies_by_rule": {"late_tick": {"warning": 4}, "zscore": {"critical": 1, "warning": 2}},
    "vendor_source": "binance",
    "vendor_close": 100.0,
    "computed_close": 100.5,
    "close_rel_diff": 0.005,
    "bar_agreement": {
        "binance": {"1m": {"bars": 2, "mean_abs_rel_diff": 0.005, "max_abs_rel_diff": 0.01}}
    },
}


def stored(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        found = cur.execute("SELECT * FROM quality_daily ORDER BY provider, instrument").fetchall()
    return {(r["provider"], r["instrument"]): r for r in found}


def test_a_day_gives_exactly_the_injected_numbers_and_a_rerun_replaces_it(
    tickwire: Tickwire, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        migrate(conn)
        seed(conn)
        command = tickwire.with_env(DATABASE_URL=database_url)
        printed = command.json_lines("quality", "--day", DAY.isoformat())
        rows = stored(conn)
        assert sorted(rows) == [
            ("*", "*"),
            ("binance", "*"),
            ("binance", "BTC-USDT"),
            ("kraken", "ETH-USD"),
            ("yahoo", "AAPL"),
        ]
        assert [(r["provider"], r["instrument"]) for r in printed] == sorted(rows)
        btc = rows[BTC]
        for name, value in EXPECTED_BTC.items():
            expected = pytest.approx(value) if isinstance(value, float) else value
            assert btc[name] == expected, name
        assert btc["tickwire_version"] and btc["day"] == DAY

        aapl = rows[("yahoo", "AAPL")]
        assert (aapl["calendar"], aapl["session_minutes"], aapl["covered_minutes"]) == (
            "XNYS",
            210,
            105,
        )
        assert (aapl["coverage"], aapl["ticks"], aapl["gaps"], aapl["duplicate_rate"]) == (
            0.5,
            135,
            0,
            0.0,
        )
        silent = rows[("kraken", "ETH-USD")]
        assert (silent["coverage"], silent["ticks"], silent["first_tick"]) == (0.0, 0, None)
        for key, reasons in [
            (("binance", "*"), {"undecodable_payload": 2}),
            (("*", "*"), {"schema_mismatch": 1}),
        ]:
            unattributed = rows[key]
            assert unattributed["rejects_by_reason"] == reasons
            assert (unattributed["calendar"], unattributed["coverage"]) == (None, None)

        # The same day again: the same rows, each once.
        command.json_lines("quality", "--day", DAY.isoformat())
        again = stored(conn)
        assert sorted(again) == sorted(rows)
        changing = ("computed_at",)
        for key, row in rows.items():
            assert {k: v for k, v in again[key].items() if k not in changing} == {
                k: v for k, v in row.items() if k not in changing
            }

        # A tally that arrived late: recomputing one instrument changes only its row.
        conn.execute(
            "INSERT INTO dedup_tallies (provider, instrument, day, duplicates, source_topic,"
            " source_partition, source_offset) VALUES ('binance', 'BTC-USDT', %s, 55,"
            " 'tickwire.dedup', 1, 1)",
            (DAY,),
        )
        command.json_lines(
            "quality", "--day", DAY.isoformat(), "--provider", "binance", "--instrument", "BTC-USDT"
        )
        latest = stored(conn)
        assert sorted(latest) == sorted(rows)
        assert (latest[BTC]["duplicates"], latest[BTC]["duplicate_rate"]) == (105, 105 / 950)
        assert latest[("yahoo", "AAPL")]["computed_at"] == again[("yahoo", "AAPL")]["computed_at"]

        runs = conn.execute(
            "SELECT status, rows, arguments->>'day', arguments->>'instrument' FROM job_runs"
            " WHERE job = 'quality' ORDER BY id"
        ).fetchall()
        assert runs == [
            ("succeeded", 5, "2024-11-29", None),
            ("succeeded", 5, "2024-11-29", None),
            ("succeeded", 1, "2024-11-29", "BTC-USDT"),
        ]


def test_a_range_of_days_and_wrong_arguments(
    tickwire: Tickwire, database_url: str, unreachable: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        migrate(conn)
        seed(conn)
        command = tickwire.with_env(DATABASE_URL=database_url)
        printed = command.json_lines(
            "quality", "--day", "2024-11-28", "--through", "2024-11-30", "--provider", "kraken"
        )
        assert [(r["day"], r["coverage"]) for r in printed] == [
            ("2024-11-28", 0.0),
            ("2024-11-29", 0.0),
            ("2024-11-30", 0.0),
        ]
        assert conn.execute("SELECT count(*) FROM quality_daily").fetchone() == (3,)
    for args, words in [
        (("--day", "29/11/2024"), "is not a day"),
        (("--day", "2024-11-29", "--through", "2024-11-28"), "is before"),
        (("--day", "2024-11-29", "--calendar", "yahoo=NOPE"), "NOPE"),
        (("--day", "2024-11-29", "--calendar", "yahoo"), "PROVIDER=CALENDAR"),
    ]:
        line = command.error_line("quality", *args, code=2)
        assert words in line, line
    nowhere = tickwire.with_env(DATABASE_URL=f"postgresql://tickwire:x@{unreachable}/x")
    line = nowhere.error_line("quality", "--day", "2024-11-29", code=1)
    assert line.startswith(f"tickwire: error: cannot reach the database at {unreachable}/x"), line
