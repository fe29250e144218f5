"""The API's database connections: every transaction read-only, whatever role the URL names, and
times in UTC whatever the server's TimeZone, keeping any options the URL itself carries (a
search_path, say)."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

READ_ONLY = "-c default_transaction_read_only=on -c TimeZone=UTC"


def read_only_conninfo(database_url: str) -> str:
    own = str(conninfo_to_dict(database_url).get("options") or "")
    return make_conninfo(
        database_url,
        options=f"{own} {READ_ONLY}".strip(),
        application_name="tickwire-api",
    )


def open_pool(database_url: str, size: int) -> ConnectionPool:
    """A read-only pool, open without waiting: the API serves (and answers /readyz with 503)
    even while the database is still coming up, and the pool keeps trying in the background."""
    pool = ConnectionPool(
        read_only_conninfo(database_url),
        min_size=1,
        max_size=size,
        open=False,
        # A connection the server dropped while idle (a restart, a failover) is replaced before a
        # request gets it: one round trip per request, against a 503 after every restart.
        check=ConnectionPool.check_connection,
    )
    pool.open(wait=False)
    return pool


def has_ticks_table(pool: ConnectionPool, timeout_s: float = 2.0) -> bool:
    """The database answers within `timeout_s` and holds the ticks table (raises if it does not
    answer: the caller says why it is not ready)."""
    with pool.connection(timeout=timeout_s) as conn:
        found = conn.execute("SELECT to_regclass('ticks') IS NOT NULL").fetchone()
    return found == (True,)
