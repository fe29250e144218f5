"""The compose stack's database roles for tests: deploy/compose/db-roles.sh run as its job runs it,
and logins of a test's own (roles are cluster-wide), dropped with what they own."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tickwire_core.localstack._process import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy" / "compose" / "db-roles.sh"


@dataclass(frozen=True)
class Login:
    user: str
    password: str

    def url(self, database_url: str) -> str:
        return psycopg.conninfo.make_conninfo(database_url, user=self.user, password=self.password)


def run_db_roles(database_url: str, sink: Login, api: Login) -> subprocess.CompletedProcess[str]:
    """The script as the db-roles job runs it: libpq's variables say where, as the administrator."""
    admin = psycopg.conninfo.conninfo_to_dict(database_url)
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": str(admin.get("host", "")),
        "PGPORT": str(admin.get("port", "5432")),
        "PGUSER": str(admin["user"]),
        "PGPASSWORD": str(admin.get("password", "")),
        "PGDATABASE": str(admin["dbname"]),
        "SINK_DB_USER": sink.user,
        "SINK_DB_PASSWORD": sink.password,
        "API_DB_USER": api.user,
        "API_DB_PASSWORD": api.password,
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


@contextmanager
def new_logins(database_url: str) -> Iterator[tuple[Login, Login]]:
    """A sink and an API login of fresh names, dropped (with what they own) on the way out."""
    tag = uuid.uuid4().hex[:8]
    sink, api = Login(f"sink_{tag}", uuid.uuid4().hex), Login(f"api_{tag}", uuid.uuid4().hex)
    try:
        yield sink, api
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            for login in (sink, api):
                role = sql.Identifier(login.user)
                exists = admin.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (login.user,)
                ).fetchone()
                if exists:
                    admin.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(role))
                    admin.execute(sql.SQL("DROP OWNED BY {}").format(role))
                    admin.execute(sql.SQL("DROP ROLE {}").format(role))
