"""The compose stack's database roles against a real PostgreSQL with TimescaleDB: db-roles.sh makes
a writer that can apply every sink migration without being a superuser, and an API login that reads
everything and writes nothing; run again, it follows new passwords."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import yaml

from tickwire_core.localstack._process import REPO_ROOT
from tickwire_sink.adapters.migrations import available, migrate
from tickwire_testing.db_roles import Login, new_logins
from tickwire_testing.db_roles import run_db_roles as run_script

pytestmark = pytest.mark.integration


@pytest.fixture
def logins(database_url: str) -> Iterator[tuple[Login, Login]]:
    """Role names of this test's own (roles are cluster-wide), dropped with what they own."""
    with new_logins(database_url) as pair:
        yield pair


def test_compose_gives_the_script_the_role_names_the_services_log_in_with() -> None:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    job = services["db-roles"]
    assert job["command"] == ["bash", "/tickwire/db-roles.sh"]
    assert "./deploy/compose/db-roles.sh:/tickwire/db-roles.sh:ro" in job["volumes"]
    for service, variable in (("sink", "SINK_DB_USER"), ("api", "API_DB_USER")):
        url = services[service]["environment"]["DATABASE_URL"]
        assert url.startswith(f"postgresql://{job['environment'][variable]}:"), service


def test_the_writer_migrates_and_the_api_login_only_reads(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    sink, api = logins
    result = run_script(database_url, sink, api)
    assert result.returncode == 0, result.stderr

    with psycopg.connect(sink.url(database_url)) as conn:
        assert migrate(conn) == [version for version, _, _ in available()]
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'ticks'")
        assert owner.fetchone() == (sink.user,)
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert superuser.fetchone() == (False,)

    with psycopg.connect(api.url(database_url), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM ticks").fetchone() == (0,)
        # Read-only twice over: by default for the login, and by privileges when it asks to write.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.execute("DELETE FROM ticks")
        reader.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("DELETE FROM ticks")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("CREATE TABLE not_allowed (x int)")


def test_a_second_run_changes_nothing_but_the_passwords(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    sink, api = logins
    assert run_script(database_url, sink, api).returncode == 0
    rotated_sink, rotated_api = (
        Login(sink.user, uuid.uuid4().hex),
        Login(api.user, uuid.uuid4().hex),
    )
    result = run_script(database_url, rotated_sink, rotated_api)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no "already exists", no "already a member"
    for login in (rotated_sink, rotated_api):
        with psycopg.connect(login.url(database_url)) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (login.user,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(sink.url(database_url)).close()


def test_the_script_refuses_to_run_without_a_password(
    database_url: str, logins: tuple[Login, Login]
) -> None:
    sink, api = logins
    result = run_script(database_url, sink, Login(api.user, ""))
    assert result.returncode != 0
    assert "API_DB_PASSWORD" in result.stderr
    with psycopg.connect(database_url) as admin:
        made = admin.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)", (sink.user, api.user)
        )
        assert made.fetchone() == (0,)
