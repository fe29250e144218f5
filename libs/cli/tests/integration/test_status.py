"""`tickwire status` against the real database: the local run's processes from their pid files,
each instance's heartbeat and each feed's freshness as the sink stores them, and what it says
when the database cannot be reached."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tickwire_sink.adapters.migrations import migrate
from tickwire_testing.forward import loopback_forward

pytestmark = pytest.mark.integration


@pytest.fixture
def sink_process(tmp_path: Path) -> Iterator[int]:
    """A process the state dir records as the sink (its command line names tickwire_sink)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "tickwire_sink"]
    )
    pid_file = tmp_path / "state" / "services" / "sink.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{process.pid}\n")
    yield process.pid
    process.kill()
    process.wait()


@pytest.fixture
def status_rows(database_url: str) -> str:
    """A migrated database holding two heartbeats (one recent, one old) and two feeds."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO service_status (service, instance, heartbeat_at, rows_in, rows_out,"
            " rows_refused, circuit, last_error, lag) VALUES"
            " ('sink', 'local-sink', now() - interval '2 seconds', 120, 118, 2, 'closed',"
            "  'db_refused: 2 rows', 7),"
            " ('normalize', 'n-1', now() - interval '10 minutes', 5, 5, 0, 'open', NULL, NULL)"
        )
        conn.execute(
            "UPDATE service_status SET unmapped_fields = %s WHERE instance = 'n-1'",
            ['{"deribit": {"params.data.new_field": 3, "x": 9}}'],
        )
        conn.execute(
            "INSERT INTO feed_status (provider, instrument, last_exchange_ts, ticks, gaps,"
            " last_gap_reason) VALUES"
            " ('simulator', 'SIM-BTC-USD', now() - interval '1 second', 40, 0, NULL),"
            " ('binance', 'BTCUSDT', now() - interval '3 hours', 9, 2, 'disconnect')"
        )
    return database_url


def test_status_shows_processes_heartbeats_and_feeds(tickwire, sink_process, status_rows) -> None:
    rows = tickwire.with_env(DATABASE_URL=status_rows).json_lines("status")
    processes = {r["name"]: (r["state"], r["pid"]) for r in rows if r["kind"] == "process"}
    assert processes == {
        "runner": ("stopped", None),
        "kafka": ("stopped", None),
        "postgres": ("stopped", None),
        "sink": ("running", sink_process),
        "normalize": ("stopped", None),
        "signals": ("stopped", None),
        "ingest": ("stopped", None),
        "api": ("stopped", None),
    }
    services = {r["name"]: r for r in rows if r["kind"] == "service"}
    assert set(services) == {"sink/local-sink", "normalize/n-1"}
    sink = services["sink/local-sink"]
    assert sink["state"] == "alive" and 1 <= sink["age_s"] < 30
    assert (sink["rows_in"], sink["rows_out"], sink["rows_refused"], sink["lag"]) == (
        120,
        118,
        2,
        7,
    )
    assert (sink["circuit"], sink["detail"]) == ("closed", "db_refused: 2 rows")
    assert services["normalize/n-1"]["state"] == "silent"
    assert services["normalize/n-1"]["circuit"] == "open"
    feeds = {r["name"]: r for r in rows if r["kind"] == "feed"}
    assert feeds["simulator/SIM-BTC-USD"]["state"] == "fresh"
    assert feeds["simulator/SIM-BTC-USD"]["detail"] == "ticks 40, gaps 0"
    assert feeds["binance/BTCUSDT"]["state"] == "stale"
    assert feeds["binance/BTCUSDT"]["age_s"] >= 3 * 3600
    assert feeds["binance/BTCUSDT"]["detail"] == "ticks 9, gaps 2 (last: disconnect)"
    unread = [(r["name"], r["state"], r["detail"]) for r in rows if r["kind"] == "unmapped"]
    assert unread == [("deribit", "unread fields", "x (9), params.data.new_field (3)")]


def test_status_shows_the_last_run_of_each_job(tickwire, status_rows) -> None:
    with psycopg.connect(status_rows, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO job_runs (job, started_at, finished_at, status, rows, error) VALUES"
            " ('backfill', now() - interval '2 days', now() - interval '47 hours', 'failed',"
            "  NULL, 'old failure'),"
            " ('backfill', now() - interval '1 day', now() - interval '23 hours', 'succeeded',"
            "  182400, NULL),"
            " ('quality', now() - interval '3 hours', now() - interval '2 hours', 'failed',"
            "  NULL, 'no data for 2024-05-01'),"
            " ('lake-export', now() - interval '20 minutes', NULL, 'running', NULL, NULL)"
        )
    rows = tickwire.with_env(DATABASE_URL=status_rows).json_lines("status")
    jobs = {r["name"]: r for r in rows if r["kind"] == "job"}
    assert {n: (r["state"], r["rows_out"], r["detail"]) for n, r in jobs.items()} == {
        "backfill": ("succeeded", 182400, None),
        "lake-export": ("running", None, None),
        "quality": ("failed", None, "no data for 2024-05-01"),
    }
    assert 23 * 3600 <= jobs["backfill"]["age_s"] < 23 * 3600 + 60
    assert 20 * 60 <= jobs["lake-export"]["age_s"] < 21 * 60  # running: since it started


def test_the_heartbeat_timeout_decides_what_is_alive(tickwire, status_rows) -> None:
    rows = tickwire.with_env(DATABASE_URL=status_rows).json_lines(
        "status", "--heartbeat-timeout", "900"
    )
    states = {r["name"]: r["state"] for r in rows if r["kind"] == "service"}
    assert states == {"sink/local-sink": "alive", "normalize/n-1": "alive"}


def test_nothing_running_and_no_live_heartbeat_exits_3(tickwire, database_url) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        migrate(conn)
        conn.execute("INSERT INTO job_runs (job) VALUES ('backfill')")  # killed: still 'running'
    rows = tickwire.with_env(DATABASE_URL=database_url).json_lines("status", code=3)
    assert {r["kind"] for r in rows} == {"process", "job"}
    assert all(r["state"] == "stopped" for r in rows if r["kind"] == "process")


def test_an_unreachable_database_still_shows_the_processes(tickwire, sink_process) -> None:
    # No DATABASE_URL: the local run's database, on a port where nothing listens.
    done = tickwire("status")
    assert done.returncode == 0, done.stderr  # the sink process runs
    assert "Traceback" not in done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["name"] for r in rows if r["state"] == "running"] == ["sink"]
    [database] = [r for r in rows if r["kind"] == "database"]
    assert database["state"] == "unreachable"
    port = tickwire.env["TICKWIRE_PG_PORT"]
    assert database["name"] == f"127.0.0.1:{port}/tickwire"
    assert "Connection refused" in database["detail"]


def test_a_database_without_the_status_tables_says_to_migrate(tickwire, database_url) -> None:
    rows = tickwire.with_env(DATABASE_URL=database_url).json_lines("status", code=3)
    [database] = [r for r in rows if r["kind"] == "database"]
    assert database["state"] == "not migrated"
    assert "tickwire migrate" in database["detail"]


def test_without_database_url_it_reads_the_local_run_password(tickwire, stack, tmp_path) -> None:
    """The local run's database is 127.0.0.1:TICKWIRE_PG_PORT/tickwire, as the user tickwire, with
    the password its PostgreSQL generated into the state dir: here the suite's own server (whose
    user and database have those names in every mode), reached through a loopback port."""
    info = conninfo_to_dict(stack.database_url)
    assert (info["user"], info["dbname"]) == ("tickwire", "tickwire")
    with loopback_forward(str(info["host"]), int(info.get("port") or 5432)) as port:
        check_the_local_run_password(tickwire, tmp_path, str(info["password"]), port)


def check_the_local_run_password(tickwire, tmp_path, password: str, port: int) -> None:
    postgres_dir = tmp_path / "state" / "postgres"
    postgres_dir.mkdir(parents=True)
    (postgres_dir / "password").write_text(f"{password}\n")
    local = tickwire.with_env(TICKWIRE_PG_PORT=str(port))
    done = local("status")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r for r in rows if r["kind"] == "database" and r["state"] != "not migrated"] == []
    (postgres_dir / "password").write_text("wrong\n")
    rows = [json.loads(line) for line in local("status").stdout.splitlines()]
    [database] = [r for r in rows if r["kind"] == "database"]
    assert database["state"] == "unreachable" and "password" in database["detail"]
