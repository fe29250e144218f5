"""Runs one ConnectionPlan of a Venue over WebSocket until stopped: connect, subscribe, hand each
frame to the venue's Session, publish what it yields, and reconnect with honest gap events."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from tickwire_core.clock import now_us
from tickwire_ingest.adapters import connection_metrics as metrics
from tickwire_ingest.adapters.backoff import Backoff
from tickwire_ingest.adapters.connection_config import ConnectionConfig
from tickwire_ingest.adapters.connection_metrics import ConnectionStats
from tickwire_ingest.adapters.links import (
    Item,
    Link,
    Refused,
    dial,
    interpret,
    read_into,
    send,
)
from tickwire_ingest.domain.events import DISCONNECT, STALE, Gap, RawSink
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, Venue

logger = logging.getLogger(__name__)

PLANNED = "planned"  # reconnect reason: replaced on our own terms, nothing lost


@dataclass(frozen=True)
class _Ending:
    """Why the current connection is being given up."""

    reason: str  # DISCONNECT or STALE: the reason of the gap it leaves
    detail: str
    retry_after_s: float | None = None


@dataclass(frozen=True)
class _PendingGap:
    start_ts: int
    reason: str
    detail: str


class PlanConnection:
    """Keeps one plan connected until the stop event is set.

    Every socket has a reader task that stamps each frame with its receipt time and puts it on one
    bounded queue; a single loop takes frames off the queue, runs the Session on them, publishes
    into the sink (a plain blocking call, briefly holding up this loop: the queue and the sockets'
    own buffers absorb it) and sends replies. When the venue's maximum connection age is reached
    or it announces the end of the connection, a replacement is opened while the old one still
    delivers (make-before-break) and takes over on its first data frame, so nothing is missed. Any
    other end of a connection leaves a gap per instrument of the plan, published when data flows
    again: from the receipt of the last frame before the drop to that of the first one after."""

    def __init__(
        self,
        venue: Venue,
        plan: ConnectionPlan,
        sink: RawSink,
        config: ConnectionConfig | None = None,
        *,
        clock: Callable[[], int] = now_us,
        rng: random.Random | None = None,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        self.venue = venue
        self.plan = plan
        self.sink = sink
        self.config = config or ConnectionConfig()
        self.stats = ConnectionStats(venue.provider)
        self.stale_after_s = self.config.stale_after_s or venue.stale_after_s
        self._clock = clock
        self._on_tick = on_tick
        self._backoff = Backoff(
            self.config.reconnect_min_s, self.config.reconnect_max_s, rng or random.Random()
        )
        self._frames: asyncio.Queue[Item] | None = None
        self._current: Link | None = None
        self._candidate: Link | None = None
        self._opening: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[object]] = set()
        self._next_candidate_at = 0.0
        self._retry_after_s: float | None = None
        self._pending_gap: _PendingGap | None = None
        self._last_frame_ts: int | None = None
        self._data_flowed = False

    def healthy(self) -> bool:
        """Connected, and the venue confirmed the subscription or is sending data."""
        return self._current is not None and self._current.subscribed

    async def run(self, stop: asyncio.Event) -> None:
        self._frames = asyncio.Queue(self.config.max_pending_frames)
        main = asyncio.create_task(self._main(), name=f"{self.venue.provider} connection")
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({main, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if main.done():
                main.result()  # only a failing sink ends it: let that be seen
        finally:
            main.cancel()
            stopped.cancel()
            await asyncio.gather(main, stopped, return_exceptions=True)
            await self._shutdown()

    # --- the connection's life ---

    async def _main(self) -> None:
        first = True
        while True:
            if self._current is None:
                if not first:
                    delay = self._next_wait()
                    logger.info("%s reconnecting in %.2f s", self.venue.provider, delay)
                    await asyncio.sleep(delay)
                first = False
                self._current = await self._open()
                if self._current is None:
                    continue
            ending = await self._serve()
            await self._end_current(ending)

    async def _serve(self) -> _Ending:
        assert self._frames is not None
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self.config.timer_s
        while True:
            current = self._current
            assert current is not None
            try:
                async with asyncio.timeout_at(
                    min(next_tick, current.last_frame_at + self.stale_after_s)
                ):
                    item = await self._frames.get()
            except TimeoutError:
                item = None
            if item is not None:
                ending = await self._handle(*item)
                if ending is not None:
                    return ending
            current = self._current  # a replacement may have just taken over
            assert current is not None
            now = loop.time()
            if now >= current.last_frame_at + self.stale_after_s:
                return _Ending(STALE, f"no frame for {self.stale_after_s:g} s")
            if now >= next_tick:
                next_tick = now + self.config.timer_s
                self._tick(now)

    async def _open(self) -> Link | None:
        provider = self.venue.provider
        ws = await dial(self.plan, self.config, self.stats)
        if isinstance(ws, Refused):
            self._ask_to_wait(ws.retry_after_s)
            return None
        now = asyncio.get_running_loop().time()
        link = Link(ws, self.venue.session(self.plan), opened_at=now, last_frame_at=now)
        self.stats.opened()
        for frame in link.session.on_open(self._clock()):
            if not await send(link, frame, self.stats):
                self._let_go(link)
                return None
        assert self._frames is not None
        reader = read_into(link, self._frames, self._clock)
        link.reader = asyncio.create_task(reader, name=f"{provider} reader")
        logger.info(
            "%s connected to %.120s (%d instruments)",  # a Binance URL names every stream
            provider,
            self.plan.url,
            len(self.plan.instruments),
        )
        return link

    async def _end_current(self, ending: _Ending) -> None:
        current = self._current
        assert current is not None
        self._current = None
        lived = asyncio.get_running_loop().time() - current.opened_at
        if current.has_data and lived >= self.config.healthy_after_s:
            self._backoff.reset()
        self._ask_to_wait(ending.retry_after_s)
        if self._data_flowed and self._pending_gap is None and self._last_frame_ts is not None:
            self._pending_gap = _PendingGap(self._last_frame_ts, ending.reason, ending.detail)
        self.stats.reconnect(ending.reason)
        logger.warning(
            "%s connection ended after %.1f s (%s): %s",
            self.venue.provider,
            lived,
            ending.reason,
            ending.detail,
        )
        self._let_go(current)
        if self._opening is not None:
            await self._opening  # a replacement on its way: use it rather than open another
        if self._candidate is not None:
            if ending.retry_after_s is None:
                self._current, self._candidate = self._candidate, None
            else:
                self._let_go(self._candidate)
                self._candidate = None

    async def _shutdown(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
            await asyncio.gather(self._opening, return_exceptions=True)
        for link in (self._current, self._candidate):
            if link is not None:
                self._let_go(link)
        self._current = self._candidate = None
        if self._pending_gap is not None:
            # Stopped while cut off: the data was missing up to now.
            self._close_gap(self._clock())
        await asyncio.gather(*self._closing, return_exceptions=True)

    # --- frames ---

    async def _handle(
        self, link: Link, data: str | bytes | None, received_ts: int
    ) -> _Ending | None:
        if link is not self._current and link is not self._candidate:
            return None  # left in the queue by a connection already let go
        if data is None:
            return self._closed(link)
        self.stats.frame()
        link.last_frame_at = asyncio.get_running_loop().time()
        if link is self._current:
            self._last_frame_ts = received_ts
        inbound = interpret(link, data, received_ts, self.stats)
        ending = await self._act(link, inbound)
        if link is self._current:
            self._last_frame_ts = received_ts  # it may have just taken over
        return ending

    def _closed(self, link: Link) -> _Ending | None:
        detail = f"closed: code {link.ws.close_code} {link.ws.close_reason or ''}".rstrip()
        if link is self._candidate:
            logger.warning(
                "%s replacement connection %s before taking over", self.venue.provider, detail
            )
            self._drop_candidate()
            return None
        return _Ending(DISCONNECT, detail)

    async def _act(self, link: Link, inbound: Inbound) -> _Ending | None:
        provider = self.venue.provider
        if inbound.subscribed:
            link.subscribed = True
            logger.info("%s subscribed to %d channels", provider, len(inbound.subscribed))
        if inbound.duplicates:
            self.stats.duplicates(inbound.duplicates)
        if inbound.messages and link is self._candidate:
            self._take_over()
        self._publish(link, inbound)
        for reply in inbound.replies:
            await send(link, reply, self.stats)
        if inbound.retry_after_s is not None:
            if link is self._candidate:
                self._ask_to_wait(inbound.retry_after_s)
                self._drop_candidate()
                return None
            return _Ending(DISCONNECT, "the venue asked to slow down", inbound.retry_after_s)
        if inbound.reconnect and link is self._current:
            self._start_candidate("the venue announced the end of the connection")
        return None

    def _publish(self, link: Link, inbound: Inbound) -> None:
        if inbound.messages:
            link.subscribed = link.has_data = True
            if self._pending_gap is not None:
                self._close_gap(inbound.messages[0].received_ts)
        for gap in inbound.gaps:
            self._publish_gap(gap)
        for message in inbound.messages:
            self.sink.publish(message)
        if inbound.messages:
            self.stats.messages(len(inbound.messages))
            self._data_flowed = True

    def _close_gap(self, end_ts: int) -> None:
        pending = self._pending_gap
        assert pending is not None
        self._pending_gap = None
        for instrument in self.plan.instruments:
            gap = Gap(instrument, pending.reason, pending.start_ts, end_ts, detail=pending.detail)
            self._publish_gap(gap)

    def _publish_gap(self, gap: Gap) -> None:
        self.sink.gap(gap)
        self.stats.gap(gap.reason)

    # --- timer, replacement connections ---

    def _tick(self, now: float) -> None:
        for link in (self._current, self._candidate):
            if link is None:
                continue
            try:
                frames = link.session.on_timer(self._clock())
            except Exception:
                self.stats.error(metrics.SESSION)
                logger.exception("%s session timer failed", self.venue.provider)
                continue
            for frame in frames:
                # Timer frames are rare (client pings); sending them in the background keeps a
                # slow socket from holding up the frames of the other one.
                self._background(send(link, frame, self.stats))
        if self._on_tick is not None:
            self._on_tick()
        candidate = self._candidate
        if candidate is not None and now - candidate.opened_at >= self.stale_after_s:
            logger.warning(
                "%s replacement connection sent no data in %g s",
                self.venue.provider,
                self.stale_after_s,
            )
            self._drop_candidate()
        age = self.venue.max_connection_age_s
        current = self._current
        if age is not None and current is not None and now - current.opened_at >= age:
            self._start_candidate(f"planned reconnect after {age:g} s")

    def _start_candidate(self, why: str) -> None:
        if self._candidate is not None or self._opening is not None:
            return
        if asyncio.get_running_loop().time() < self._next_candidate_at:
            return
        logger.info("%s opening a replacement connection: %s", self.venue.provider, why)
        self._opening = asyncio.create_task(self._open_candidate())

    async def _open_candidate(self) -> None:
        try:
            link = await self._open()
        finally:
            self._opening = None
        if link is None:
            self._next_candidate_at = asyncio.get_running_loop().time() + self._next_wait()
        else:
            self._candidate = link

    def _take_over(self) -> None:
        old, new = self._current, self._candidate
        assert old is not None and new is not None
        self._current, self._candidate = new, None
        self.stats.reconnect(PLANNED)
        logger.info("%s replacement connection took over", self.venue.provider)
        self._let_go(old)

    def _drop_candidate(self) -> None:
        if self._candidate is not None:
            self._let_go(self._candidate)
            self._candidate = None
        self._next_candidate_at = asyncio.get_running_loop().time() + self._next_wait()

    # --- helpers ---

    def _next_wait(self) -> float:
        delay = self._backoff.next_delay()
        if self._retry_after_s is not None:
            delay = max(delay, self._retry_after_s)
            self._retry_after_s = None
        return delay

    def _ask_to_wait(self, seconds: float | None) -> None:
        if seconds is not None:
            self._retry_after_s = max(seconds, self._retry_after_s or 0.0)

    def _let_go(self, link: Link) -> None:
        """Stop reading the socket and close it in the background, so a dead peer's missing close
        handshake never delays the reconnect."""
        if link.reader is not None:
            link.reader.cancel()
        self.stats.closed()
        self._background(link.ws.close())

    def _background(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
