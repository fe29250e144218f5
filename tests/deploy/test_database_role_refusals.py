"""What each database login may not do, tried against a real PostgreSQL with TimescaleDB after
db-roles.sh and the sink's migrations: the API's login writes nothing and reads only what the API
serves, the sink's creates no role and no database; PostgreSQL refuses each (42501)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tickwire_sink.adapters.migrations import migrate
from tickwire_testing.db_roles import Login, new_logins, run_db_roles

pytestmark = pytest.mark.integration

# What the API's routes read. Every other relation of the schema is the pipeline's own.
SERVED = {
    "ticks", "bars", "bars_1m", "bars_1h", "anomalies", "signals", "feed_status",
    "service_status", "short_volume", "short_interest", "quality_daily", "job_runs",
}  # fmt: skip
# Dead letters keep raw vendor payloads; runs and watermarks, the jobs' arguments and progress.
NOT_SERVED = {
    "rejects", "deadletter_redrives", "dedup_tallies", "backfill_runs", "backfill_watermarks",
    "schema_migrations",
}  # fmt: skip
WRITABLE = {"ticks", "bars", "anomalies", "signals", "feed_status", "service_status"}
WRITABLE |= {"short_volume", "short_interest", "quality_daily", "job_runs", "rejects"}
WRITABLE |= {"deadletter_redrives", "dedup_tallies", "backfill_runs", "backfill_watermarks"}
WRITABLE |= {"schema_migrations"}


@pytest.fixture
def logins(database_url: str) -> Iterator[tuple[Login, Login]]:
    """The compose stack's two logins, made by its script, with the schema migrated by the sink."""
    with new_logins(database_url) as (sink, api):
        result = run_db_roles(database_url, sink, api)
        assert result.returncode == 0, result.stderr
        with psycopg.connect(sink.url(database_url)) as conn:
            migrate(conn)
        yield sink, api


def refused(conn: psycopg.Connection, statement: str) -> str | None:
    """None when PostgreSQL refuses `statement` for want of privilege, else what happened."""
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return None
    except psycopg.Error as exc:
        return f"{statement}: {exc.sqlstate} {exc}"
    return f"{statement}: allowed"


def relations(conn: psycopg.Connection) -> set[str]:
    found = conn.execute(
        "SELECT relname FROM pg_class JOIN pg_namespace n ON n.oid = relnamespace"
        " WHERE nspname = 'public' AND relkind IN ('r', 'p', 'v', 'm')"
    )
    return {name for (name,) in found}


def test_every_relation_is_either_served_or_the_pipelines_own(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    # A new table makes this fail until someone decides whether the API's login may read it.
    with psycopg.connect(database_url) as admin:
        assert relations(admin) == SERVED | NOT_SERVED


def test_the_api_login_reads_what_the_api_serves_and_nothing_else(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    _, api = logins
    with psycopg.connect(api.url(database_url), autocommit=True) as reader:
        for name in sorted(SERVED):
            reader.execute(f"SELECT count(*) FROM {name}")
        failures = [refused(reader, f"SELECT * FROM {name} LIMIT 1") for name in NOT_SERVED]
    assert [f for f in failures if f] == []


def test_the_api_login_cannot_write_even_when_it_turns_read_only_off(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    _, api = logins
    with psycopg.connect(database_url) as admin:
        first_column = dict(
            admin.execute(
                "SELECT table_name, min(column_name) FROM information_schema.columns"
                " WHERE table_schema = 'public' GROUP BY table_name"
            ).fetchall()
        )
    statements = []
    for name in sorted(WRITABLE):
        statements += [
            f"INSERT INTO {name} DEFAULT VALUES",
            f"UPDATE {name} SET {first_column[name]} = {first_column[name]}",
            f"DELETE FROM {name}",
            f"TRUNCATE {name}",
        ]
    statements += [
        "CREATE TABLE public.planted (x int)",
        "CREATE TEMPORARY TABLE planted (x int)",
        "CREATE SCHEMA planted",
        "CREATE VIEW planted AS SELECT 1",
        "SELECT nextval('job_runs_id_seq')",
        "SELECT nextval('backfill_runs_id_seq')",
        "SELECT lo_create(0)",
        "CREATE ROLE planted",
        "CREATE DATABASE planted",
        "COPY ticks FROM PROGRAM 'true'",
        "COPY (SELECT 1) TO '/tmp/planted'",
        "SELECT pg_read_file('/etc/passwd')",
        "ALTER SYSTEM SET log_statement = 'none'",
    ]
    with psycopg.connect(api.url(database_url), autocommit=True) as reader:
        # Its default refuses every write first; a caller with its password can undo that.
        assert refused(reader, "DELETE FROM ticks") == (
            "DELETE FROM ticks: 25006 cannot execute DELETE in a read-only transaction"
        )
        reader.execute("SET default_transaction_read_only = off")
        failures = [refused(reader, statement) for statement in statements]
    assert [f for f in failures if f] == []


def test_the_sink_login_cannot_create_roles_or_databases(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    sink, api = logins
    statements = [
        "CREATE ROLE planted LOGIN PASSWORD 'planted'",
        "CREATE USER planted",
        "CREATE DATABASE planted",
        f"ALTER ROLE {sink.user} CREATEROLE",
        f"ALTER ROLE {sink.user} CREATEDB",
        f"ALTER ROLE {sink.user} SUPERUSER",
        f"ALTER ROLE {api.user} PASSWORD 'planted'",
        f"GRANT pg_read_server_files TO {sink.user}",
        f"GRANT tickwire_reader TO {sink.user}",
        "COPY ticks FROM PROGRAM 'true'",
        "ALTER SYSTEM SET log_statement = 'none'",
    ]
    with psycopg.connect(sink.url(database_url), autocommit=True) as writer:
        failures = [refused(writer, statement) for statement in statements]
    assert [f for f in failures if f] == []
