"""Runs every connection of one Venue (one task per ConnectionPlan) on an asyncio loop, until a
stop event; the service's threading.Event stop is bridged onto the loop by `run_until`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Callable

from tickwire_core.clock import now_us
from tickwire_ingest.adapters.connection import PlanConnection
from tickwire_ingest.adapters.connection_config import ConnectionConfig
from tickwire_ingest.domain.events import RawSink
from tickwire_ingest.domain.protocol import Venue


class VenueRunner:
    """All connections of a venue. `healthy` is the readiness check: every plan connected and
    subscribed. `on_tick` is called about once a second by every connection (a liveness beat)."""

    def __init__(
        self,
        venue: Venue,
        sink: RawSink,
        config: ConnectionConfig | None = None,
        *,
        clock: Callable[[], int] = now_us,
        rng: random.Random | None = None,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        self.venue = venue
        self.connections = [
            PlanConnection(venue, plan, sink, config, clock=clock, rng=rng, on_tick=on_tick)
            for plan in venue.plan()
        ]

    def healthy(self) -> bool:
        return bool(self.connections) and all(c.healthy() for c in self.connections)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set. A connection that fails (only a failing sink does) stops the
        others and the error is raised, so the service ends instead of ingesting in part."""
        async with asyncio.TaskGroup() as group:
            for number, connection in enumerate(self.connections):
                group.create_task(connection.run(stop), name=f"{self.venue.provider} plan {number}")

    def run_until(self, stop: threading.Event) -> None:
        """Blocking: runs the connections on a fresh event loop in this thread until `stop` is
        set from any thread (e.g. the service's SIGTERM handler)."""
        asyncio.run(self._run_bridged(stop))

    async def _run_bridged(self, stop: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def watch() -> None:
            stop.wait()
            # The loop may already be gone if the connections failed on their own.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

        threading.Thread(target=watch, name=f"{self.venue.provider} stop", daemon=True).start()
        await self.run(wake)
