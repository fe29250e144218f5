"""The API's database connections: every transaction read-only, whatever role the URL names, and
times in UTC whatever the server's TimeZone, keeping any options the URL itself carries (a
search_path, say)."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo

READ_ONLY = "-c default_transaction_read_only=on -c TimeZone=UTC"


def read_only_conninfo(database_url: str) -> str:
    own = str(conninfo_to_dict(database_url).get("options") or "")
    return make_conninfo(
        database_url,
        options=f"{own} {READ_ONLY}".strip(),
        application_name="tickwire-api",
    )
