"""Deribit's JSON-RPC WebSocket protocol for ticker channels: what to send on open, and what each
received frame means (ticker notifications, heartbeats to answer, subscription results, errors)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tickwire_ingest.domain.events import VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound, json_object

PROVIDER = "deribit"
DEFAULT_URL = "wss://www.deribit.com/ws/api/v2"
FEED = "ticker"

SET_HEARTBEAT = "public/set_heartbeat"
SUBSCRIBE = "public/subscribe"
TEST = "public/test"

TOO_MANY_REQUESTS = 10028
# Deribit's default non-matching-engine credit pool refills from empty in 5 s (50,000 credits at
# 10,000 a second), and it closes the session on this error: wait that long before reconnecting.
RATE_LIMIT_WAIT_S = 5.0


def channel(instrument: str, interval: str) -> str:
    return f"{FEED}.{instrument}.{interval}"


class DeribitSession:
    """One connection: set up heartbeats, subscribe to the plan's tickers, answer test requests."""

    def __init__(
        self, channels: dict[str, str], heartbeat_s: int, rate_limit_wait_s: float
    ) -> None:
        self._instrument_of = channels  # channel name -> instrument
        self._heartbeat_s = heartbeat_s
        self._rate_limit_wait_s = rate_limit_wait_s
        self._ids = itertools.count(1)
        # Only the requests whose answers matter are remembered, so this stays small; answers to
        # public/test (one per heartbeat) are recognised by not being here.
        self._awaiting: dict[int, str] = {}

    def on_open(self, now_us: int) -> list[str]:
        return [
            self._request(SET_HEARTBEAT, {"interval": self._heartbeat_s}, remember=True),
            self._request(SUBSCRIBE, {"channels": list(self._instrument_of)}, remember=True),
        ]

    def on_timer(self, now_us: int) -> list[str]:
        return []  # Deribit drives liveness itself: it sends test_request and we answer

    def on_frame(self, text: str, received_ts: int) -> Inbound:
        read = json_object(text)
        if isinstance(read, Inbound):
            return read
        frame, payload = read
        method = frame.get("method")
        if method == "subscription":
            return self._notification(frame, payload, received_ts)
        if method == "heartbeat":
            return self._heartbeat(frame)
        if "error" in frame:
            return self._error(frame)
        if "result" in frame:
            return self._result(frame)
        return Inbound(malformed="neither a notification nor an answer")

    def _notification(self, frame: dict[str, Any], payload: bytes, received_ts: int) -> Inbound:
        params = frame.get("params")
        name = params.get("channel") if isinstance(params, dict) else None
        if not isinstance(name, str):
            return Inbound(malformed="subscription notification without a channel")
        instrument = self._instrument_of.get(name)
        if instrument is None:
            return Inbound(malformed=f"notification on a channel not subscribed here: {name}")
        message = VenueMessage(
            feed=FEED, instrument=instrument, payload=payload, received_ts=received_ts
        )
        return Inbound(messages=[message])

    def _heartbeat(self, frame: dict[str, Any]) -> Inbound:
        params = frame.get("params")
        kind = params.get("type") if isinstance(params, dict) else None
        if kind == "test_request":
            # Deribit closes the connection at once if this goes unanswered.
            return Inbound(heartbeat=True, replies=[self._request(TEST, {}, remember=False)])
        return Inbound(heartbeat=True)

    def _error(self, frame: dict[str, Any]) -> Inbound:
        request = self._answered(frame)
        error = frame.get("error")
        if not isinstance(error, dict):
            return Inbound(errors=[f"{request}: {error!r}"])
        code = error.get("code")
        text = f"{request}: error {code} {error.get('message', '')}".rstrip()
        data = error.get("data")
        if data:
            text += f" ({json.dumps(data, separators=(',', ':'))})"
        retry = self._rate_limit_wait_s if code == TOO_MANY_REQUESTS else None
        return Inbound(errors=[text], retry_after_s=retry)

    def _result(self, frame: dict[str, Any]) -> Inbound:
        request = self._answered(frame)
        if request != SUBSCRIBE:
            return Inbound()  # set_heartbeat "ok", public/test version: nothing to act on
        result = frame["result"]
        if not isinstance(result, list) or not all(isinstance(c, str) for c in result):
            return Inbound(malformed="subscription result is not a list of channels")
        # Deribit confirms only the channels it accepted; an unknown instrument is just left out.
        missing = [c for c in self._instrument_of if c not in result]
        errors = [f"{SUBSCRIBE}: not subscribed: {', '.join(missing)}"] if missing else []
        return Inbound(subscribed=list(result), errors=errors)

    def _answered(self, frame: dict[str, Any]) -> str:
        key = frame.get("id")
        request = self._awaiting.pop(key, None) if isinstance(key, int) else None
        return request or f"request {key}"

    def _request(self, method: str, params: dict[str, Any], *, remember: bool) -> str:
        key = next(self._ids)
        if remember:
            self._awaiting[key] = method
        body = {"jsonrpc": "2.0", "id": key, "method": method, "params": params}
        return json.dumps(body, separators=(",", ":"))


class DeribitVenue:
    """Deribit tickers of some instruments, all on one connection.

    Deribit tickers carry no sequence number (only the venue's `timestamp` in milliseconds), so
    the only loss visible here is a disconnect, which the connection manager reports as a gap."""

    provider = PROVIDER
    max_connection_age_s: float | None = None

    def __init__(
        self,
        instruments: tuple[str, ...],
        *,
        interval: str = "100ms",
        heartbeat_s: int = 30,
        url: str = DEFAULT_URL,
        stale_after_s: float | None = None,
        rate_limit_wait_s: float = RATE_LIMIT_WAIT_S,
    ) -> None:
        if not instruments:
            raise ValueError("no instruments to subscribe to")
        self.instruments = instruments
        self.interval = interval
        self.heartbeat_s = heartbeat_s
        self.url = url
        # Deribit sends a heartbeat or test_request every interval when nothing else is sent:
        # two intervals without a frame (and a little slack) mean the connection is dead.
        self.stale_after_s = stale_after_s or 2.0 * heartbeat_s + 5.0
        self.rate_limit_wait_s = rate_limit_wait_s

    def plan(self) -> list[ConnectionPlan]:
        return [ConnectionPlan(url=self.url, instruments=self.instruments)]

    def session(self, plan: ConnectionPlan) -> DeribitSession:
        channels = {channel(name, self.interval): name for name in plan.instruments}
        return DeribitSession(channels, self.heartbeat_s, self.rate_limit_wait_s)
