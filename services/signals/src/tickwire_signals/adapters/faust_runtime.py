"""The parts of faust the signals service changes: a monitor without per-event bookkeeping, a
consumer that reads committed records only, and a worker whose stop is bounded in time."""

from __future__ import annotations

from typing import Any

import faust
from faust.sensors.monitor import Monitor

from tickwire_core.stopping import exit_after


class QuietMonitor(Monitor):
    """faust's monitor times every event in and out, for its web views (off here); the service
    keeps its own counters in /metrics, so the per-event bookkeeping is skipped."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        pass

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        pass

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        pass


def read_committed_only(consumer: Any) -> None:
    """faust reads committed records only when it runs its own transactions (exactly_once); the
    service does not, but its input is written by normalize's transactions, and a tick of an
    aborted one (normalize killed mid-batch, fenced, retried) must not enter a bar or a window.
    The Kafka consumer faust builds is told so before it starts."""
    thread = consumer._thread
    build = thread._create_worker_consumer

    def build_read_committed(transport: Any) -> Any:
        client = build(transport)
        client._isolation_level = "read_committed"  # read by aiokafka's start(), not before
        return client

    thread._create_worker_consumer = build_read_committed


class Worker(faust.Worker):
    """faust's worker, with a bound on how long a stop may take: with the brokers gone, faust's
    shutdown waits for them without end (flushing, committing, leaving the group), and a service
    told to stop must stop. The output flushed before each state write keeps that safe."""

    def __init__(self, *args: Any, stop_grace_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop_grace_s = stop_grace_s

    def _on_sigterm(self) -> None:
        exit_after(self._stop_grace_s, "signals")
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        exit_after(self._stop_grace_s, "signals")
        super()._on_sigint()
