"""pytest plugin (enabled in pyproject): the session's real Kafka broker and PostgreSQL with
TimescaleDB, in the mode TICKWIRE_TEST_STACK names (docs/testing.md has the three):

- `local` (the default): each of the two is started by the suite itself as a local process, on a
  free port in a directory of its own, unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL name it;
- `env`: both are the ones KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL name (a compose stack, a CI
  service), and a missing one is an error;
- `containers`: both run as containers through testcontainers on the Docker API of DOCKER_HOST
  (container_stack), and an address in the environment is an error.

A real S3-compatible object store (SeaweedFS) is started as a local process in every mode,
unless AWS_ENDPOINT_URL with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY names one.
TICKWIRE_TIMESCALEDB_LICENSE picks the database's build as for `make run` (the full one by
default, locally). `timescale_server_url` and `apache_server_url` are servers of either build,
for the tests of each path: the stack's own where it fits, else the one
TICKWIRE_TEST_TIMESCALE_DATABASE_URL / TICKWIRE_TEST_APACHE_DATABASE_URL names, else a second
server started as the stack's was (a local process, or a container); in `env` mode a missing one
is an error. Nothing here skips: a stack that cannot start fails the tests that need it."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql

from tickwire_core.errors import ConfigError
from tickwire_core.topics import create_topics

if TYPE_CHECKING:  # pyarrow loads only in sessions that use the object store
    from tickwire_testing.objectstore import ObjectStore, S3Bucket


@dataclass(frozen=True)
class Stack:
    kafka_bootstrap_servers: str
    database_url: str
    # A second server of the given TimescaleDB build, started the way this stack's was; None: a
    # local PostgreSQL.
    other_server: Callable[[str], AbstractContextManager[str]] | None = field(
        default=None, compare=False
    )


STACK_MODE_VAR = "TICKWIRE_TEST_STACK"
# Servers of each TimescaleDB build the stack's own server is not, named by the environment.
SERVER_VARS = {
    "timescale": "TICKWIRE_TEST_TIMESCALE_DATABASE_URL",
    "apache": "TICKWIRE_TEST_APACHE_DATABASE_URL",
}
STACK_MODES = ("local", "env", "containers")
ADDRESS_VARS = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")


def stack_mode(environ: Mapping[str, str]) -> str:
    """The mode TICKWIRE_TEST_STACK names, `local` when unset; a mode whose settings contradict
    the environment's is refused, never replaced by another."""
    mode = environ.get(STACK_MODE_VAR, "").strip() or "local"
    if mode not in STACK_MODES:
        raise ConfigError(f"{STACK_MODE_VAR}={mode!r}: expected one of {', '.join(STACK_MODES)}")
    given = [var for var in ADDRESS_VARS if environ.get(var)]
    if mode == "env" and len(given) < len(ADDRESS_VARS):
        missing = " and ".join(var for var in ADDRESS_VARS if var not in given)
        raise ConfigError(f"{STACK_MODE_VAR}=env needs {missing} in the environment")
    if mode == "containers" and given:
        raise ConfigError(
            f"{STACK_MODE_VAR}=containers starts its own broker and database, but "
            f"{' and '.join(given)} name others: unset them, or choose {STACK_MODE_VAR}=env"
        )
    return mode


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from tickwire_core.localstack.timescaledb import requested_license

    mode = stack_mode(os.environ)
    if mode == "containers":
        from tickwire_testing.container_stack import ContainerStack

        containers = ContainerStack(os.environ, requested_license(os.environ))
        try:
            containers.start()
            yield Stack(
                containers.kafka_bootstrap_servers,
                containers.database_url,
                other_server=containers.other_server,
            )
        finally:
            containers.stop()
    else:
        yield from local_stack(tmp_path_factory)


def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The `local` and `env` modes: the given addresses, and local processes for the rest."""
    from tickwire_core.localstack.kafka import LocalKafka
    from tickwire_core.localstack.postgres import LocalPostgres
    from tickwire_core.localstack.timescaledb import requested_license

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database_url = os.environ.get("DATABASE_URL")
    kafka = postgres = None
    # PostgreSQL runs as the postgres user and needs to traverse its data directory's parents.
    # Another pytest session started meanwhile resets /tmp/pytest-of-<user> to mode 700 (and
    # prunes old session directories), which would pull the ground from under a running server:
    # its data lives in a directory of its own instead, removed at the end of the session.
    pg_root = Path(tempfile.mkdtemp(prefix="tickwire-test-postgres-"))
    try:
        if not bootstrap:
            kafka = LocalKafka(tmp_path_factory.mktemp("kafka"))
            kafka.start()
            bootstrap = kafka.bootstrap_servers
        if not database_url:
            # Throwaway cluster: durability settings off for speed, never for a real database;
            # no job scheduler: a policy compressing or pruning rows under a running test makes
            # it fail at random (the tests that need a policy run it with run_job).
            postgres = LocalPostgres(
                pg_root / "postgres",
                fast_unsafe=True,
                timescaledb_license=requested_license(os.environ),
                background_jobs=False,
            )
            postgres.start()
            database_url = postgres.dsn
        yield Stack(bootstrap, database_url)
    finally:
        if kafka is not None:
            kafka.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(pg_root, ignore_errors=True)


@pytest.fixture(scope="session")
def object_store() -> Iterator[ObjectStore]:
    """An S3 endpoint and its keys: the environment's (AWS_ENDPOINT_URL and keys) or a SeaweedFS
    started here, stopped at the end of the session."""
    from tickwire_core.localstack.objectstore import REGION, LocalObjectStore
    from tickwire_testing.objectstore import ObjectStore

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        yield ObjectStore(
            endpoint,
            os.environ.get("AWS_ACCESS_KEY_ID", ""),
            os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
            os.environ.get("AWS_REGION") or REGION,
        )
        return
    root = Path(tempfile.mkdtemp(prefix="tickwire-test-s3-"))
    store = LocalObjectStore(root)
    try:
        store.start()
        yield ObjectStore(store.endpoint_url, store.access_key, store.secret_key, REGION)
    finally:
        store.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def s3_bucket(object_store: ObjectStore) -> Iterator[S3Bucket]:
    """A new, empty bucket on the object store, deleted with its objects after the test."""
    from tickwire_testing.objectstore import new_bucket

    with new_bucket(object_store) as bucket:
        yield bucket


def server_license(url: str) -> str | None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
    return None if row is None else str(row[0])


@contextmanager
def server_with_license(stack: Stack, timescaledb_license: str) -> Iterator[str]:
    """The URL of a server whose TimescaleDB runs `timescaledb_license`: the stack's own if it
    does, else the one SERVER_VARS names, else a second server started as the stack's was (a
    container, or a local PostgreSQL on the build for it), stopped on the way out."""
    if server_license(stack.database_url) == timescaledb_license:
        yield stack.database_url
        return
    var = SERVER_VARS[timescaledb_license]
    named = os.environ.get(var)
    if named:
        found = server_license(named)
        if found != timescaledb_license:
            raise ConfigError(f"{var} names a server running timescaledb.license {found!r}")
        yield named
        return
    if stack_mode(os.environ) == "env":
        raise ConfigError(
            f"the stack's server does not run timescaledb.license={timescaledb_license}: "
            f"name one that does in {var}"
        )
    if stack.other_server is not None:
        with stack.other_server(timescaledb_license) as url:
            yield url
        return
    yield from local_server(timescaledb_license)


def local_server(timescaledb_license: str) -> Iterator[str]:
    from tickwire_core.localstack.postgres import LocalPostgres

    pg_root = Path(tempfile.mkdtemp(prefix="tickwire-test-postgres-"))  # as in stack()
    postgres = LocalPostgres(
        pg_root / "postgres",
        fast_unsafe=True,
        timescaledb_license=timescaledb_license,
        background_jobs=False,  # as in stack()
    )
    try:
        postgres.start()
        yield postgres.dsn
    finally:
        postgres.stop()
        shutil.rmtree(pg_root, ignore_errors=True)


@pytest.fixture(scope="session")
def timescale_server_url(stack: Stack) -> Iterator[str]:
    """A server with the full TimescaleDB (compression, continuous aggregates, policies)."""
    with server_with_license(stack, "timescale") as url:
        yield url


@pytest.fixture(scope="session")
def apache_server_url(stack: Stack) -> Iterator[str]:
    """A server with the Apache-only TimescaleDB build (none of those)."""
    with server_with_license(stack, "apache") as url:
        yield url


def new_topics(stack: Stack) -> str:
    """A fresh set of the topic table's topics under a prefix of their own; the prefix."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    create_topics(stack.kafka_bootstrap_servers, prefix=prefix)
    return prefix


@contextmanager
def new_database(stack: Stack | str) -> Iterator[str]:
    """A new, empty database with TimescaleDB on the stack's server (or the one a URL names),
    dropped on the way out."""
    server_url = stack if isinstance(stack, str) else stack.database_url
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    try:
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def topic_prefix(stack: Stack) -> str:
    """A fresh set of the topic table's topics, under a prefix unique to this test."""
    return new_topics(stack)


@pytest.fixture
def database_url(stack: Stack) -> Iterator[str]:
    """A new, empty database with TimescaleDB, dropped after the test."""
    with new_database(stack) as url:
        yield url


@pytest.fixture(scope="module")
def module_topic_prefix(stack: Stack) -> str:
    """Topics shared by a module's tests: for services started once a module."""
    return new_topics(stack)


@pytest.fixture(scope="module")
def module_database_url(stack: Stack) -> Iterator[str]:
    """A database shared by a module's tests: for services started once a module."""
    with new_database(stack) as url:
        yield url
