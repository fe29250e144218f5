"""IG streaming prices: a Lightstreamer (TLCP) client session on a WebSocket with one MERGE
subscription to MARKET:<epic> items, whose delta-encoded updates become full JSON snapshots.

The client side follows the TLCP Specification 2.2.0 (the request and notification syntax used
here is unchanged up to 2.5.0); the connection must ask for the WebSocket subprotocol
`SUBPROTOCOL` on the server's `/lightstreamer` path. Implemented subset: `wsok`, `create_session`
(credentials, adapter set, client id, keep-alive), one `control` add (MERGE, snapshot) for all
items, and the notifications CONOK, CONERR, SUBOK, U, PROBE, LOOP, END, REQOK, REQERR, ERROR plus
the informative ones, which are ignored. Not implemented: Stream-Sense, the HTTP transport and
any fallback to it, polling, session rebind and recovery (a reconnect creates a new session and
receives a new snapshot), COMMAND/DISTINCT/RAW modes, messages, MPN, and the `^P`/`^T` diff
value formats (a value in them is reported as malformed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from tickwire_ingest.domain.events import VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound
from tickwire_ingest.domain.venues import tlcp

PROVIDER = "ig"
FEED = "quotes"
SUBPROTOCOL = "TLCP-2.2.0.lightstreamer.com"
# IG's /session API returns the endpoint to use (lightstreamerEndpoint); this is its usual one.
DEFAULT_URL = "wss://apd.marketdatasystems.com/lightstreamer"
# The identifier TLCP assigns to custom-developed clients (sent percent-encoded, as %20).
CLIENT_ID = "mgQkwtwdysogQz2BJ4Ji kOj2Bg"
# Ask for a PROBE after 5 s of silence so a quiet market still proves the connection alive.
KEEPALIVE_MS = 5000
DEFAULT_STALE_AFTER_S = 20.0
# Session error codes meaning the server is full or busy (too many sessions, overload, blocked).
RETRY_LATER_CODES = frozenset({5, 6, 7, 8, 9, 10})
RETRY_LATER_S = 15.0
# END cause: the session reached its maximum duration; the spec asks for a new one at once.
MAX_DURATION_REACHED = 48
SUBSCRIPTION_ID = 1

_LINE_SAMPLE_CHARS = 60
_INFORMATIVE = frozenset(
    {"WSOK", "REQOK", "SYNC", "CONS", "SERVNAME", "CLIENTIP", "NOOP", "PROG", "CONF", "EOS"}
)


def item_name(epic: str) -> str:
    return f"MARKET:{epic}"


def stream_url(endpoint: str) -> str:
    """The WebSocket URL for an endpoint as IG's /session API returns it (https://host)."""
    parts = urlsplit(endpoint)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else "/lightstreamer"
    return urlunsplit((scheme, parts.netloc, path, parts.query, parts.fragment))


@dataclass
class IgSession:
    """One connection: one Lightstreamer session, the last field values of each item (updates
    only carry what changed), and the subscription sent once the session is confirmed."""

    epics: tuple[str, ...]
    fields: tuple[str, ...]
    user: str
    password: str = field(repr=False)
    adapter_set: str = "DEFAULT"
    _values: dict[int, list[str | None]] = field(default_factory=dict, init=False)

    def on_open(self, now_us: int) -> list[str]:
        session = {
            "LS_user": self.user,
            "LS_password": self.password,
            "LS_adapter_set": self.adapter_set,
            "LS_cid": CLIENT_ID,
            "LS_keepalive_millis": str(KEEPALIVE_MS),
        }
        return [tlcp.request("wsok"), tlcp.request("create_session", session)]

    def on_timer(self, now_us: int) -> list[str]:
        return []

    def subscribe_request(self) -> str:
        return tlcp.request(
            "control",
            {
                "LS_reqId": str(SUBSCRIPTION_ID),
                "LS_op": "add",
                "LS_subId": str(SUBSCRIPTION_ID),
                "LS_mode": "MERGE",
                "LS_group": " ".join(item_name(epic) for epic in self.epics),
                "LS_schema": " ".join(self.fields),
                "LS_snapshot": "true",
            },
        )

    def on_frame(self, text: str, received_ts: int) -> Inbound:
        inbound = Inbound()
        notifications = tlcp.lines(text)
        if not notifications:
            inbound.malformed = "empty frame"
        for line in notifications:
            try:
                self._on_line(line, received_ts, inbound)
            except ValueError as exc:  # TlcpError, and bad UTF-8 in percent-encoding
                if inbound.malformed is None:  # the first bad line, named: a frame has many
                    inbound.malformed = f"{exc} in {line[:_LINE_SAMPLE_CHARS]!r}"
        return inbound

    def _on_line(self, line: str, received_ts: int, inbound: Inbound) -> None:
        tag, args = tlcp.parse(line)
        if tag == "U":
            inbound.messages.append(self._update(args, received_ts))
        elif tag == "PROBE":
            inbound.heartbeat = True
        elif tag == "CONOK":
            inbound.replies.append(self.subscribe_request())
        elif tag == "SUBOK":
            self._subscribed(args, inbound)
        elif tag == "LOOP":
            tlcp.number(args[0])
            inbound.reconnect = True  # a rebind request: without rebind support, a new session
        elif tag == "END":
            code = tlcp.number(args[0])
            inbound.reconnect = True
            if code != MAX_DURATION_REACHED:
                inbound.errors.append(f"session ended {code}: {tlcp.text_argument(args[1])}")
        elif tag == "CONERR":
            code = tlcp.number(args[0])
            inbound.errors.append(f"session refused {code}: {tlcp.text_argument(args[1])}")
            inbound.reconnect = True
            if code in RETRY_LATER_CODES:
                inbound.retry_after_s = RETRY_LATER_S
        elif tag in ("REQERR", "ERROR"):
            code_arg, message = args[-2:]
            inbound.errors.append(
                f"request refused {tlcp.number(code_arg)}: {tlcp.text_argument(message)}"
            )
            inbound.reconnect = True  # our only subscription failed: this session has no data
        elif tag not in _INFORMATIVE:
            raise tlcp.TlcpError(f"unexpected {tag}")

    def _subscribed(self, args: list[str], inbound: Inbound) -> None:
        subscription, items, fields = (tlcp.number(arg) for arg in args)
        if (subscription, items, fields) != (SUBSCRIPTION_ID, len(self.epics), len(self.fields)):
            inbound.errors.append(
                f"subscription {subscription} has {items} items and {fields} fields, "
                f"expected {len(self.epics)} and {len(self.fields)}"
            )
        inbound.subscribed.append(FEED)

    def _update(self, args: list[str], received_ts: int) -> VenueMessage:
        subscription, item = tlcp.number(args[0]), tlcp.number(args[1])
        if subscription != SUBSCRIPTION_ID or not 1 <= item <= len(self.epics):
            raise tlcp.TlcpError(f"update for unknown subscription {subscription} item {item}")
        values = tlcp.decode_values(args[2], self._values.get(item), len(self.fields))
        self._values[item] = values
        epic = self.epics[item - 1]
        body = {"item": item_name(epic), "values": dict(zip(self.fields, values, strict=True))}
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return VenueMessage(FEED, epic, payload, received_ts)


@dataclass
class IgVenue:
    """All epics on one connection and one subscription: IG allows few subscriptions per
    connection and discourages more than one connection per account."""

    url: str
    epics: tuple[str, ...]
    fields: tuple[str, ...]
    user: str
    password: str = field(repr=False)
    adapter_set: str = "DEFAULT"
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    max_connection_age_s: float | None = None
    provider: str = PROVIDER

    def plan(self) -> list[ConnectionPlan]:
        # The handshake must offer the subprotocol: the server picks the protocol version from it.
        return [ConnectionPlan(self.url, self.epics, subprotocols=(SUBPROTOCOL,))]

    def session(self, plan: ConnectionPlan) -> IgSession:
        return IgSession(plan.instruments, self.fields, self.user, self.password, self.adapter_set)
