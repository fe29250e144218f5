"""Runs a WebSocket venue's connections into the raw sink until stopped."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from tickwire_core.health import Health
from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
from tickwire_ingest.adapters.venue_runner import VenueRunner

logger = logging.getLogger(__name__)


@dataclass
class VenueFeed:
    runner: VenueRunner
    sink: KafkaRawSink
    stop: threading.Event
    health: Health

    def run(self) -> None:
        try:
            self.runner.run_until(self.stop)
        finally:
            self.sink.flush()
            logger.info("%s connections closed", self.runner.venue.provider)
