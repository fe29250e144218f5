"""The chaos run's burst: a second simulated venue that, for a few seconds, fills the raw topic at
ten times the steady rate with valid ticks, which the reference and the checks account for."""

from __future__ import annotations

import threading
import time

from confluent_kafka import Producer

from tickwire_core.clock import now_us
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, SimMessage, Simulator, parse_instruments

# Its own ingest instance and instruments: its updates are no copies of the run's feed (whose
# sequence numbers they would share), so every one of them must become a stored tick.
INSTANCE = "burst"


class BurstVenue:
    """One venue for the run: a second burst goes on with the first's sequence numbers."""

    def __init__(self, bootstrap: str, topic: str, instruments: str, seed: int) -> None:
        self.topic = topic
        names = [spec.split(":")[0] for spec in instruments.split(",")]
        renamed = ",".join(
            spec.replace(name, f"{name}-BURST", 1)
            for spec, name in zip(instruments.split(","), names, strict=True)
        )
        self.simulator = Simulator(SimConfig(parse_instruments(renamed), seed=seed))
        self.envelope = Envelope("simulator", INSTANCE)
        self.serde = AvroSerde()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "linger.ms": 20,
                "message.timeout.ms": 0,  # as ingest's: held while the broker is away, never lost
                "log_level": 2,
            }
        )
        self.sent = 0
        self.seconds = 0.0  # time spent bursting, over all bursts
        self.failed: list[str] = []
        self.undelivered = 0

    def burst(self, rate: float, stop: threading.Event) -> threading.Thread:
        """Sends `rate` updates a second on a thread until `stop` is set."""
        thread = threading.Thread(target=self._run, args=(rate, stop), name="chaos-burst")
        thread.start()
        return thread

    def _run(self, rate: float, stop: threading.Event) -> None:
        began, sent = time.monotonic(), 0
        while not stop.is_set():
            due = int((time.monotonic() - began) * rate) - sent
            if due <= 0:
                self.producer.poll(0.005)
                continue
            for _ in range(min(due, 2_000)):
                message = self.simulator.next_message(now_us())
                self._produce(message)
            sent += min(due, 2_000)
            self.producer.poll(0)
        self.sent += sent
        self.seconds += time.monotonic() - began

    def _produce(self, message: SimMessage) -> None:
        record = self.envelope.wrap(message.feed, message.instrument, message.payload, now_us())
        value = self.serde.encode("raw_tick", record)
        key = tick_key("simulator", message.instrument)
        while True:
            try:
                self.producer.produce(self.topic, value, key, on_delivery=self._delivered)
                return
            except BufferError:  # its queue is full while the broker is away
                self.producer.poll(0.5)

    def _delivered(self, err: object, _message: object) -> None:
        if err is not None:
            self.failed.append(str(err))

    def flush(self, timeout: float) -> int:
        """Updates still undelivered after `timeout` seconds."""
        return int(self.producer.flush(timeout))

    def describe(self, steady_rate: float) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        text = (
            f"{self.sent:,} valid updates in {self.seconds:.1f} s: {rate:,.0f}/s asked "
            f"{steady_rate * 10:,.0f}/s, ingest instance {INSTANCE!r}"
        )
        lost = self.undelivered + len(self.failed)
        return text + (f"; not delivered: {lost:,}" if lost else "")
