"""The status line of unmapped venue fields reads what the sink stored of normalize's heartbeats:
summed over instances per provider, the newest heartbeat of each instance only, other services
and heartbeats without the field left out."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tickwire_cli.unmapped import UnmappedFields, unmapped_fields
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.status import write_reported

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000_000


def heartbeat(service: str, instance: str, ts: int, unmapped: Any) -> dict[str, Any]:
    return {
        "service": service,
        "instance": instance,
        "ts": ts,
        "started_ts": T0,
        "rows_in": 10,
        "rows_out": 10,
        "rows_refused": 0,
        "batches_failed": 0,
        "circuit": "closed",
        "last_error": None,
        "last_error_ts": None,
        "lag": 0,
        "unmapped_fields": unmapped,
    }


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        yield conn


def test_unmapped_fields_per_provider_over_instances(conn: psycopg.Connection[Any]) -> None:
    assert unmapped_fields(conn) == []
    write_reported(
        conn,
        [
            heartbeat("normalize", "n-0", T0, {"deribit": {"params.data.old": 50}}),
            heartbeat("normalize", "n-0", T0 + 5, {"deribit": {"params.data.new_field": 3}}),
            heartbeat(
                "normalize",
                "n-1",
                T0 + 5,
                {"deribit": {"params.data.new_field": 4}, "kraken": {"data[].fee": 2}},
            ),
            heartbeat("normalize", "n-2", T0 + 5, None),  # before the field existed
            heartbeat("sink", "s-0", T0 + 5, None),
        ],
    )
    assert unmapped_fields(conn) == [
        UnmappedFields("deribit", {"params.data.new_field": 7}, instances=2),
        UnmappedFields("kraken", {"data[].fee": 2}, instances=1),
    ]
    # a newer heartbeat of n-1 replaces its counts
    write_reported(conn, [heartbeat("normalize", "n-1", T0 + 10, {"deribit": {"x": 9, "y": 1}})])
    deribit = unmapped_fields(conn)[0]
    assert deribit.fields == {"x": 9, "params.data.new_field": 3, "y": 1}
    assert deribit.line == "deribit: x (9), params.data.new_field (3), y (1)"
