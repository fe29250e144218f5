"""The job log against the real database and broker: `tickwire migrate`, `tickwire topics` and
`tickwire backfill` each leave one job_runs row per run, succeeded, failed or interrupted (SIGTERM
to the running command), with its arguments, rows and error."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tickwire_core.topics import load_topics
from tickwire_sink.adapters.migrations import available
from tickwire_testing.cli import as_url

pytestmark = pytest.mark.integration

LAUNCHER = str(Path(__file__).with_name("fake_history.py"))
MIGRATIONS_LOCK = 0x7469636B  # the advisory lock `tickwire migrate` takes
COLUMNS = "job, status, rows, error, arguments, finished_at IS NOT NULL"


def job_runs(url: str, job: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT {COLUMNS} FROM job_runs WHERE job = %s ORDER BY id", (job,)
        ).fetchall()


def wait_until(condition: Any, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout_s:.0f}s"
        time.sleep(0.1)


def waiting_for_the_lock(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    return row is not None and row[0] > 0


def test_migrate_logs_its_first_run_once_the_table_exists_then_every_run(
    tickwire, database_url
) -> None:
    migrate = tickwire.with_env(DATABASE_URL=as_url(database_url))
    assert migrate("migrate").returncode == 0
    assert migrate("migrate").returncode == 0
    assert job_runs(database_url, "migrate") == [
        ("migrate", "succeeded", len(available()), None, {}, True),
        ("migrate", "succeeded", 0, None, {}, True),
    ]


def test_a_migrate_that_fails_is_logged_failed(tickwire, migrated) -> None:
    # The lock held elsewhere and a short lock_timeout: the run fails waiting for it.
    migrate = tickwire.with_env(DATABASE_URL=as_url(migrated), PGOPTIONS="-c lock_timeout=300")
    with psycopg.connect(migrated) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))
        done = migrate("migrate")
    assert done.returncode == 1
    [(job, status, rows, error, _, finished)] = job_runs(migrated, "migrate")
    assert (job, status, rows, finished) == ("migrate", "failed", None, True)
    assert error.startswith("migrations failed on ") and "lock timeout" in error


def test_a_migrate_stopped_by_sigterm_is_logged_interrupted(tickwire, migrated) -> None:
    migrate = tickwire.with_env(DATABASE_URL=as_url(migrated))
    with psycopg.connect(migrated) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))
        running = migrate.start("migrate")
        wait_until(lambda: waiting_for_the_lock(migrated), "migrate waiting for the lock")
        running.process.send_signal(signal.SIGTERM)
        code = running.process.wait(30)
        running.kill()
    assert code == 128 + signal.SIGTERM
    assert job_runs(migrated, "migrate") == [
        ("migrate", "interrupted", None, "stopped by SIGTERM", {}, True)
    ]


def test_topics_create_and_check_are_logged(tickwire, stack, migrated) -> None:
    topics = tickwire.with_env(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        TICKWIRE_TOPIC_PREFIX=f"j{uuid.uuid4().hex[:10]}.",
        DATABASE_URL=as_url(migrated),
    )
    table = load_topics()
    assert topics("topics", "check").returncode == 1  # nothing created yet
    assert topics("topics", "create").returncode == 0
    assert topics("topics", "check").returncode == 0
    [failed, created, checked] = job_runs(migrated, "topics-check")
    assert failed[:2] == ("topics-check", "failed")
    bootstrap = stack.kafka_bootstrap_servers
    assert failed[3] == f"{len(table)} differences between {bootstrap} and the topic table"
    assert created == (
        "topics-check", "succeeded", len(table), None,
        {"action": "create", "replication_factor": 1}, True,
    )  # fmt: skip
    assert checked == ("topics-check", "succeeded", len(table), None, {"action": "check"}, True)


def backfill(cli: Any, *args: str, page_s: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, LAUNCHER, "backfill", *args, "--no-wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env, "FAKE_HISTORY_PAGE_S": str(page_s)},
    )


RANGE = ["--since", "2024-01-01", "--until", "2024-01-21"]  # 20 daily rows an instrument


def test_a_backfill_is_one_logged_run_whatever_its_instruments(cli, migrated) -> None:
    done = backfill(cli, "fake", "--instruments", "AAA,BBB", *RANGE)
    _, err = done.communicate(timeout=180)
    assert done.returncode == 0, err
    arguments = {"source": "fake", "instruments": "AAA,BBB", "since": "2024-01-01",
                 "until": "2024-01-21"}  # fmt: skip
    assert job_runs(migrated, "backfill") == [("backfill", "succeeded", 40, None, arguments, True)]


def test_a_backfill_with_a_failed_instrument_is_logged_failed(cli, migrated, tmp_path) -> None:
    config = tmp_path / "nightly.toml"
    config.write_text(
        '[[job]]\nsource = "fake"\ninstruments = ["AAA", "NOPE"]\nsince = 2024-01-01\n'
        "until = 2024-01-05\n"
    )
    done = backfill(cli, "--config", str(config))
    _, err = done.communicate(timeout=180)
    assert done.returncode == 1, err
    assert job_runs(migrated, "backfill") == [
        ("backfill", "failed", 4, "1 of 2 failed: fake NOPE: fake: no instrument NOPE",
         {"config": str(config)}, True),
    ]  # fmt: skip


def test_a_backfill_stopped_by_sigterm_is_logged_interrupted(cli, migrated) -> None:
    running = backfill(cli, "fake", "--instruments", "AAA", *RANGE, page_s=0.4)

    def published() -> bool:
        with psycopg.connect(migrated) as conn:
            row = conn.execute("SELECT max(published) FROM backfill_runs").fetchone()
        return row is not None and (row[0] or 0) > 0

    wait_until(published, "page published")
    running.send_signal(signal.SIGTERM)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 130, err
    [(job, status, rows, error, _, finished)] = job_runs(migrated, "backfill")
    with psycopg.connect(migrated) as conn:
        row = conn.execute("SELECT published FROM backfill_runs").fetchone()
    assert row is not None
    assert (job, status, rows, error, finished) == (
        "backfill", "interrupted", row[0], "stopped by SIGTERM", True,
    )  # fmt: skip
    assert 0 < rows < 20
