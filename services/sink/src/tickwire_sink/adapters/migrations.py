"""Versioned schema migrations (tickwire_sink/migrations/NNNN_name.sql), applied in order at
start-up under an advisory lock, so several sink replicas starting at once apply each only once."""

from __future__ import annotations

import logging
from functools import partial
from importlib import resources

import psycopg

logger = logging.getLogger(__name__)

_LOCK_KEY = 0x7469636B  # "tick": one advisory lock id for tickwire migrations


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the sink, oldest first."""
    found = []
    for entry in resources.files("tickwire_sink.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append((int(version), name, entry.read_text()))
    return sorted(found)


def _log_notice(version: int, diagnostic: psycopg.errors.Diagnostic) -> None:
    # A migration explains a choice it made (a fallback for a missing feature) in a NOTICE, which
    # psycopg drops unless a handler takes it.
    level = logging.WARNING if diagnostic.severity_nonlocalized == "WARNING" else logging.INFO
    logger.log(level, "migration version=%d says: %s", version, diagnostic.message_primary)


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the migrations this database lacks; returns the versions applied."""
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in available():
            if version in done:
                continue
            logger.info("applying migration version=%d name=%s", version, name)
            log_notice = partial(_log_notice, version)
            conn.add_notice_handler(log_notice)
            try:
                conn.execute(sql)  # our own files, not user input
            finally:
                conn.remove_notice_handler(log_notice)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
            )
            applied_now.append(version)
    return applied_now


def schema_ready(database_url: str) -> bool:
    """The database answers and holds the migrated schema (the sink's readiness)."""
    with psycopg.connect(database_url, connect_timeout=2) as conn:
        return conn.execute("SELECT to_regclass('ticks') IS NOT NULL").fetchone() == (True,)
