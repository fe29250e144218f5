"""The API across a dropped database connection: the pool replaces a connection the server closed
while it sat idle, and a connection that breaks under a request is a 503 with Retry-After."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

APP = "tickwire-api"  # the application_name of the API's connections


def drop_api_connections(database_url: str) -> int:
    """Terminate every connection of the API, as a server restart or a failover does."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            [APP],
        ).fetchall()
    return len(rows)


def test_a_connection_dropped_while_idle_is_replaced_before_a_request_gets_it(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = ApiSettings(DATABASE_URL=database_url, allow_anonymous=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/v1/instruments").status_code == 200
        assert drop_api_connections(database_url) >= 1
        for _ in range(3):  # whichever pooled connection each request is given
            again = client.get("/v1/instruments")
            assert again.status_code == 200, again.text


def test_a_connection_that_breaks_under_a_request_is_a_503_with_retry_after(
    database_url: str,
) -> None:
    """The statement itself ends the connection: the server closes it mid-request."""
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = ApiSettings(DATABASE_URL=database_url, allow_anonymous=True)
    app = create_app(settings)

    @app.get("/v1/broken")
    def broken() -> None:  # the route runs in the pool's connection, as every /v1 route does
        with app.state.pool.connection() as conn:
            conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    with TestClient(app, raise_server_exceptions=False) as client:
        refused = client.get("/v1/broken")
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        assert "try again later" in refused.json()["detail"]
        assert client.get("/v1/instruments").status_code == 200
