"""Binance spot combined streams (bookTicker, aggTrade): how symbols are spread over connections,
and what each received frame means (stream events, trade-id gaps, stale repeats, errors)."""

from __future__ import annotations

from typing import Any, TypeGuard
from urllib.parse import parse_qs, urlsplit

from tickwire_ingest.domain.events import VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, json_object
from tickwire_ingest.domain.sequence import SequenceTracker

PROVIDER = "binance"
DEFAULT_URL = "wss://stream.binance.com:9443"
AGG_TRADE = "aggTrade"
BOOK_TICKER = "bookTicker"
MAX_STREAMS_PER_CONNECTION = 1024  # the venue's limit
# Binance cuts every connection at 24 h; reconnecting on our own terms before that loses nothing.
MAX_CONNECTION_AGE_S = 23 * 3600.0
# Binance sends no application heartbeat (its pings are WebSocket control frames, answered and
# checked by the WebSocket library), so only data counts as a frame here; a minute without any
# bookTicker change on every symbol of a connection means the stream is dead.
STALE_AFTER_S = 60.0


def stream_name(symbol: str, kind: str) -> str:
    return f"{symbol.lower()}@{kind}"


def plan_streams(url: str) -> tuple[str, ...]:
    """The stream names a combined-stream URL subscribes to."""
    values = parse_qs(urlsplit(url).query).get("streams", [])
    return tuple(name for value in values for name in value.split("/") if name)


class BinanceSession:
    """One combined-stream connection. Trade ids (`a`) and book update ids (`u`) are checked
    against the Venue's trackers, which outlive the connection, so a reconnect's loss is exact."""

    def __init__(
        self, streams: tuple[str, ...], trades: SequenceTracker, books: dict[str, int]
    ) -> None:
        self._streams: dict[str, tuple[str, str]] = {}
        for name in streams:
            symbol, _, kind = name.partition("@")
            self._streams[name] = (kind, symbol.upper())
        self._trades = trades
        self._books = books

    def on_open(self, now_us: int) -> list[str]:
        return []  # the URL carries the subscription

    def on_timer(self, now_us: int) -> list[str]:
        return []

    def on_frame(self, text: str, received_ts: int) -> Inbound:
        read = json_object(text)
        if isinstance(read, Inbound):
            return read
        frame, payload = read
        if _is_shutdown(frame):
            # Sent minutes before the server goes away: move to a new connection now.
            return Inbound(reconnect=True)
        if "stream" in frame and "data" in frame:
            return self._event(frame, payload, received_ts)
        if "error" in frame:
            return Inbound(errors=[_error_text(frame["error"])])
        if "code" in frame and "msg" in frame:
            return Inbound(errors=[_error_text(frame)])
        if "result" in frame and "id" in frame:
            return Inbound()  # an answer to a (un)subscribe request; none is sent by default
        return Inbound(malformed="neither a stream event nor an error")

    def _event(self, frame: dict[str, Any], payload: bytes, received_ts: int) -> Inbound:
        name, data = frame["stream"], frame["data"]
        known = self._streams.get(name) if isinstance(name, str) else None
        if known is None:
            return Inbound(malformed=f"event of a stream not subscribed here: {name!r}")
        if not isinstance(data, dict):
            return Inbound(malformed=f"{name}: data is not an object")
        kind, symbol = known
        message = VenueMessage(
            feed=kind, instrument=symbol, payload=payload, received_ts=received_ts
        )
        if kind == AGG_TRADE:
            return self._trade(name, symbol, data, message)
        if kind == BOOK_TICKER:
            return self._book(name, symbol, data, message)
        return Inbound(messages=[message])

    def _trade(
        self, name: str, symbol: str, data: dict[str, Any], message: VenueMessage
    ) -> Inbound:
        trade_id = data.get("a")
        if not _is_int(trade_id):
            return Inbound(malformed=f"{name}: no aggregate trade id")
        is_new, gap = self._trades.check(symbol, trade_id, message.received_ts, symbol)
        if not is_new:
            return Inbound(duplicates=1)
        return Inbound(messages=[message], gaps=[gap] if gap else [])

    def _book(self, name: str, symbol: str, data: dict[str, Any], message: VenueMessage) -> Inbound:
        update_id = data.get("u")
        if not _is_int(update_id):
            return Inbound(malformed=f"{name}: no book update id")
        # Update ids rise but skip values, so only a repeat or a step back is meaningful: a stale
        # copy of a book state already published.
        last = self._books.get(symbol)
        if last is not None and update_id <= last:
            return Inbound(duplicates=1)
        self._books[symbol] = update_id
        return Inbound(messages=[message])


class BinanceVenue:
    """Binance spot streams of some symbols, at most `streams_per_connection` per connection."""

    provider = PROVIDER

    def __init__(
        self,
        symbols: tuple[str, ...],
        *,
        kinds: tuple[str, ...] = (BOOK_TICKER, AGG_TRADE),
        streams_per_connection: int = MAX_STREAMS_PER_CONNECTION,
        url: str = DEFAULT_URL,
        max_connection_age_s: float | None = MAX_CONNECTION_AGE_S,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        if not symbols or not kinds:
            raise ValueError("no streams to subscribe to")
        if not 1 <= streams_per_connection <= MAX_STREAMS_PER_CONNECTION:
            raise ValueError(f"streams per connection must be 1..{MAX_STREAMS_PER_CONNECTION}")
        self.symbols = tuple(s.upper() for s in symbols)
        self.kinds = kinds
        self.streams_per_connection = streams_per_connection
        self.base_url = _base(url)
        self.max_connection_age_s = max_connection_age_s
        self.stale_after_s = stale_after_s
        # Venue-wide, so they survive reconnects: the first trade after a reconnect is compared
        # with the last one before it.
        self.trades = SequenceTracker()
        self.books: dict[str, int] = {}

    def plan(self) -> list[ConnectionPlan]:
        streams = [stream_name(symbol, kind) for symbol in self.symbols for kind in self.kinds]
        plans = []
        for start in range(0, len(streams), self.streams_per_connection):
            chunk = streams[start : start + self.streams_per_connection]
            symbols = dict.fromkeys(name.partition("@")[0].upper() for name in chunk)
            url = f"{self.base_url}/stream?streams={'/'.join(chunk)}"
            plans.append(ConnectionPlan(url=url, instruments=tuple(symbols)))
        return plans

    def session(self, plan: ConnectionPlan) -> BinanceSession:
        return BinanceSession(plan_streams(plan.url), self.trades, self.books)


def _base(url: str) -> str:
    """The endpoint without a path of its own: `/stream?streams=...` is added per connection."""
    base = url.split("?", 1)[0].rstrip("/")
    return base.removesuffix("/stream").removesuffix("/ws")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_shutdown(frame: dict[str, Any]) -> bool:
    for part in (frame, frame.get("data"), frame.get("event")):
        if isinstance(part, dict) and part.get("e") == "serverShutdown":
            return True
    return False


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        return f"error {error.get('code')} {error.get('msg', '')}".rstrip()
    return f"error {error!r}"
