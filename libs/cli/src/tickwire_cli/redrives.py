"""Sending dead letters back to the topic they came from, each original record at most once: a
claim in deadletter_redrives is committed before the record is produced, and marked sent after."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from confluent_kafka import Producer

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError

Origin = tuple[str, int, int]  # the original record: topic, partition, offset

# Headers of a redriven record. The services read only keys and values, so to them it is new
# input; these tell a person (tickwire tail shows headers) where it came from.
HEADER_FROM = "tickwire-redrive-from"  # the dead letter: topic/partition/offset
HEADER_ORIGIN = "tickwire-redrive-origin"  # the original record: topic/partition/offset
HEADER_REASON = "tickwire-redrive-reason"  # why it had been rejected

# What the ledger knows of a record: sent back before, or claimed but Kafka's acknowledgement
# never recorded (a run that crashed or lost Kafka in between).
REDRIVEN = "already_redriven"
UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    record: dict[str, Any]  # the decoded dead_letter record

    @property
    def origin(self) -> Origin:
        r = self.record
        return (r["source_topic"], int(r["source_partition"]), int(r["source_offset"]))

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


def _where(origin: Origin) -> str:
    return "/".join(map(str, origin))


class RedriveLedger:
    """deadletter_redrives on one autocommit connection: each statement commits on its own."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.conn = env.connect_db(autocommit=True, application_name="tickwire-redrive")
        self.claimed_by = f"{socket.gethostname()}:{os.getpid()}"
        found = self.conn.execute("SELECT to_regclass('deadletter_redrives')").fetchone()
        if found is None or found[0] is None:
            self.conn.close()
            raise CliError(
                f"the database at {env.database_display()} has no deadletter_redrives table",
                hint="apply the migrations first: `tickwire migrate`",
            )

    def close(self) -> None:
        self.conn.close()

    def states(self, origins: Iterable[Origin]) -> dict[Origin, str]:
        """REDRIVEN or UNCONFIRMED, for the origins already claimed."""
        keys = list(set(origins))
        if not keys:
            return {}
        rows = self.conn.execute(
            "SELECT r.source_topic, r.source_partition, r.source_offset, r.sent_at IS NOT NULL"
            " FROM deadletter_redrives r"
            " JOIN unnest(%s::text[], %s::int[], %s::bigint[]) AS k(t, p, o)"
            "   ON (r.source_topic, r.source_partition, r.source_offset) = (k.t, k.p, k.o)",
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
        ).fetchall()
        return {(t, p, o): REDRIVEN if sent else UNCONFIRMED for t, p, o, sent in rows}

    def claim(self, letters: Sequence[DeadLetter]) -> set[Origin]:
        """Claim these records for this run; returns those it won. Committed on return, so a
        concurrent run waits on the rows and then finds them taken."""
        if not letters:
            return set()
        rows = self.conn.execute(
            "INSERT INTO deadletter_redrives (source_topic, source_partition, source_offset,"
            " deadletter_topic, deadletter_partition, deadletter_offset, service, reason,"
            " claimed_by)"
            " SELECT *, %s FROM unnest(%s::text[], %s::int[], %s::bigint[], %s::text[],"
            "  %s::int[], %s::bigint[], %s::text[], %s::text[])"
            " ON CONFLICT DO NOTHING"
            " RETURNING source_topic, source_partition, source_offset",
            (
                self.claimed_by,
                [d.origin[0] for d in letters],
                [d.origin[1] for d in letters],
                [d.origin[2] for d in letters],
                [d.topic for d in letters],
                [d.partition for d in letters],
                [d.offset for d in letters],
                [d.record["service"] for d in letters],
                [d.record["reason"] for d in letters],
            ),
        ).fetchall()
        return {(t, p, o) for t, p, o in rows}

    def confirm(self, sent: dict[Origin, tuple[int, int]]) -> None:
        """Record Kafka's acknowledgement (partition, offset) of each redriven record."""
        if not sent:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE deadletter_redrives SET sent_at = now(), sent_partition = %s,"
                " sent_offset = %s"
                " WHERE (source_topic, source_partition, source_offset) = (%s, %s, %s)",
                [(p, o, *origin) for origin, (p, o) in sent.items()],
            )


class Sender:
    """The idempotent producer that puts dead letters back; `send` returns what Kafka
    acknowledged, origin -> (partition, offset)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.producer = Producer(
            env.kafka_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 5})
        )

    def send(
        self, letters: Sequence[DeadLetter], timeout_s: float = 30.0
    ) -> tuple[dict[Origin, tuple[int, int]], list[str]]:
        acked: dict[Origin, tuple[int, int]] = {}
        failures: list[str] = []

        def delivered(origin: Origin) -> Any:
            def report(err: Any, msg: Any) -> None:
                if err is not None:
                    failures.append(f"{_where(origin)}: {err.str()}")
                else:
                    acked[origin] = (msg.partition(), msg.offset())

            return report

        for letter in letters:
            record = letter.record
            headers: list[tuple[str, str | bytes | None]] = [
                (HEADER_FROM, letter.position.encode()),
                (HEADER_ORIGIN, _where(letter.origin).encode()),
                (HEADER_REASON, str(record["reason"]).encode()),
            ]
            while True:
                try:
                    self.producer.produce(
                        record["source_topic"],
                        value=record["payload"],
                        key=record.get("source_key"),
                        headers=headers,
                        on_delivery=delivered(letter.origin),
                    )
                    break
                except BufferError:  # the local queue is full: let some go out first
                    self.producer.poll(0.1)
        left = self.producer.flush(timeout_s)
        if left:
            failures.append(f"{left} records not acknowledged within {timeout_s:.0f}s")
        return acked, failures


def connect_ledger(env: Env) -> RedriveLedger:
    try:
        return RedriveLedger(env)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"database at {env.database_display()}: {first}") from None
