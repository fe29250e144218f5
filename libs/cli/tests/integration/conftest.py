"""Running the `tickwire` command as a user would (a process of its own) against the suite's real
broker and database, and producing the records it is to read."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from confluent_kafka import Producer

from tickwire_core.serde import default_schema_dir
from tickwire_sink.adapters.migrations import migrate
from tickwire_testing.cli import Tickwire, as_url, closed_port

# One record of each kind the pipeline writes. What `tickwire tail` is to print for them is
# written out from these and the schema files, not produced by the code under test.

# Recent, whole-hour times: the broker deletes records older than a topic's retention.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
T0_MS = int(T0.timestamp()) * 1000
T0_US = T0_MS * 1000
T0_ISO = T0.isoformat(timespec="milliseconds")


def with_defaults(schema: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as a reader of `schema` sees it: every optional field it left out is null."""
    declared = json.loads((default_schema_dir() / f"{schema}.avsc").read_text())
    return {f["name"]: record.get(f["name"], f.get("default")) for f in declared["fields"]}


def sim_quote(bid: str, ask: str, ts_us: int, seq: int = 1, instrument: str = "SIM-A") -> bytes:
    message = {
        "type": "quote",
        "instrument": instrument,
        "ts": ts_us,
        "seq": seq,
        "bid": bid,
        "bid_size": "1",
        "ask": ask,
        "ask_size": "2",
    }
    return json.dumps(message, separators=(",", ":")).encode()


def raw_tick(payload: bytes, instrument: str = "SIM-A", seq: int = 7) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "feed": "quotes",
        "ingest_instance": "primary",
        "instrument": instrument,
        "received_ts": T0_US + 100,
        "ingest_seq": seq,
        "content_type": "application/json",
        "payload": payload,
    }


def tick(instrument: str, provider: str = "simulator", price: float = 100.5) -> dict[str, Any]:
    return {
        "provider": provider,
        "instrument": instrument,
        "kind": "trade",
        "exchange_ts": T0_US,
        "received_ts": T0_US + 100,
        "last_traded_price": price,
        "last_traded_volume": 0.25,
        "trade_id": f"{instrument}-1",
        "side": "buy",
        "venue_instrument": instrument.lower(),
        "dedup_key": f"t:{instrument}-1",
    }


BAR = {
    "provider": "simulator",
    "instrument": "SIM-A",
    "interval": "1m",
    "start_ts": T0_US,
    "open": 100.0,
    "high": 101.5,
    "low": 99.0,
    "close": 100.5,
    "volume": 12.5,
    "tick_count": 42,
    "source": "trades",
}
ANOMALY = {
    "provider": "simulator",
    "instrument": "SIM-A",
    "ts": T0_US,
    "rule": "price_jump",
    "severity": "warning",
    "value": 7.5,
    "threshold": 5.0,
    "window_mean": 100.0,
    "window_stddev": 1.0,
    "window_count": 60,
    "detail": "jump of 7.5 sigma",
}
SIGNAL = {
    "provider": "simulator",
    "instrument": "SIM-A",
    "ts": T0_US,
    "name": "sma",
    "value": 100.25,
    "parameters": {"interval": "1m", "window": "20"},
}
HEARTBEAT = {
    "service": "normalize",
    "instance": "normalize-0",
    "ts": T0_US,
    "started_ts": T0_US - 60_000_000,
    "rows_in": 10,
    "rows_out": 9,
    "rows_refused": 1,
    "batches_failed": 0,
    "circuit": "closed",
    "lag": 3,
    "last_error": None,
    "last_error_ts": None,
    "unmapped_fields": {"deribit": {"params.data.new_field": 2}},
}


def dead_letter(
    payload: bytes, source_topic: str, reason: str, offset: int, key: bytes | None
) -> dict[str, Any]:
    return {
        "reason": reason,
        "message": f"{reason} at {offset}",
        "service": "normalize",
        "source_topic": source_topic,
        "source_partition": 2,
        "source_offset": offset,
        "source_key": key,
        "payload": payload,
        "rejected_ts": T0_US + 500,
    }


@pytest.fixture(scope="session")
def records() -> SimpleNamespace:
    """The builders and records above, for the test modules (a conftest is not importable)."""
    names = ["T0", "T0_MS", "T0_US", "T0_ISO", "with_defaults", "sim_quote", "raw_tick", "tick"]
    names += ["BAR", "ANOMALY", "SIGNAL", "HEARTBEAT", "dead_letter"]
    return SimpleNamespace(**{name: globals()[name] for name in names})


@pytest.fixture
def cli(stack: Any, topic_prefix: str, database_url: str) -> Tickwire:
    return Tickwire(
        {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers,
            "DATABASE_URL": as_url(database_url),
            "TICKWIRE_TOPIC_PREFIX": topic_prefix,
        }
    )


@pytest.fixture
def migrated(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    return database_url


class Topics:
    """Records into the test's topics, one partition at a time, so their offsets are known."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        self.producer = Producer({"bootstrap.servers": bootstrap})

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None,
        *,
        partition: int = 0,
        timestamp_ms: int = T0_MS,
    ) -> None:
        """One record to `topic` (a name of the topic table), delivered before returning."""
        self.producer.produce(
            self.prefix + topic, value=value, key=key, partition=partition, timestamp=timestamp_ms
        )
        assert self.producer.flush(30) == 0, "test record not delivered"


@pytest.fixture
def topics(stack: Any, topic_prefix: str) -> Topics:
    return Topics(stack.kafka_bootstrap_servers, topic_prefix)


@pytest.fixture(name="closed_port")
def closed_port_fixture() -> int:
    """A local port nothing listens on."""
    return closed_port()
