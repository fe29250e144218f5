"""Plays a replay file into the raw sink at the configured speed (docs/replay.md): the ingest
service's replay connector, and `tickwire replay`, which calls play() alone."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter

from tickwire_core.health import Health
from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
from tickwire_ingest.adapters.replay_file import ReplayFile
from tickwire_ingest.domain.replay import Pacer, RecordedGap

logger = logging.getLogger(__name__)

BAD_LINES = Counter("tickwire_ingest_replay_bad_lines_total", "Replay lines skipped as unreadable")

_FLUSH_EVERY_S = 0.5


def _monotonic_us() -> int:
    return time.monotonic_ns() // 1000


@dataclass
class ReplayFeed:
    file: ReplayFile
    pacer: Pacer
    sink: KafkaRawSink
    stop: threading.Event
    health: Health
    finished: threading.Event

    def run(self) -> None:
        self.play()
        self.finished.set()
        # Stay up (and ready) until told to stop, so supervisors see a clean, finished feed.
        while not self.stop.wait(1.0):
            self.health.beat()

    def play(self, on_sent: Callable[[int], None] | None = None) -> int:
        """Publish the file's records at the pacer's pace until its end or `stop`, then flush;
        returns how many were sent. `on_sent(sent so far)` follows each record."""
        started = time.monotonic()
        last_flush = started
        sent = 0
        for item in self.file:
            if self.stop.is_set():
                break
            wait_us = self.pacer.wait_us(item.received_ts, _monotonic_us())
            while wait_us > 0 and not self.stop.is_set():
                self.health.beat()
                self.sink.publisher.poll()
                self.stop.wait(min(wait_us / 1e6, 0.5))
                wait_us = self.pacer.wait_us(item.received_ts, _monotonic_us())
            if isinstance(item, RecordedGap):
                self.sink.gap(item.gap, item.provider)
            else:
                self.sink.publish(item)
            sent += 1
            if on_sent is not None:
                on_sent(sent)
            if time.monotonic() - last_flush >= _FLUSH_EVERY_S:
                self.health.beat()
                self.sink.flush()
                last_flush = time.monotonic()
        self.sink.flush()
        BAD_LINES.inc(self.file.bad_lines)
        logger.info(
            "replay of %s done: records=%d bad_lines=%d in %.1fs",
            self.file.path,
            sent,
            self.file.bad_lines,
            time.monotonic() - started,
        )
        return sent
