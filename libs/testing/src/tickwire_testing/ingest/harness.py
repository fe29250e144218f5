"""One way to test a venue's connections: a loopback venue plays the scripts, the venue's runner
connects with fast timings and a counting clock, and a recording sink keeps what it published."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tickwire_ingest.adapters.connection import PlanConnection
from tickwire_ingest.adapters.connection_config import ConnectionConfig
from tickwire_ingest.adapters.venue_runner import VenueRunner
from tickwire_ingest.domain.protocol import Venue
from tickwire_testing.ingest.loopback import LoopbackVenue, Respond, Step
from tickwire_testing.ingest.recording import RecordingSink
from tickwire_testing.ingest.running import eventually, running

T0 = 1_700_000_000_000_000  # the counting clock's first receipt time, in microseconds
# Reconnects, timers and closes in tens of milliseconds, so a test of many reconnects stays short.
FAST = ConnectionConfig(
    reconnect_min_s=0.02,
    reconnect_max_s=0.05,
    timer_s=0.02,
    open_timeout_s=2.0,
    close_timeout_s=0.2,
)

VenueAt = Callable[[str], Venue]  # the venue under test, pointed at the loopback venue's URL


def counting_clock(start: int = T0) -> Callable[[], int]:
    """Strictly increasing receipt times, so that every frame's is distinct and in order."""
    return itertools.count(start).__next__


@dataclass(frozen=True)
class VenueRun:
    """A run in progress or over: what was published, the connections, what the venue saw."""

    sink: RecordingSink
    server: LoopbackVenue
    runner: VenueRunner

    @property
    def conn(self) -> PlanConnection:
        """The one connection of a venue with a single plan (for its counts)."""
        (connection,) = self.runner.connections
        return connection


@asynccontextmanager
async def serving(
    scripts: Sequence[Sequence[Step]],
    venue_at: VenueAt,
    *,
    responders: Sequence[Respond] = (),
    subprotocols: Sequence[str] = (),
    clock: Callable[[], int] | None = None,
    stop_within_s: float = 5.0,
) -> AsyncIterator[VenueRun]:
    """The venue's connections running against a loopback venue that plays `scripts`, for the
    block; then stopped, and required to have stopped (and not failed) promptly."""
    sink = RecordingSink()
    async with LoopbackVenue(scripts, responders, subprotocols) as server:
        venue = venue_at(server.url)
        runner = VenueRunner(venue, sink, FAST, clock=clock or counting_clock())
        async with running(runner, stop_within_s):
            yield VenueRun(sink, server, runner)


def play(
    scripts: Sequence[Sequence[Step]],
    venue_at: VenueAt,
    *,
    until: int | Callable[[VenueRun], bool],
    responders: Sequence[Respond] = (),
    subprotocols: Sequence[str] = (),
    clock: Callable[[], int] | None = None,
) -> tuple[RecordingSink, PlanConnection, LoopbackVenue]:
    """Run until `until` messages were published (or `until(run)` holds), require the venue ready
    at that moment, stop; then what was published, the connection (for its counts) and the
    loopback venue (for what it saw)."""

    def done(run: VenueRun) -> bool:
        return until(run) if callable(until) else len(run.sink.messages) >= until

    async def go() -> VenueRun:
        async with serving(
            scripts, venue_at, responders=responders, subprotocols=subprotocols, clock=clock
        ) as run:
            await eventually(lambda: done(run))
            assert run.runner.healthy(), "not ready although the venue delivered"
        return run

    run = asyncio.run(go())
    return run.sink, run.conn, run.server
