"""The API only reads: its connections refuse writes whatever role they log in as, and a login
role in tickwire_reader (made by the sink's migrations) can select but not write."""

import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration


def test_api_connections_are_read_only_and_the_reader_role_cannot_write(database_url) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    app = create_app(ApiSettings(DATABASE_URL=database_url, allow_anonymous=True))
    with TestClient(app) as client:
        assert client.get("/v1/instruments").status_code == 200
        pool = app.state.pool
        with pool.connection() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM ticks")

    user, password = f"api_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE tickwire_reader").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )
    try:
        url = psycopg.conninfo.make_conninfo(database_url, user=user, password=password)
        with psycopg.connect(url, autocommit=True) as reader:
            assert reader.execute("SELECT count(*) FROM bars").fetchone() == (0,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("DELETE FROM ticks")
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(user)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(user)))
