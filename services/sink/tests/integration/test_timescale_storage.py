"""The storage migrations on the full TimescaleDB: compression as declared, chunks that compress and
read back whole, the sink's idempotent writes into compressed chunks, the continuous aggregates
against bars computed from ticks, the policies run, and all of it as the compose writer role too."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import available, migrate
from tickwire_sink.adapters.table_writer import TableWriter
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import BARS
from tickwire_testing.db_roles import new_logins, run_db_roles
from tickwire_testing.plugin import new_database
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

MINUTE = 60_000_000
DAY = 24 * 60 * MINUTE
# What 0004 and 0013 declare: table -> (segment by, order by as (column, descending)).
COMPRESSION = {
    "ticks": (["provider", "instrument", "kind"], [("exchange_ts", True), ("dedup_key", False)]),
    "signals": (["provider", "instrument", "name"], [("ts", True), ("interval", False)]),
    "bars": (["provider", "instrument", "interval", "source"], [("start_ts", True)]),
}
BAR_COLUMNS = "provider, instrument, start_ts, open, high, low, close, volume, tick_count"


def now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)


@pytest.fixture(params=["superuser", "writer"])
def writer_url(request: pytest.FixtureRequest, timescale_server_url: str) -> Iterator[str]:
    """A migrated database on the full build, reached as the suite's superuser or as the compose
    stack's sink login (db-roles.sh: owns the database, no superuser, no CREATEROLE)."""
    with new_database(timescale_server_url) as url:
        if request.param == "superuser":
            with psycopg.connect(url) as conn:
                migrate(conn)
            yield url
            return
        with new_logins(url) as (sink, api):
            result = run_db_roles(url, sink, api)
            assert result.returncode == 0, result.stderr
            with psycopg.connect(sink.url(url)) as conn:
                migrate(conn)
                superuser = conn.execute(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                ).fetchone()
                assert superuser == (False,)
            yield sink.url(url)


@pytest.fixture
def conn(writer_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(writer_url, autocommit=True) as conn:
        yield conn


def ticks_of_a_day(start: int) -> list[dict[str, Any]]:
    """Trades and quotes of three instruments on two venues, every 90 s over a day."""
    ticks = []
    for n, ts in enumerate(range(start, start + DAY, 90_000_000)):
        for provider in ("binance", "kraken"):
            for i, instrument in enumerate(("BTC-USD", "ETH-USD", "SOL-USD")):
                price = 100.0 * (i + 1) + (n % 97) / 4
                ticks.append(trade(instrument, ts + i, price, (n % 7) / 4, provider=provider))
                ticks.append(quote(instrument, ts + i + 5, price - 0.5, price + 0.5, provider))
    return ticks


def bar(i: int, source: str, start: int) -> dict[str, Any]:
    price = 100.0 + i
    return {
        "provider": "binance",
        "instrument": "BTC-USD",
        "interval": "1m",
        "start_ts": start + i * MINUTE,
        "open": price,
        "high": price + 1,
        "low": price - 1,
        "close": price,
        "volume": 2.0,
        "tick_count": 0 if source == "yahoo" else 3,
        "source": source,
    }


def table(conn: psycopg.Connection, name: str) -> list[tuple[Any, ...]]:
    # Sorted here: rows tie on any short ORDER BY (a trade and a mid bar at one start).
    return sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr)


def compress_all(conn: psycopg.Connection, hypertable: str) -> None:
    chunks = conn.execute("SELECT c::text FROM show_chunks(%s::regclass) c", (hypertable,))
    compress = "SELECT compress_chunk(%s::regclass, if_not_compressed => true)"
    for (chunk,) in chunks.fetchall():
        # A server's job scheduler may run the compression policy on the same chunk meanwhile:
        # if_not_compressed is checked before the chunk is locked, so the loser of that race is
        # told the chunk is already compressed, which is all this asks.
        try:
            with conn.transaction():
                conn.execute(compress, (chunk,))
        except psycopg.errors.DuplicateObject:
            pass
    states = conn.execute(
        "SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = %s",
        (hypertable,),
    ).fetchall()
    assert states and all(compressed for (compressed,) in states)


def test_compression_uses_the_declared_segments_and_order(conn: psycopg.Connection) -> None:
    found: dict[str, tuple[list[str], list[tuple[str, bool]]]] = {}
    for table_name, column, segment, order, ascending in conn.execute(
        "SELECT hypertable_name, attname, segmentby_column_index, orderby_column_index, orderby_asc"
        " FROM timescaledb_information.compression_settings ORDER BY 1, 3, 4"
    ):
        segments, orders = found.setdefault(table_name, ([], []))
        if segment is not None:
            segments.append(column)
        if order is not None:
            orders.append((column, not ascending))
    assert found == COMPRESSION


def test_chunks_compress_and_read_back_whole(conn: psycopg.Connection) -> None:
    start = now_us() - 10 * DAY
    TickWriter(conn, AvroSerde().schema("tick")).write(ticks_of_a_day(start))
    bars = [BARS.to_row(bar(i, s, start)) for i in range(300) for s in ("trade", "mid")]
    TableWriter.for_table(conn, BARS).write(bars)
    before = {name: table(conn, name) for name in ("ticks", "bars")}
    for name in before:
        compress_all(conn, name)
    assert {name: table(conn, name) for name in before} == before


def test_replays_into_compressed_chunks_skip_duplicates_and_lose_nothing(
    conn: psycopg.Connection,
) -> None:
    start = now_us() - 10 * DAY
    ticks = TickWriter(conn, AvroSerde().schema("tick"))
    bars = TableWriter.for_table(conn, BARS)
    day = ticks_of_a_day(start)
    first_bars = [BARS.to_row(bar(i, "trade", start)) for i in range(200)]
    assert ticks.write(day[::2]) == len(day[::2])
    assert bars.write(first_bars) == len(first_bars)
    for name in ("ticks", "bars"):
        compress_all(conn, name)
    stored = {name: table(conn, name) for name in ("ticks", "bars")}

    # A replay of everything stored: each row meets its natural key in a compressed chunk.
    assert ticks.write(day[::2]) == 0
    assert bars.write(first_bars) == 0
    assert {name: table(conn, name) for name in stored} == stored

    # A redelivered batch mixing stored rows with new ones (other ticks of the day; vendor bars at
    # the very keys of the computed ones but for their source): exactly the new ones go in.
    assert ticks.write(day) == len(day) - len(day[::2])
    vendor = [BARS.to_row(bar(i, "yahoo", start)) for i in range(100, 300)]
    assert bars.write(first_bars + vendor) == len(vendor)
    assert len(table(conn, "ticks")) == len(day)
    assert len(table_rows(conn, "yahoo")) == len(vendor)
    assert sorted(table(conn, "bars")) == sorted(stored["bars"] + table_rows(conn, "yahoo"))
    assert set(stored["ticks"]) <= set(table(conn, "ticks"))


def table_rows(conn: psycopg.Connection, source: str) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT * FROM bars WHERE source = %s", (source,)).fetchall()


def bars_from_ticks(conn: psycopg.Connection, width: str) -> list[tuple[Any, ...]]:
    """The rollup computed straight from ticks: the definition the aggregates materialize."""
    return conn.execute(
        "SELECT provider, instrument, time_bucket(%s::interval, exchange_ts) AS start_ts,"
        " first(last_traded_price, exchange_ts), max(last_traded_price),"
        " min(last_traded_price), last(last_traded_price, exchange_ts),"
        " sum(coalesce(last_traded_volume, 0)), count(*)"
        " FROM ticks WHERE kind = 'trade' AND last_traded_price IS NOT NULL"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        (width,),
    ).fetchall()


def test_the_aggregates_give_the_bars_computed_from_ticks(conn: psycopg.Connection) -> None:
    # Materialized history (refreshed, then its ticks compressed) plus trades newer than the last
    # refresh, which real-time aggregation adds from ticks at query time.
    start = now_us() - 12 * DAY
    writer = TickWriter(conn, AvroSerde().schema("tick"))
    writer.write(ticks_of_a_day(start))
    for view in ("bars_1m", "bars_1h"):
        conn.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", (view,))
    compress_all(conn, "ticks")
    recent = now_us() - 3 * 60 * MINUTE
    writer.write([trade("BTC-USD", recent + i * MINUTE, 200.0 + i, 1.0) for i in range(90)])
    for view, width in (("bars_1m", "1 minute"), ("bars_1h", "1 hour")):
        rows = conn.execute(f"SELECT {BAR_COLUMNS} FROM {view} ORDER BY 1, 2, 3").fetchall()
        assert rows == bars_from_ticks(conn, width), view
        assert any(r[2] > datetime.now(UTC) - timedelta(hours=4) for r in rows), view
        # The day's buckets come from the materialization, not from the (now compressed) ticks.
        schema, name = conn.execute(
            "SELECT materialization_hypertable_schema, materialization_hypertable_name"
            " FROM timescaledb_information.continuous_aggregates WHERE view_name = %s",
            (view,),
        ).fetchone() or ("", "")
        materialized = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
        ).fetchone()
        cutoff = datetime.now(UTC) - timedelta(days=5)
        assert materialized == (sum(r[2] < cutoff for r in rows),), view


def job_ids(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    """(proc, relation) -> job id; a continuous aggregate's jobs under the aggregate's name."""
    rows = conn.execute(
        "SELECT j.proc_name, coalesce(c.view_name, j.hypertable_name, ''), j.job_id"
        " FROM timescaledb_information.jobs j"
        " LEFT JOIN timescaledb_information.continuous_aggregates c"
        "   ON c.materialization_hypertable_name = j.hypertable_name"
        " WHERE j.job_id >= 1000"
    ).fetchall()
    return {(proc, relation): job for proc, relation, job in rows}


def test_the_policies_exist_and_do_their_work(conn: psycopg.Connection) -> None:
    jobs = job_ids(conn)
    assert set(jobs) == {
        ("policy_refresh_continuous_aggregate", "bars_1m"),
        ("policy_refresh_continuous_aggregate", "bars_1h"),
        ("policy_compression", "ticks"),
        ("policy_compression", "signals"),
        ("policy_compression", "bars"),
        ("policy_retention", "ticks"),
        ("policy_retention", "signals"),
        ("policy_retention", "anomalies"),
        ("policy_retention", "bars_1m"),
        ("prune_rejects", ""),
    }
    writer = TickWriter(conn, AvroSerde().schema("tick"))
    old, aged, fresh = now_us() - 100 * DAY, now_us() - 10 * DAY, now_us() - 2 * DAY
    writer.write(
        [
            trade("BTC-USD", ts + i * MINUTE, 100.0, 1.0)
            for ts in (old, aged, fresh)
            for i in range(5)
        ]
    )

    def run(proc: str, relation: str) -> None:
        conn.execute("CALL run_job(%s)", (jobs[(proc, relation)],))

    run("policy_retention", "ticks")  # 90 days: the oldest day goes
    run("policy_compression", "ticks")  # 7 days: the aged day compresses, the fresh one not
    run("policy_refresh_continuous_aggregate", "bars_1m")  # the last 30 days
    chunks = conn.execute(
        "SELECT range_end < now() - '7 days'::interval, is_compressed"
        " FROM timescaledb_information.chunks WHERE hypertable_name = 'ticks' ORDER BY range_start"
    ).fetchall()
    assert chunks == [(True, True), (False, False)]
    day_count = conn.execute(
        "SELECT count(*) FROM bars_1m WHERE start_ts < now() - '1 day'::interval"
    ).fetchone()
    assert day_count == (10,)


def schema_state(conn: psycopg.Connection) -> tuple[Any, ...]:
    queries = (
        "SELECT proc_name, hypertable_name, schedule_interval, config::text"
        " FROM timescaledb_information.jobs ORDER BY 1, 2, 4",
        "SELECT * FROM timescaledb_information.compression_settings ORDER BY 1, 2, 3",
        "SELECT view_name, materialized_only, view_definition"
        " FROM timescaledb_information.continuous_aggregates ORDER BY 1",
        "SELECT tablename, indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = 'public' ORDER BY 1, 2",
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        "SELECT table_name, column_name, data_type, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' ORDER BY 1, 2",
    )
    return tuple(conn.execute(query).fetchall() for query in queries)


def test_every_migration_applied_again_changes_nothing(conn: psycopg.Connection) -> None:
    before = schema_state(conn)
    for _, _, migration in available():
        conn.execute(migration)
    assert schema_state(conn) == before


LATER_BAR_COLUMNS = ("adj_close", "revision")


def test_the_history_migrations_apply_over_compressed_chunks(timescale_server_url: str) -> None:
    # A database that ran the sink before 0011 with compression on: its old ticks and bars chunks
    # are compressed when the history migrations (new columns, the bars key by source, its
    # segments) arrive.
    with new_database(timescale_server_url) as url, psycopg.connect(url, autocommit=True) as conn:
        warnings: list[str] = []
        conn.add_notice_handler(
            lambda d: (
                warnings.append(d.message_primary or "")
                if d.severity_nonlocalized == "WARNING"
                else None
            )
        )
        later = []
        for version, _, migration in available():
            if version < 11:
                conn.execute(migration)
            else:
                later.append(migration)
        conn.execute(
            "INSERT INTO ticks (exchange_ts, received_ts, provider, instrument, kind, dedup_key,"
            " last_traded_price) SELECT now() - '40 days'::interval + i * '1 minute'::interval,"
            " now(), 'binance', 'BTC-USD', 'trade', 't' || i, 100 + i"
            " FROM generate_series(1, 500) i"
        )
        start = now_us() - 40 * DAY
        # The bars table before 0011: without adj_close (0011) and revision (0017).
        kept = [i for i, (name, _) in enumerate(BARS.columns) if name not in LATER_BAR_COLUMNS]
        TableWriter(conn, "bars", [BARS.columns[i] for i in kept], {"start_ts"}).write(
            [tuple(BARS.to_row(bar(i, "trade", start))[k] for k in kept) for i in range(100)]
        )
        for name in ("ticks", "bars"):
            compress_all(conn, name)
        for migration in later:
            conn.execute(migration)

        assert any("bars_tick_count_valid is not added" in w for w in warnings), warnings
        assert conn.execute("SELECT count(*) FROM ticks WHERE NOT history").fetchone() == (500,)
        bars = TableWriter.for_table(conn, BARS)
        replayed = [BARS.to_row(bar(i, "trade", start)) for i in range(100)]
        vendor = [BARS.to_row(bar(i, "yahoo", start)) for i in range(100)]
        assert bars.write(replayed + vendor) == len(vendor)
        assert conn.execute("SELECT count(*) FROM bars").fetchone() == (200,)
