"""The simulator feed's exchange times: at a set rate each update carries the venue's time (its
start plus its number over the rate), so two instances of one venue, or one restarted from its
venue file, stamp every update alike, whenever they send it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

from tickwire_core.health import Health
from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
from tickwire_ingest.domain.events import Gap, VenueMessage
from tickwire_ingest.domain.faults import FaultConfig
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_ingest.feeds import sim_state
from tickwire_ingest.feeds import simulator as simulator_feed
from tickwire_ingest.feeds.simulator import SimulatorFeed

RATE = 20_000.0  # updates a second: a few hundred take milliseconds


class _Publisher:
    def poll(self, timeout: float = 0.0) -> int:
        return 0


class _Sink:
    """What the feed hands to Kafka, kept in memory; stops the feed after `limit` messages."""

    def __init__(self, stop: threading.Event, limit: int) -> None:
        self.publisher = _Publisher()
        self.sent: list[tuple[str, int, int, int]] = []  # instrument, seq, exchange_ts, received
        self.gaps: list[Gap] = []
        self.stop, self.limit = stop, limit

    def publish(self, message: VenueMessage) -> None:
        body: dict[str, Any] = json.loads(message.payload)
        self.sent.append((message.instrument, body["seq"], body["ts"], message.received_ts))
        if len(self.sent) >= self.limit:
            self.stop.set()

    def gap(self, gap: Gap) -> None:
        self.gaps.append(gap)

    def flush(self) -> None:
        pass


class _StopAfter(Health):
    """Stops the feed at its n-th heartbeat: stepping beats once a chunk."""

    def __init__(self, stop: threading.Event, beats: int) -> None:
        super().__init__()
        self.stop, self.left = stop, beats

    def beat(self) -> None:
        super().beat()
        self.left -= 1
        if self.left <= 0:
            self.stop.set()


def venue() -> Simulator:
    # A disconnect every few hundred updates, so the gap events' times are checked too.
    faults = FaultConfig(jump=0.01, jump_updates=20, silence=0.01, silence_updates=30)
    return Simulator(SimConfig(parse_instruments("A:100,B:3500:0.05"), seed=3, faults=faults))


def run(
    limit: int,
    epoch_s: float | None,
    state: Path | None = None,
    resume: dict[str, int] | None = None,
    stop_after_beats: int = 0,
) -> _Sink:
    stop = threading.Event()
    sink = _Sink(stop, limit)
    health = _StopAfter(stop, stop_after_beats) if stop_after_beats else Health()
    feed = SimulatorFeed(
        simulator=venue(),
        sink=cast(KafkaRawSink, sink),
        rate=RATE,
        count=0,
        stop=stop,
        health=health,
        state_path=state,
        resume=None if resume is None else lambda: resume,
        epoch_s=epoch_s,
    )
    feed.run()
    return sink


def test_two_instances_of_one_venue_stamp_each_update_alike() -> None:
    epoch = time.time()
    primary = run(400, epoch)
    time.sleep(0.05)  # the replica starts later: it catches up on the venue's time, not its own
    replica = run(400, epoch)
    stamped = [(i, s, ts) for i, s, ts, _ in primary.sent]
    assert stamped == [(i, s, ts) for i, s, ts, _ in replica.sent[: len(stamped)]]
    assert [(g.instrument, g.start_ts, g.end_ts) for g in primary.gaps] == [
        (g.instrument, g.start_ts, g.end_ts) for g in replica.gaps[: len(primary.gaps)]
    ]
    assert primary.gaps, "the venue's disconnects and silences are part of what is compared"
    # Update n carries epoch + n / rate: the first update made is the first the venue made.
    assert primary.sent[0][2] - round(epoch * 1e6) <= 10 * 1e6 / RATE
    times = [ts for _, _, ts, _ in primary.sent]
    assert times == sorted(times)
    # Sent late, an update keeps its time: the replica received its first ones after they were made.
    assert all(ts <= received for _, _, ts, received in replica.sent)
    assert replica.sent[0][3] - replica.sent[0][2] >= 40_000


def test_a_restart_from_the_venue_file_sends_again_with_the_original_times(
    tmp_path: Path,
) -> None:
    epoch = time.time()
    state = tmp_path / "venue"
    first = run(300, epoch, state)
    time.sleep(0.05)
    second = run(600, None, state)  # the file's start wins: no epoch needed on a restart
    steady = run(2 * (len(first.sent) + len(second.sent)), epoch)
    # What the restarted session sends (from the file's position on, the last flush's updates
    # again among them) is what the venue that never stopped sent at that place, times included.
    by_update = {(i, s): ts for i, s, ts, _ in steady.sent}
    resent = [(i, s, ts) for i, s, ts, _ in second.sent]
    assert resent[0][:2] in by_update
    assert all(by_update[(i, s)] == ts for i, s, ts in resent if (i, s) in by_update)
    assert {(i, s) for i, s, _, _ in first.sent} <= set(by_update)


def test_without_an_epoch_the_feed_starts_its_venue_at_its_own_start() -> None:
    began = time.time()
    sink = run(50, None)
    assert 0 <= sink.sent[0][2] - round(began * 1e6) < 1e6


def test_a_feed_stopped_while_stepping_steps_on_from_its_venue_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica far behind steps for minutes; killed meanwhile, it used to start stepping from
    the first update again, every time, and never sent anything in a run that killed it often."""
    monkeypatch.setattr(simulator_feed, "_RESUME_CHUNK", 50)
    epoch, topic = time.time() - 10, {"A": 300, "B": 300}
    state = tmp_path / "venue"
    stopped = run(10, epoch, state, resume=topic, stop_after_beats=3)
    assert stopped.sent == []
    kept = sim_state.load(state, venue())
    assert kept is not None and kept.stepping and kept.updates == 100  # two chunks of 50
    resumed = run(40, epoch, state, resume=topic)
    unbroken = run(40, epoch, resume=topic)
    # The same updates as a feed that stepped without a stop, times included.
    assert [sent[:3] for sent in resumed.sent] == [sent[:3] for sent in unbroken.sent]
    assert min(seq for instrument, seq, _, _ in resumed.sent if instrument == "A") > 300
