"""Running the `tickwire` command as a user would (a process of its own) against the suite's real
broker and database, and producing the records it is to read."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from confluent_kafka import Producer

from tickwire_core.serde import default_schema_dir
from tickwire_sink.adapters.migrations import migrate

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


@dataclass(frozen=True)
class Cli:
    """The command with KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL and TICKWIRE_TOPIC_PREFIX set."""

    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tickwire_cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
        )

    def json_lines(self, *args: str) -> list[dict[str, Any]]:
        """The command's stdout as JSON lines (stdout is a pipe, so JSON is the default)."""
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    def start(self, *args: str) -> Running:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickwire_cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        return Running(process)


class Running:
    """A command left running (tail --follow): its stdout lines as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def next_json(self, timeout: float = 60) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout:.0f}s") from None
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    def stop(self) -> tuple[int, str]:
        """SIGINT (Ctrl-C); the exit code and stderr."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(30)
        self.pump.join(10)
        assert self.process.stdout is not None and self.process.stderr is not None
        stderr = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return code, stderr


def as_url(conninfo: str) -> str:
    """postgresql://user:password@host:port/dbname, the form people give the command."""
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    return (
        f"postgresql://{parts['user']}:{parts['password']}@{parts['host']}:{parts['port']}"
        f"/{parts['dbname']}"
    )


@pytest.fixture
def cli(stack: Any, topic_prefix: str, database_url: str) -> Cli:
    return Cli(
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


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
