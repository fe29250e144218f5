"""A migrated database with a day of every stored kind in it, the `tickwire` command pointed at it,
and the lake read back with DuckDB, for comparison with what the database holds."""

from __future__ import annotations

import datetime as dt
import json
import os

import psycopg
import pytest

from tickwire_sink.adapters.migrations import migrate
from tickwire_testing.cli import Tickwire, as_url

DAY = dt.date(2026, 3, 5)
T0 = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


@pytest.fixture
def lake_db(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    return database_url


@pytest.fixture
def cli(lake_db: str) -> Tickwire:
    return Tickwire({**os.environ, "DATABASE_URL": as_url(lake_db)})


def tick_rows(instrument: str, start: dt.datetime, count: int, step_ms: int = 1000) -> str:
    """SQL that inserts `count` trades of `instrument` from `start`, one every `step_ms`."""
    return f"""
        INSERT INTO ticks (exchange_ts, received_ts, provider, instrument, kind, dedup_key,
                           last_traded_price, last_traded_volume, bid_price, trade_id, side,
                           ingest_instance, ingest_seq, venue_instrument)
        SELECT ts, ts + interval '3 ms', 'coinbase', '{instrument}', 'trade', 't:' || n,
               100 + n * 0.01, 0.5, CASE WHEN n % 3 = 0 THEN NULL ELSE 99.5 END,
               'id-' || n, CASE WHEN n % 2 = 0 THEN 'buy' ELSE 'sell' END, 'primary', n, 'x'
        FROM generate_series(1, {count}) AS n,
             LATERAL (SELECT '{start.isoformat()}'::timestamptz
                             + n * interval '{step_ms} milliseconds' AS ts) AS t
    """


def seed_day(url: str) -> None:
    """A day of every kind, with names paths cannot hold, a row just before and just after the
    day (which the day must not take), empty strings beside nulls, and JSON parameters."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(tick_rows("BTC/USD", T0 - dt.timedelta(seconds=1), 50))
        conn.execute(tick_rows("ETH-USD", T0 + dt.timedelta(hours=23, minutes=59), 70))
        conn.execute(
            """
            INSERT INTO ticks (exchange_ts, received_ts, provider, instrument, kind, dedup_key,
                               gap_end_ts, gap_reason, gap_lost, order_book_state, history)
            VALUES (%(t)s, %(t)s, 'coinbase', 'BTC/USD', 'gap', 'gap:1',
                    %(t)s + interval '5 s', 'reconnect', 12, '', true)
            """,
            {"t": T0 + dt.timedelta(hours=2)},
        )
        conn.execute(
            """
            INSERT INTO bars (provider, instrument, "interval", start_ts, open, high, low, close,
                              volume, tick_count, source, adj_close)
            VALUES ('yahoo', 'AAPL', '1d', %(t)s, 10, 12, 9, 11, 1000, 0, 'yahoo', 10.9),
                   ('yahoo', 'AAPL', '1d', %(t)s, 10, 12.5, 9, 11.1, 990, 42, 'trade', NULL),
                   ('coinbase', 'BTC/USD', '1m', %(t)s + interval '1 min', 1, 2, 1, 2, 3, 4,
                    'mid', NULL)
            """,
            {"t": T0},
        )
        conn.execute(
            """
            INSERT INTO anomalies (provider, instrument, ts, rule, severity, value, threshold,
                                   window_mean, window_stddev, window_count, detail)
            VALUES ('coinbase', 'BTC/USD', %(t)s, 'spike', 'critical', 5.5, 4, 100, 1.2, 50,
                    'jump, with a comma and "quotes"
            and a new line')
            """,
            {"t": T0 + dt.timedelta(minutes=7)},
        )
        conn.execute(
            """
            INSERT INTO signals (provider, instrument, ts, name, value, parameters, "interval")
            VALUES ('coinbase', 'ETH-USD', %(t)s, 'sma', 101.25, %(p)s, '1m')
            """,
            {"t": T0 + dt.timedelta(minutes=9), "p": json.dumps({"window": 20, "interval": "1m"})},
        )
        conn.execute(
            """
            INSERT INTO short_volume (provider, instrument, facility, trade_date, short_volume,
                                      short_exempt_volume, total_volume, market, received_ts)
            VALUES ('finra', 'AAPL', 'CNMS', %(d)s, 100, NULL, 300, 'Q', %(t)s)
            """,
            {"d": DAY, "t": T0},
        )
        conn.execute(
            """
            INSERT INTO short_interest (provider, instrument, settlement_date, short_interest,
                                        previous_short_interest, average_daily_volume,
                                        days_to_cover, market, received_ts)
            VALUES ('finra', 'AAPL', %(d)s, 5000, 4000, 1000, 5, 'Q', %(t)s),
                   ('finra', 'AAPL', %(d)s + 1, 5100, 5000, 1000, 5.1, 'Q', %(t)s)
            """,
            {"d": DAY, "t": T0},
        )
        conn.execute(
            """
            INSERT INTO quality_daily (provider, instrument, day, calendar, session_minutes,
                                       covered_minutes, coverage, ticks, quotes, gaps,
                                       gaps_by_reason, rejects_by_reason, tickwire_version)
            VALUES ('coinbase', 'BTC/USD', %(d)s, '24/7', 1440, 3, 0.00208333, 3, 3, 1,
                    '{"disconnect": {"gaps": 1, "seconds": 2.5, "lost": 0}}', '{}', '0.1.0'),
                   ('coinbase', 'BTC/USD', %(d)s + 1, '24/7', 1440, 0, 0, 0, 0, 0, '{}', '{}',
                    '0.1.0')
            """,
            {"d": DAY},
        )
