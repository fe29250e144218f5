"""The sink's integration tests start from the test's own database with every migration applied."""

from collections.abc import Iterator

import psycopg
import pytest

from tickwire_sink.adapters.migrations import migrate


@pytest.fixture
def migrated(database_url: str) -> Iterator[str]:
    """The URL of the test's database, migrated."""
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    yield database_url


@pytest.fixture
def conn(migrated: str) -> Iterator[psycopg.Connection]:
    """A connection to the test's migrated database."""
    with psycopg.connect(migrated) as conn:
        yield conn
