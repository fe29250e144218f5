"""Runs one ConnectionPlan of a Venue over WebSocket until stopped: connect, subscribe, hand each
frame to the venue's Session, publish what it yields, and reconnect with honest gap events."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    InvalidHandshake,
    InvalidStatus,
)
from websockets.typing import Subprotocol

from tickwire_core.clock import now_us
from tickwire_ingest.adapters import connection_metrics as metrics
from tickwire_ingest.adapters.backoff import Backoff, parse_retry_after
from tickwire_ingest.adapters.connection_metrics import ConnectionStats, worth_logging
from tickwire_ingest.domain.events import DISCONNECT, STALE, Gap, RawSink
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, Session, Venue

if TYPE_CHECKING:
    from tickwire_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

PLANNED = "planned"  # reconnect reason: replaced on our own terms, nothing lost
RATE_LIMIT_STATUSES = (429, 418)  # 418: Binance's answer to an address it has banned for a while
_SAMPLE = 200  # characters of a bad frame quoted in the log


@dataclass(frozen=True)
class ConnectionConfig:
    """Timing and limits of venue connections. Staleness and maximum age come from the Venue;
    `stale_after_s` here overrides the venue's when set."""

    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 60.0
    stale_after_s: float | None = None
    # A connection that carried data for this long proves the venue is fine: the backoff restarts.
    healthy_after_s: float = 30.0
    timer_s: float = 1.0  # how often Session.on_timer runs and ages are checked
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    ping_interval_s: float | None = 20.0  # WebSocket pings; a missing pong closes the socket
    max_frame_bytes: int = 2**20
    max_pending_frames: int = 1024  # received but not yet handled, over the plan's sockets

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> ConnectionConfig:
        return cls(
            reconnect_min_s=settings.reconnect_min_s,
            reconnect_max_s=settings.reconnect_max_s,
            stale_after_s=settings.stale_after_s,
        )


@dataclass(eq=False)
class _Link:
    """One open socket and its Session. Times are event-loop times (monotonic)."""

    ws: ClientConnection
    session: Session
    opened_at: float
    last_frame_at: float
    reader: asyncio.Task[None] | None = None
    subscribed: bool = False
    has_data: bool = False


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


_Item = tuple[_Link, str | bytes | None, int]  # frame (None: the socket closed), receipt time


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
        self._frames: asyncio.Queue[_Item] | None = None
        self._current: _Link | None = None
        self._candidate: _Link | None = None
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

    async def _open(self) -> _Link | None:
        provider, config = self.venue.provider, self.config
        try:
            ws = await connect(
                self.plan.url,
                open_timeout=config.open_timeout_s,
                close_timeout=config.close_timeout_s,
                ping_interval=config.ping_interval_s,
                ping_timeout=config.ping_interval_s,
                max_size=config.max_frame_bytes,
                subprotocols=[Subprotocol(name) for name in self.plan.subprotocols] or None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in RATE_LIMIT_STATUSES:
                wait = parse_retry_after(_header(exc, "Retry-After"))
                self._ask_to_wait(wait)
                self.stats.error(metrics.RATE_LIMITED)
                logger.warning(
                    "%s refused the connection with HTTP %d, retry after %s s",
                    provider,
                    status,
                    wait,
                )
            else:
                n = self.stats.error(metrics.CONNECT)
                if worth_logging(n):
                    logger.warning("%s refused the connection with HTTP %d", provider, status)
            return None
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
            n = self.stats.error(metrics.CONNECT)
            if worth_logging(n):
                logger.warning("%s connection failed (%d so far): %r", provider, n, exc)
            return None
        now = asyncio.get_running_loop().time()
        link = _Link(ws, self.venue.session(self.plan), opened_at=now, last_frame_at=now)
        self.stats.opened()
        for frame in link.session.on_open(self._clock()):
            if not await self._send(link, frame):
                self._let_go(link)
                return None
        link.reader = asyncio.create_task(self._read(link), name=f"{provider} reader")
        logger.info(
            "%s connected to %.120s (%d instruments)",  # a Binance URL names every stream
            provider,
            self.plan.url,
            len(self.plan.instruments),
        )
        return link

    async def _read(self, link: _Link) -> None:
        assert self._frames is not None
        try:
            async for data in link.ws:
                await self._frames.put((link, data, self._clock()))
        except ConnectionClosedError:
            pass  # an abnormal close; the loop hears of it like any other
        await self._frames.put((link, None, self._clock()))

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
        self, link: _Link, data: str | bytes | None, received_ts: int
    ) -> _Ending | None:
        if link is not self._current and link is not self._candidate:
            return None  # left in the queue by a connection already let go
        if data is None:
            return self._closed(link)
        self.stats.frame()
        link.last_frame_at = asyncio.get_running_loop().time()
        if link is self._current:
            self._last_frame_ts = received_ts
        inbound, text = self._interpret(link, data, received_ts)
        ending = await self._act(link, inbound, text)
        if link is self._current:
            self._last_frame_ts = received_ts  # it may have just taken over
        return ending

    def _closed(self, link: _Link) -> _Ending | None:
        detail = f"closed: code {link.ws.close_code} {link.ws.close_reason or ''}".rstrip()
        if link is self._candidate:
            logger.warning(
                "%s replacement connection %s before taking over", self.venue.provider, detail
            )
            self._drop_candidate()
            return None
        return _Ending(DISCONNECT, detail)

    def _interpret(self, link: _Link, data: str | bytes, received_ts: int) -> tuple[Inbound, str]:
        if isinstance(data, bytes):
            try:
                data = data.decode()
            except UnicodeDecodeError:
                return Inbound(malformed="binary frame that is not UTF-8 text"), repr(
                    data[:_SAMPLE]
                )
        try:
            return link.session.on_frame(data, received_ts), data
        except Exception:
            n = self.stats.error(metrics.SESSION)
            if worth_logging(n):
                logger.exception(
                    "%s session failed on a frame (%d so far): %.*s",
                    self.venue.provider,
                    n,
                    _SAMPLE,
                    data,
                )
            return Inbound(), data

    async def _act(self, link: _Link, inbound: Inbound, text: str) -> _Ending | None:
        provider = self.venue.provider
        if inbound.malformed is not None:
            n = self.stats.malformed()
            if worth_logging(n):
                logger.warning(
                    "%s malformed frame (%s; %d so far): %.*s",
                    provider,
                    inbound.malformed,
                    n,
                    _SAMPLE,
                    text,
                )
        for error in inbound.errors:
            n = self.stats.error(metrics.VENUE)
            if worth_logging(n):
                logger.warning("%s venue error (%d so far): %s", provider, n, error)
        if inbound.subscribed:
            link.subscribed = True
            logger.info("%s subscribed to %d channels", provider, len(inbound.subscribed))
        if inbound.duplicates:
            self.stats.duplicates(inbound.duplicates)
        if inbound.messages and link is self._candidate:
            self._take_over()
        self._publish(link, inbound)
        for reply in inbound.replies:
            await self._send(link, reply)
        if inbound.retry_after_s is not None:
            if link is self._candidate:
                self._ask_to_wait(inbound.retry_after_s)
                self._drop_candidate()
                return None
            return _Ending(DISCONNECT, "the venue asked to slow down", inbound.retry_after_s)
        if inbound.reconnect and link is self._current:
            self._start_candidate("the venue announced the end of the connection")
        return None

    def _publish(self, link: _Link, inbound: Inbound) -> None:
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

    async def _send(self, link: _Link, frame: str) -> bool:
        try:
            await link.ws.send(frame)
        except ConnectionClosed:
            self.stats.error(metrics.SEND)  # the reader reports the close itself
            return False
        return True

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
                self._background(self._send(link, frame))
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

    def _let_go(self, link: _Link) -> None:
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


def _header(exc: InvalidStatus, name: str) -> str | None:
    values = exc.response.headers.get_all(name)
    return values[0] if values else None
