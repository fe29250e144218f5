"""Drives the simulated venue at a configured rate, faults included, into the raw sink."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException
from prometheus_client import Counter

from tickwire_core.clock import now_us
from tickwire_core.health import Health
from tickwire_core.waiting import wait_for
from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
from tickwire_ingest.domain.events import Gap, VenueMessage
from tickwire_ingest.domain.sequence import SequenceTracker
from tickwire_ingest.domain.simulator import SimMessage, Simulator
from tickwire_ingest.feeds import sim_state

logger = logging.getLogger(__name__)

FAULTS = Counter("tickwire_ingest_sim_faults_total", "Faults injected by the simulator", ["kind"])

_MAX_BURST = 5_000  # updates generated per loop turn at most, so stop and health stay prompt
_FLUSH_EVERY_S = 0.5  # how often delivery is confirmed (and failures surface)
# A restart steps the venue up to the raw topic's sequences (about 20,000 updates a second on one
# core): 5 M updates are 7 hours at the default 200 a second. Beyond that the numbering alone
# continues. Rounds re-read the topic, as a running replica moves on meanwhile; chunks keep a stop
# prompt.
_RESUME_MAX = 5_000_000
_RESUME_ROUNDS = 4
_RESUME_CHUNK = 20_000


@dataclass
class SimulatorFeed:
    simulator: Simulator
    sink: KafkaRawSink
    rate: float
    count: int
    stop: threading.Event
    health: Health
    clock: Callable[[], int] = now_us
    # With faults on, the feed checks the venue's sequence numbers as a real connector does, so
    # an injected gap becomes a gap event.
    tracker: SequenceTracker | None = None
    # Where the venue's position is kept: a restarted feed resumes it and sends, at once, the
    # updates the venue sent while it was down, as a venue replays missed messages on reconnect.
    state_path: Path | None = None
    # Without a venue file of its own (or with one not written yet): instrument -> its last
    # sequence number on the raw topic, where a restart continues from.
    resume: Callable[[], dict[str, int]] | None = None
    # When the venue started, epoch seconds: at a set rate update n carries the venue's time
    # epoch + n / rate as its exchange time, whenever it is sent. A primary and its replica given
    # the same epoch stamp each update alike, as two connections to one venue see it, and updates
    # sent again after a restart keep the time they were made at. None: the feed's own start.
    epoch_s: float | None = None
    _faults_seen: dict[str, int] = field(default_factory=dict)

    def run(self) -> None:
        position = None
        if self.state_path is not None:
            position = sim_state.load(self.state_path, self.simulator)
        if position is not None:
            self.simulator = position.simulator
            logger.info("simulator resumed at update %d", position.updates)
        if (position is None or position.stepping) and self.resume is not None:
            # No file, or one saved while stepping: step (on) to the raw topic's sequences.
            updates = self._continue_venue(self.resume, position.updates if position else 0)
            if self.stop.is_set():
                return  # stopped while stepping: the venue file says so, a restart steps on
            started_wall = self._venue_start(updates)
        elif position is not None:
            updates, started_wall = position.updates, position.started_wall_s
        else:
            updates, started_wall = 0, self._venue_start(0)
        started = time.monotonic() - (time.time() - started_wall)
        last_flush = time.monotonic()
        until = updates + self.count  # a count is this session's updates
        while not self.stop.is_set() and (self.count == 0 or updates < until):
            self.health.beat()
            due = (
                _MAX_BURST
                if self.rate <= 0
                else int((time.monotonic() - started) * self.rate) - updates
            )
            if self.count:
                due = min(due, until - updates)
            due = min(due, _MAX_BURST)
            if due <= 0:
                self.sink.publisher.poll()
                self.stop.wait(min(0.05, 1.0 / self.rate))
                continue
            for n in range(updates + 1, updates + due + 1):
                for item in self.simulator.step(self._venue_ts(started_wall, n)):
                    self._send(item)
            updates += due
            if time.monotonic() - last_flush >= _FLUSH_EVERY_S:
                self.sink.flush()
                self._count_faults()
                self._keep(started_wall, updates)
                last_flush = time.monotonic()
            else:
                self.sink.publisher.poll()
        self.sink.flush()
        self._count_faults()
        self._keep(started_wall, updates)  # all of it acknowledged: a restart sends none again
        logger.info("simulator published updates=%d in %.1fs", updates, time.monotonic() - started)
        if self.count:
            # Stay up (and ready) until told to stop, so supervisors see a clean, finished feed.
            while not self.stop.wait(1.0):
                self.health.beat()

    def _venue_start(self, updates: int) -> float:
        """When the venue started, for a feed `updates` into it: the epoch given, unless the
        venue is further than the epoch's time allows; else its updates so far were made at its
        rate until now."""
        if self.epoch_s is not None and updates <= (time.time() - self.epoch_s) * self.rate:
            return self.epoch_s
        return time.time() - (updates / self.rate if self.rate > 0 else 0.0)

    def _venue_ts(self, started_wall: float, update: int) -> int:
        """The exchange time of the venue's `update`-th update: made at the venue's rate since
        it started; as fast as possible (rate 0), the time it is made at."""
        if self.rate <= 0:
            return self.clock()
        return round(started_wall * 1e6 + update * 1e6 / self.rate)

    def _keep(self, started_wall: float, updates: int, stepping: bool = False) -> None:
        # After the flush, or a stepped chunk: what the file says was sent has reached the
        # broker (sent by this feed, or by the one whose sequences it stepped to).
        if self.state_path is not None:
            sim_state.save(
                self.state_path,
                sim_state.VenuePosition(self.simulator, started_wall, updates, stepping),
            )

    def _continue_venue(self, read: Callable[[], dict[str, int]], stepped: int = 0) -> int:
        """Step the venue to where the raw topic shows it (the earlier session's, or a replica's
        that kept running): read again after each round, since a replica publishes meanwhile.
        Each chunk is kept in the venue file, so that a feed killed while stepping (minutes, far
        into a fast run) steps on from there when it restarts instead of from the start.
        `stepped`: the updates the venue file says were stepped already. Returns the updates
        stepped in all."""

        def resume() -> dict[str, int]:
            # A topic just created, or a broker restarting, may not answer yet: wait for it.
            return wait_for(
                "the raw topic's last sequences",
                read,
                stop=self.stop,
                health=self.health,
                check="raw_topic_read",
                away=lambda exc: isinstance(exc, KafkaException),
            )

        began, sequences = time.monotonic(), resume()
        for _round in range(_RESUME_ROUNDS):
            moved = 0
            while not self.stop.is_set() and stepped < _RESUME_MAX:
                self.health.beat()
                chunk = min(_RESUME_CHUNK, _RESUME_MAX - stepped)
                done = self.simulator.resume(sequences, self.clock(), chunk)
                moved += done
                stepped += done
                if done:
                    self._keep(self._venue_start(stepped), stepped, stepping=True)
                if done < chunk:
                    break
            if moved == 0 or self.stop.is_set() or stepped >= _RESUME_MAX:
                break
            sequences = resume()
        if stepped >= _RESUME_MAX:
            logger.warning(
                "simulator: the raw topic is %d+ updates ahead; numbering continues after its "
                "sequences with a market started anew",
                stepped,
            )
            self.simulator.renumber(sequences)
        if sequences:
            logger.info(
                "simulator continues its venue after %d updates (%.1fs), last sequences %s",
                stepped,
                time.monotonic() - began,
                sequences,
            )
        return stepped

    def _send(self, item: SimMessage | Gap) -> None:
        if isinstance(item, Gap):
            self.sink.gap(item)
            return
        received_ts = self.clock()
        if self.tracker is not None:
            self._check_sequence(item, received_ts)
        self.sink.publish(VenueMessage(item.feed, item.instrument, item.payload, received_ts))

    def _check_sequence(self, item: SimMessage, received_ts: int) -> None:
        try:
            seq = json.loads(item.payload).get("seq")
        except (ValueError, AttributeError):
            return  # a malformed payload: normalize rejects it with its reason
        if isinstance(seq, int):
            assert self.tracker is not None
            _new, gap = self.tracker.check(item.instrument, seq, received_ts, item.instrument)
            if gap is not None:
                self.sink.gap(gap)

    def _count_faults(self) -> None:
        for kind, total in self.simulator.fault_counts.as_dict().items():
            seen = self._faults_seen.get(kind, 0)
            if total > seen:
                FAULTS.labels(kind).inc(total - seen)
                self._faults_seen[kind] = total
