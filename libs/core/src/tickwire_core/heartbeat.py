"""Heartbeats: each service instance's periodic report (alive, counters, consumer lag, last error)
on the status topic, which the sink keeps in service_status for the API's /v1/status."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import Producer

from tickwire_core.clock import now_us
from tickwire_core.kafka import producer_config
from tickwire_core.publisher import ProducerLike
from tickwire_core.serde import AvroSerde
from tickwire_core.settings import KafkaServiceSettings
from tickwire_core.topics import STATUS

logger = logging.getLogger(__name__)

_ERROR_CHARS = 500  # a heartbeat says what went wrong; the log has the whole trace


@dataclass
class LoopStats:
    """What a heartbeat reports, kept by the service as it runs. Counters are since start."""

    started_ts: int = field(default_factory=now_us)
    rows_in: int = 0
    rows_out: int = 0
    rows_refused: int = 0
    batches_failed: int = 0
    circuit: str | None = None
    lag: int | None = None
    last_error: str | None = None
    last_error_ts: int | None = None
    # normalize's: provider -> venue field path -> messages that carried it unread by the mapping
    unmapped_fields: dict[str, dict[str, int]] | None = None

    def failed(self, error: str) -> None:
        self.batches_failed += 1
        self.last_error, self.last_error_ts = error[:_ERROR_CHARS], now_us()


def heartbeat_record(service: str, instance: str, stats: LoopStats) -> dict[str, Any]:
    return {
        "service": service,
        "instance": instance,
        "ts": now_us(),
        "started_ts": stats.started_ts,
        "rows_in": stats.rows_in,
        "rows_out": stats.rows_out,
        "rows_refused": stats.rows_refused,
        "batches_failed": stats.batches_failed,
        "circuit": stats.circuit,
        "lag": stats.lag,
        "last_error": stats.last_error,
        "last_error_ts": stats.last_error_ts,
        "unmapped_fields": stats.unmapped_fields,
    }


class HeartbeatSender(Protocol):
    """Where a run loop's heartbeats go: the status topic, or (the sink) the status table."""

    def maybe_send(self, stats: LoopStats) -> None: ...
    def send_last(self, stats: LoopStats) -> None: ...


class Heartbeats:
    """Sends heartbeats to the status topic at most every `every_s`, on a producer of its own:
    the service's own producer may be transactional, and a lost heartbeat is only replaced by the
    next one, so delivery failures are logged, never raised."""

    def __init__(
        self,
        producer: ProducerLike,
        serde: AvroSerde,
        topic: str,
        service: str,
        instance: str,
        *,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.producer = producer
        self.serde = serde
        self.topic = topic
        self.service = service
        self.instance = instance
        self.every_s = every_s
        self.clock = clock
        self._sent_at: float | None = None

    @classmethod
    def for_service(
        cls, settings: KafkaServiceSettings, service: str, instance: str, every_s: float = 5.0
    ) -> Heartbeats:
        producer = Producer(producer_config(settings, **{"enable.idempotence": False, "acks": "1"}))
        return cls(
            producer, AvroSerde(), settings.topic(STATUS), service, instance, every_s=every_s
        )

    def due(self) -> bool:
        return self._sent_at is None or self.clock() - self._sent_at >= self.every_s

    def maybe_send(self, stats: LoopStats) -> None:
        if self.due():
            self.send(stats)
        else:
            self.producer.poll(0)  # serve delivery reports

    def send(self, stats: LoopStats) -> None:
        self._sent_at = self.clock()
        value = self.serde.encode("heartbeat", heartbeat_record(self.service, self.instance, stats))
        key = f"{self.service}|{self.instance}".encode()
        try:
            self.producer.produce(self.topic, value=value, key=key, on_delivery=self._delivered)
        except BufferError:
            logger.warning("heartbeat not queued: the producer's queue is full")
        self.producer.poll(0)

    def send_last(self, stats: LoopStats) -> None:
        """A last heartbeat with the final counters, waited for briefly: the brokers may be gone."""
        self.send(stats)
        self.producer.flush(2.0)

    def _delivered(self, err: Any, _msg: Any) -> None:
        if err is not None:
            logger.warning("heartbeat not delivered: %s", err)


def beat_in_background(
    heartbeats: Heartbeats, stats: LoopStats, stop: threading.Event
) -> threading.Thread:
    """For a service whose main loop is not a RunLoop (ingest's feeds): heartbeats from a thread
    of their own until `stop`, then a last one. `stats` is updated by the main loop; reading its
    integers from here needs no lock."""

    def run() -> None:
        while not stop.wait(heartbeats.every_s):
            heartbeats.send(stats)
        heartbeats.send_last(stats)

    heartbeats.send(stats)
    thread = threading.Thread(target=run, name="heartbeat", daemon=True)
    thread.start()
    return thread
