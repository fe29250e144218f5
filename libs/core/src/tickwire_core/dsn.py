"""Database addresses as people see them (messages, banners, logs): where the database is, never
the credentials a connection string carries."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict


def database_display(database_url: str) -> str:
    """host:port/name, for URLs and key=value connection strings alike."""
    params = conninfo_to_dict(database_url)
    host = str(params.get("host") or "localhost")
    port = f":{params['port']}" if params.get("port") else ""
    return f"{host}{port}/{params.get('dbname') or ''}"
