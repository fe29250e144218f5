"""One WebSocket of a plan's connection (a Link): opened with the venue's refusals told apart,
read into the connection's queue, written to, and each frame read by the venue's Session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    InvalidHandshake,
    InvalidStatus,
)
from websockets.typing import Subprotocol

from tickwire_ingest.adapters import connection_metrics as metrics
from tickwire_ingest.adapters.backoff import parse_retry_after
from tickwire_ingest.adapters.connection_config import ConnectionConfig
from tickwire_ingest.adapters.connection_metrics import ConnectionStats, worth_logging
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, Session

logger = logging.getLogger(__name__)

RATE_LIMIT_STATUSES = (429, 418)  # 418: Binance's answer to an address it has banned for a while
SAMPLE = 200  # characters of a bad frame quoted in the log


@dataclass(eq=False)
class Link:
    """One open socket and its Session. Times are event-loop times (monotonic)."""

    ws: ClientConnection
    session: Session
    opened_at: float
    last_frame_at: float
    reader: asyncio.Task[None] | None = None
    subscribed: bool = False
    has_data: bool = False


Item = tuple[Link, str | bytes | None, int]  # frame (None: the socket closed), receipt time


@dataclass(frozen=True)
class Refused:
    """No socket: the attempt failed, or the venue refused it; `retry_after_s` when the venue
    asked to wait that long before the next."""

    retry_after_s: float | None = None


async def dial(
    plan: ConnectionPlan, config: ConnectionConfig, stats: ConnectionStats
) -> ClientConnection | Refused:
    """Open a socket for the plan; a failure is counted and logged, and told apart when it is
    the venue asking to slow down (HTTP 429/418 with Retry-After)."""
    provider = stats.provider
    try:
        return await connect(
            plan.url,
            open_timeout=config.open_timeout_s,
            close_timeout=config.close_timeout_s,
            ping_interval=config.ping_interval_s,
            ping_timeout=config.ping_interval_s,
            max_size=config.max_frame_bytes,
            subprotocols=[Subprotocol(name) for name in plan.subprotocols] or None,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in RATE_LIMIT_STATUSES:
            wait = parse_retry_after(_header(exc, "Retry-After"))
            stats.error(metrics.RATE_LIMITED)
            logger.warning(
                "%s refused the connection with HTTP %d, retry after %s s",
                provider,
                status,
                wait,
            )
            return Refused(wait)
        n = stats.error(metrics.CONNECT)
        if worth_logging(n):
            logger.warning("%s refused the connection with HTTP %d", provider, status)
        return Refused()
    except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
        n = stats.error(metrics.CONNECT)
        if worth_logging(n):
            logger.warning("%s connection failed (%d so far): %r", provider, n, exc)
        return Refused()


async def read_into(link: Link, frames: asyncio.Queue[Item], clock: Callable[[], int]) -> None:
    """Every frame of the socket onto the queue with its receipt time, then None once it closed."""
    try:
        async for data in link.ws:
            await frames.put((link, data, clock()))
    except ConnectionClosedError:
        pass  # an abnormal close; the loop hears of it like any other
    await frames.put((link, None, clock()))


async def send(link: Link, frame: str, stats: ConnectionStats) -> bool:
    try:
        await link.ws.send(frame)
    except ConnectionClosed:
        stats.error(metrics.SEND)  # the reader reports the close itself
        return False
    return True


def interpret(link: Link, data: str | bytes, received_ts: int, stats: ConnectionStats) -> Inbound:
    """What the link's Session makes of a frame; malformed frames and the venue's errors are
    counted and logged here, with a sample of the frame."""
    inbound, text = _read(link, data, received_ts, stats)
    if inbound.malformed is not None:
        n = stats.malformed()
        if worth_logging(n):
            logger.warning(
                "%s malformed frame (%s; %d so far): %.*s",
                stats.provider,
                inbound.malformed,
                n,
                SAMPLE,
                text,
            )
    for error in inbound.errors:
        n = stats.error(metrics.VENUE)
        if worth_logging(n):
            logger.warning("%s venue error (%d so far): %s", stats.provider, n, error)
    return inbound


def _read(
    link: Link, data: str | bytes, received_ts: int, stats: ConnectionStats
) -> tuple[Inbound, str]:
    """The Session's reading of a frame, and the frame as text for the log. A Session that
    raises is counted and skipped, so one protocol bug cannot stop the connection."""
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            return Inbound(malformed="binary frame that is not UTF-8 text"), repr(data[:SAMPLE])
    try:
        return link.session.on_frame(data, received_ts), data
    except Exception:
        n = stats.error(metrics.SESSION)
        if worth_logging(n):
            logger.exception(
                "%s session failed on a frame (%d so far): %.*s",
                stats.provider,
                n,
                SAMPLE,
                data,
            )
        return Inbound(), data


def _header(exc: InvalidStatus, name: str) -> str | None:
    values = exc.response.headers.get_all(name)
    return values[0] if values else None
