"""LocalPostgres against the real thing: PostgreSQL with TimescaleDB built by
scripts/install-timescaledb.sh (a no-op once installed), started in a temporary directory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from tickwire_core.localstack._process import pid_alive, port_open, versions
from tickwire_core.localstack.postgres import LocalPostgres

pytestmark = pytest.mark.integration


def test_starts_with_timescaledb_and_stops_cleanly(tmp_path: Path) -> None:
    # As root the server runs as the postgres account, and tmp_path's parents are private to root
    # (mode 700): start() itself grants that account search permission on them, so a state dir
    # anywhere works, pytest's tmp_path included.
    pg = LocalPostgres(tmp_path / "pg", fast_unsafe=True)
    pg.start()
    try:
        assert pg.license in {"apache", "timescale"}
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            ).fetchone()
            assert row == (versions()["TIMESCALEDB_VERSION"],)

            conn.execute(
                "CREATE TABLE ticks (ts timestamptz NOT NULL, symbol text NOT NULL, price numeric)"
            )
            conn.execute("SELECT create_hypertable('ticks', by_range('ts'))")
            conn.execute("INSERT INTO ticks VALUES ('2025-01-02 10:15:00+00', 'ABC', 101.5)")
            rows = conn.execute(
                "SELECT time_bucket('1 hour', ts), symbol, price FROM ticks"
            ).fetchall()
        assert [(b, s, float(p)) for b, s, p in rows] == [
            (dt.datetime(2025, 1, 2, 10, tzinfo=dt.UTC), "ABC", 101.5)
        ]
        pid = int((tmp_path / "pg" / "postgres.pid").read_text())
    finally:
        pg.stop()

    assert not pid_alive(pid, str(tmp_path / "pg" / "data"))
    assert not port_open(pg.port)
