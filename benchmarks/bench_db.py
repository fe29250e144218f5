"""What the benchmarks share: a fresh schema of their own in a database started by them or named by
DATABASE_URL, with the sink's migrations applied, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tickwire_sink.adapters.migrations import migrate


@contextlib.contextmanager
def fresh_schema(url: str, prefix: str) -> Iterator[str]:
    """`url` with a new schema first on its search path: fresh tables (the sink's migrations
    made there) in a database started here or in the one DATABASE_URL names; dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    in_schema = make_conninfo(url, options=f"-c search_path={schema},public")
    with psycopg.connect(url, autocommit=True) as conn:
        # Made here, not by the first migration under the search path, which would put it there.
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        with psycopg.connect(in_schema) as conn:
            migrate(conn)
        yield in_schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
