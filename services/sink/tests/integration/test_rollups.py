"""The rollups bars_1m / bars_1h against pandas, and the storage migration choosing its path by
the TimescaleDB license: plain views on the Apache build, continuous aggregates on 'timescale'.
Every test runs on both builds, each in a database of its own."""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pandas as pd
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_testing.plugin import new_database
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

MIGRATION = (
    resources.files("tickwire_sink.migrations")
    .joinpath("0004_policies_and_rollups.sql")
    .read_text()
)
LICENSE_LOOKUP = "current_setting('timescaledb.license', true)"
ROLLUPS = {"bars_1m": "min", "bars_1h": "h"}  # view -> its bucket as a pandas frequency
COLUMNS = "provider, instrument, start_ts, open, high, low, close, volume, tick_count"
MINUTE = 60_000_000
T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z, on an hour boundary
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["timescale", "apache"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database on the server of each build (the full one, then the Apache-only one)."""
    with new_database(request.getfixturevalue(f"{request.param}_server_url")) as url:
        yield url


@pytest.fixture
def timescale_license(conn: psycopg.Connection) -> str:
    (value,) = conn.execute("SHOW timescaledb.license").fetchone() or ("",)
    conn.commit()
    return str(value)


def refresh_rollups(database_url: str, timescale_license: str) -> None:
    """Materialize everything under 'timescale' (test ticks are older than the refresh window, and
    a refresh cannot run in a transaction); plain views need nothing."""
    if timescale_license != "timescale":
        return
    with psycopg.connect(database_url, autocommit=True) as admin:
        for view in ROLLUPS:
            admin.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", (view,))


def rollup_rows(conn: psycopg.Connection, view: str) -> list[tuple[Any, ...]]:
    rows = conn.execute(f"SELECT {COLUMNS} FROM {view} ORDER BY 1, 2, 3").fetchall()
    conn.commit()
    return rows


def expected_rows(trades: list[dict[str, Any]], freq: str) -> list[tuple[Any, ...]]:
    """OHLCV per provider, instrument and bucket, computed by pandas from the trades."""
    frame = pd.DataFrame(
        {
            "provider": [t["provider"] for t in trades],
            "instrument": [t["instrument"] for t in trades],
            "ts": pd.to_datetime([t["exchange_ts"] for t in trades], unit="us", utc=True),
            "price": [t["last_traded_price"] for t in trades],
            "size": [t["last_traded_volume"] for t in trades],
        }
    ).sort_values("ts")
    frame["start_ts"] = frame["ts"].dt.floor(freq)
    bars = frame.groupby(["provider", "instrument", "start_ts"], sort=True).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),  # a missing size adds nothing, as in the views
        tick_count=("price", "size"),
    )
    return [
        (provider, instrument, start.to_pydatetime(), *values)
        for (provider, instrument, start), values in zip(
            bars.index, bars.itertuples(index=False), strict=True
        )
    ]


def write(conn: psycopg.Connection, ticks: list[dict[str, Any]]) -> None:
    TickWriter(conn, AvroSerde().schema("tick")).write(ticks)


def trades_strategy() -> st.SearchStrategy[list[dict[str, Any]]]:
    # Times cluster on bucket edges (the first and last microsecond of a minute) as well as
    # anywhere within three hours; arrival (received_ts) lags by up to two hours, so it orders the
    # trades differently from exchange_ts; sizes are quarters, so sums are exact in any order.
    within_minute = st.one_of(st.just(0), st.just(MINUTE - 1), st.integers(0, MINUTE - 1))
    one = st.builds(
        lambda provider, instrument, minute, within, lag, cents, quarters: trade(
            instrument,
            T0 + minute * MINUTE + within,
            cents / 100,
            None if quarters is None else quarters / 4,
            provider=provider,
            received_ts=T0 + minute * MINUTE + within + lag,
        ),
        st.sampled_from(["simulator", "binance"]),
        st.sampled_from(["BTC-USD", "ETH-USD"]),
        st.integers(0, 179),
        within_minute,
        st.integers(0, 120 * MINUTE),
        st.integers(1, 10_000_000),
        st.none() | st.integers(0, 4_000),
    )
    # One trade per provider, instrument and time: tied times would leave open and close to
    # whichever tied trade the database meets first.
    return st.lists(
        one,
        min_size=1,
        max_size=40,
        unique_by=lambda t: (t["provider"], t["instrument"], t["exchange_ts"]),
    )


def noise(trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ticks the rollups must ignore, priced beyond every trade: a quote carrying a last price,
    a gap event and a trade without a price, next to each trade."""
    ignored: list[dict[str, Any]] = []
    for t in trades:
        ts, instrument, provider = t["exchange_ts"], t["instrument"], t["provider"]
        ignored.append(quote(instrument, ts, 1e9, 2e9, provider=provider, last_traded_price=3e9))
        ignored.append(
            {
                "provider": provider,
                "instrument": instrument,
                "kind": "gap",
                "exchange_ts": ts,
                "received_ts": ts + 100,
                "last_traded_price": 4e9,
                "gap_end_ts": ts + MINUTE,
                "gap_reason": "sequence_gap",
            }
        )
        ignored.append(
            trade(instrument, ts, 0.0, 5.0, provider=provider, trade_id=f"np-{ts}")
            | {"last_traded_price": None}
        )
    return ignored


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(trades=trades_strategy())
def test_rollups_give_the_ohlcv_pandas_gives(
    database_url: str,
    conn: psycopg.Connection,
    timescale_license: str,
    trades: list[dict[str, Any]],
) -> None:
    conn.execute("TRUNCATE ticks")
    conn.commit()
    # Written in the strategy's order, not by time: open and close follow exchange_ts.
    write(conn, trades + noise(trades))
    refresh_rollups(database_url, timescale_license)
    for view, freq in ROLLUPS.items():
        assert rollup_rows(conn, view) == expected_rows(trades, freq), view


def test_a_late_written_trade_still_opens_its_minute(
    database_url: str, conn: psycopg.Connection, timescale_license: str
) -> None:
    at = T0 + 7 * MINUTE
    write(
        conn,
        [
            trade("BTC-USD", at + 30_000_000, 101.0, 2.0),
            trade("BTC-USD", at + 50_000_000, 99.5, 1.0),
            trade("BTC-USD", at + MINUTE, 103.0, 4.0),  # the next minute's first microsecond
            # The minute's open, arriving and written last.
            trade("BTC-USD", at + 10_000_000, 100.0, 0.5, received_ts=at + 2 * MINUTE),
        ],
    )
    refresh_rollups(database_url, timescale_license)
    minute = EPOCH + timedelta(microseconds=at)
    assert rollup_rows(conn, "bars_1m") == [
        ("simulator", "BTC-USD", minute, 100.0, 101.0, 99.5, 99.5, 3.5, 3),
        ("simulator", "BTC-USD", minute + timedelta(minutes=1), 103.0, 103.0, 103.0, 103.0, 4.0, 1),
    ]
    assert rollup_rows(conn, "bars_1h") == [
        (
            "simulator",
            "BTC-USD",
            EPOCH + timedelta(microseconds=T0),
            100.0,
            103.0,
            99.5,
            103.0,
            7.5,
            4,
        )
    ]


def test_the_license_picks_the_path(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="tickwire_sink.adapters.migrations"),
        psycopg.connect(database_url) as conn,
    ):
        migrate(conn)
        (found,) = conn.execute("SHOW timescaledb.license").fetchone() or ("",)
        aggregates: dict[str, bool] = dict(
            conn.execute(
                "SELECT view_name, materialized_only"
                " FROM timescaledb_information.continuous_aggregates"
            ).fetchall()
        )
        compressed = {
            name
            for (name,) in conn.execute(
                "SELECT hypertable_name FROM timescaledb_information.hypertables"
                " WHERE compression_enabled"
            )
        }
        jobs = {
            row
            for row in conn.execute(
                "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs"
                " WHERE hypertable_name IS NOT NULL OR proc_name = 'prune_rejects'"
            )
        }
        views = {
            name
            for (name,) in conn.execute(
                "SELECT viewname FROM pg_views WHERE viewname IN ('bars_1m', 'bars_1h')"
            )
        }
    fallback_notice = [
        r for r in caplog.records if "plain views computed from ticks" in r.getMessage()
    ]
    assert views == {"bars_1m", "bars_1h"}  # a continuous aggregate is a view too
    if found == "timescale":
        assert aggregates == {"bars_1m": False, "bars_1h": False}
        assert compressed == {"ticks", "signals", "bars"}
        assert {
            ("policy_compression", "ticks"),
            ("policy_compression", "signals"),
            ("policy_compression", "bars"),
            ("policy_retention", "ticks"),
            ("policy_retention", "signals"),
            ("policy_retention", "anomalies"),
            ("prune_rejects", None),
        } <= jobs
        assert sum(name == "policy_refresh_continuous_aggregate" for name, _ in jobs) == 2
        assert fallback_notice == []
    else:
        assert found == "apache"  # a third value would need a look
        assert (aggregates, compressed, jobs) == ({}, set(), set())
        assert len(fallback_notice) == 1
        assert "timescaledb.license is apache" in fallback_notice[0].getMessage()


def schema_state(conn: psycopg.Connection) -> tuple[Any, ...]:
    state = (
        conn.execute(
            "SELECT viewname, definition FROM pg_views"
            " WHERE viewname IN ('bars_1m', 'bars_1h') ORDER BY 1"
        ).fetchall(),
        conn.execute(
            "SELECT proc_name, hypertable_name, config::text FROM timescaledb_information.jobs"
            " ORDER BY 1, 2, 3"
        ).fetchall(),
        conn.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables"
            " ORDER BY 1"
        ).fetchall(),
    )
    conn.commit()
    return state


def test_the_file_applies_again_and_changes_nothing(
    conn: psycopg.Connection, timescale_license: str
) -> None:
    before = schema_state(conn)
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    for _ in range(2):
        conn.execute(MIGRATION)
        conn.commit()
    assert schema_state(conn) == before
    fallback = [n for n in notices if "plain views computed from ticks" in n]
    assert len(fallback) == (0 if timescale_license == "timescale" else 2)


def test_the_timescale_branch_is_syntax_checked_on_every_apply(conn: psycopg.Connection) -> None:
    # PL/pgSQL parses every statement of the DO block, taken or not, before running any: a typo
    # in the timescale branch fails on the Apache build too, which never takes that branch.
    broken = MIGRATION.replace(
        "drop_after => policy.drop_after", "drop_after => => policy.drop_after"
    )
    assert broken != MIGRATION
    with conn.transaction(force_rollback=True), pytest.raises(psycopg.errors.SyntaxError):
        conn.execute(broken)


def test_the_timescale_branch_is_taken_when_the_license_says_so(
    conn: psycopg.Connection, timescale_license: str
) -> None:
    forced = MIGRATION.replace(LICENSE_LOOKUP, "'timescale'")
    assert forced != MIGRATION
    if timescale_license == "timescale":
        conn.execute(forced)  # the real path; the other tests check what it made
        return
    # On the Apache build the branch gets as far as TimescaleDB's license check on its first
    # statement, a continuous aggregate (the plain views, made first, would be kept otherwise).
    with conn.transaction(force_rollback=True):
        conn.execute("DROP VIEW bars_1m, bars_1h")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="license") as caught:
            conn.execute(forced)
    assert "CREATE MATERIALIZED VIEW" in (caught.value.diag.context or "")


def test_prune_rejects_deletes_only_dead_letters_older_than_asked(
    conn: psycopg.Connection,
) -> None:
    ages = {"old": 400, "recent": 10, "edge": 364}
    for name, days in ages.items():
        conn.execute(
            "INSERT INTO rejects (reason, message, service, source_topic, source_partition,"
            " source_offset, payload, rejected_ts)"
            " VALUES (%s, '', 'normalize', 'raw_ticks', 0, 0, '',"
            " now() - make_interval(days => %s))",
            (name, days),
        )
    conn.execute("""CALL prune_rejects(NULL, '{"drop_after": "365 days"}')""")
    assert {r for (r,) in conn.execute("SELECT reason FROM rejects")} == {"recent", "edge"}
    with pytest.raises(psycopg.errors.RaiseException, match="drop_after"):
        conn.execute("CALL prune_rejects(NULL, '{}')")
