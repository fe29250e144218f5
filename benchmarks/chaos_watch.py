"""What the chaos run watches while it runs: the newest queryable tick, each process's resident
memory, and the hostile records it puts on the raw topic, spread over the load."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from chaos_hostile import Hostile
from confluent_kafka import KafkaError, Message, Producer

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import tick_key

# The simulator stamps exchange_ts from ingest's clock just before received_ts; the newest of it is
# an index look-up, where the newest received_ts would scan the whole table every second.
_NEWEST = "SELECT extract(epoch FROM max(exchange_ts))::float8 FROM ticks"


def rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None  # exited between the look-up and the read
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else None


class Watch:
    """Every second: the newest exchange_ts among stored ticks (None while the database does not
    answer) and the RSS of each pid that `pids()` names."""

    def __init__(self, database_url: str, pids: Callable[[], dict[str, int]]) -> None:
        self.database_url, self.pids = database_url, pids
        self.newest: list[tuple[float, float | None]] = []  # (monotonic t, newest as monotonic)
        self.memory: dict[str, list[tuple[float, float]]] = {}  # name -> (t, MiB)
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-watch")

    def start(self) -> Watch:
        self._thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self.stop.wait(1.0):
            t = time.monotonic()
            for name, pid in self.pids().items():
                mib = rss_mib(pid)
                if mib is not None:
                    self.memory.setdefault(name, []).append((t, mib))
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.database_url, connect_timeout=2, autocommit=True)
                row = conn.execute(_NEWEST).fetchone()
                newest = row[0] if row and row[0] is not None else None
                # Wall clock to monotonic: the age is what matters, not the epoch.
                self.newest.append((t, None if newest is None else t - (time.time() - newest)))
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                conn = None
                self.newest.append((t, None))
        if conn is not None:
            conn.close()


def fingerprint(value: bytes) -> bytes:
    return hashlib.blake2b(value, digest_size=16).digest()


class HostileFeed:
    """Produces the hostile records, a part at a time; `sent` maps each record's (partition,
    offset) to its (seq, kind), found by `locate` on the topic's read-back. Not from the delivery
    reports: after a broker restart an idempotent producer's retried batch can be acknowledged as
    a duplicate, whose report carries no offset (it came back as 0)."""

    def __init__(self, bootstrap: str, topic: str, records: list[Hostile]) -> None:
        self.topic, self.records = topic, records
        self.serde = AvroSerde()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "linger.ms": 50,
                # The broker is killed on purpose: its connection errors are expected, not news.
                "log_level": 2,
            }
        )
        self.sent: dict[tuple[int, int], tuple[int, str]] = {}
        self.failed: list[str] = []
        # value fingerprint -> (seq, kind) of the records produced and not yet found; a list, as
        # two short random values can be alike
        self._produced: dict[bytes, list[tuple[int, str]]] = {}

    def send(self, part: list[Hostile]) -> None:
        for record in part:
            value = (
                record.value
                if isinstance(record.value, bytes)
                else self.serde.encode("raw_tick", record.value)
            )

            mark = fingerprint(value)
            self._produced.setdefault(mark, []).append((record.seq, record.kind))

            def delivered(
                err: KafkaError | None,
                _message: Message,
                record: Hostile = record,
                mark: bytes = mark,
            ) -> None:
                if err is not None:
                    self.failed.append(f"#{record.seq} ({record.kind}): {err}")
                    # Counted once, here: it is not looked for on the topic as well.
                    with contextlib.suppress(ValueError):
                        self._produced[mark].remove((record.seq, record.kind))

            key = tick_key("simulator", record.instrument)
            while True:
                try:
                    self.producer.produce(self.topic, value, key, on_delivery=delivered)
                    break
                except BufferError:  # its queue is full while the broker is away
                    self.producer.poll(0.5)
            self.producer.poll(0)

    def locate(self, partition: int, offset: int, value: bytes | None) -> None:
        """One record of the raw topic's read-back: where it is one of ours, note its place."""
        found = self._produced.get(fingerprint(value or b""))
        if found:
            self.sent[(partition, offset)] = found.pop(0)

    def unlocated(self) -> None:
        """After the read-back: a record delivered but never found on the topic is a failure."""
        for records in self._produced.values():
            for seq, kind in records:
                self.failed.append(f"#{seq} ({kind}): delivered, not found on the topic")
        self._produced.clear()

    def flush(self, timeout: float) -> int:
        """Records still undelivered after `timeout` seconds."""
        return int(self.producer.flush(timeout))
