"""/v1/live: anomalies and signals of chosen instruments as server-sent events, as the signals
service publishes them, fanned out from the one Kafka feed of this process."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import StringConstraints
from starlette.types import Receive, Scope, Send

from tickwire_api import deps
from tickwire_api.adapters.live_hub import LiveHub
from tickwire_api.adapters.live_metrics import EVENTS_SENT
from tickwire_api.domain.live import KINDS, KindChoice, LiveFilter
from tickwire_api.domain.live_fanout import Ended, Lagged, Subscription, TooManyStreams
from tickwire_api.domain.live_sse import HEARTBEAT, lagged_frame, live_frame, opening_frame
from tickwire_api.routes.params import INSTRUMENT, Provider, invalid
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/live", tags=["live"])

NOT_CONFIGURED = "live stream not configured: set KAFKA_BOOTSTRAP_SERVERS"

_EXAMPLE = (
    ": subscribed\n"
    "retry: 3000\n"
    "\n"
    "event: anomaly\n"
    "id: tickwire.anomalies:3:1042\n"
    'data: {"provider":"simulator","instrument":"SIM-BTC-USD","ts":"2023-11-14T22:13:20Z",'
    '"rule":"zscore","severity":"critical","value":6.2,"threshold":5.0,"window_mean":100.0,'
    '"window_stddev":0.25,"window_count":200,"detail":"mid 101.55 is 6.2 standard deviations '
    'from the window mean"}\n'
    "\n"
    "event: signal\n"
    "id: tickwire.signals:3:58211\n"
    'data: {"provider":"simulator","instrument":"SIM-BTC-USD","ts":"2023-11-14T22:14:00Z",'
    '"name":"sma_20","value":100.25,"parameters":{"interval":"1m","window":"20"},'
    '"interval":"1m"}\n'
    "\n"
    ": keep-alive\n"
    "\n"
    "event: lagged\n"
    'data: {"missed":17}\n'
    "\n"
)

_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

Instruments = Annotated[
    list[Annotated[str, StringConstraints(pattern=INSTRUMENT)]],
    Query(
        min_length=1,
        description="Unified instrument; repeat the parameter for several (at most "
        "TICKWIRE_LIVE_MAX_INSTRUMENTS).",
        examples=[["SIM-BTC-USD"]],
    ),
]
Kinds = Annotated[
    KindChoice, Query(description="Which records to stream: anomalies, signals or both.")
]


class LiveStreamResponse(StreamingResponse):
    """text/event-stream whose subscription is released however the response ends: finished,
    failed, or cut short by the client's disconnect before or during the stream."""

    media_type = "text/event-stream"

    def __init__(
        self,
        frames: AsyncGenerator[str, None],
        release: Callable[[], None],
        status_code: int = 200,
    ) -> None:
        super().__init__(
            frames,
            status_code=status_code,
            # no-transform and X-Accel-Buffering keep proxies (nginx) from buffering the stream.
            headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
        )
        self._frames = frames
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
            await self._frames.aclose()


async def _frames(subscription: Subscription, heartbeat_s: float) -> AsyncGenerator[str, None]:
    yield opening_frame()
    while True:
        item = await subscription.next(heartbeat_s)
        if item is None:
            yield HEARTBEAT
        elif isinstance(item, Ended):
            return
        elif isinstance(item, Lagged):
            yield lagged_frame(item.missed)
            EVENTS_SENT.labels("lagged").inc()
        else:
            yield live_frame(item)
            EVENTS_SENT.labels(item.kind).inc()


@router.get(
    "",
    response_class=LiveStreamResponse,
    summary="Live anomalies and signals of chosen instruments (server-sent events)",
    responses={
        200: {
            "description": "An endless text/event-stream: `event: anomaly` and `event: signal` "
            "with `id: <topic>:<partition>:<offset>` and the record as JSON in `data:` (the "
            "fields of /v1/anomalies and /v1/signals); `event: lagged` with "
            '`{"missed":n}` when the client fell behind and n events were dropped; a '
            "`: keep-alive` comment on idle streams.",
            "content": {"text/event-stream": {"example": _EXAMPLE}},
        },
        503: {
            "description": "Live streaming is not configured, or the maximum of streams is open",
            "content": {"application/json": {"schema": _ERROR}},
        },
    },
)
async def live(
    request: Request,
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Instruments,
    kind: Kinds = "both",
    provider: Provider = None,
) -> LiveStreamResponse:
    """Anomalies and signals of the chosen instruments as the signals service publishes them,
    from now on: the stream starts at the newest record and never replays (the history routes
    have what came before; `id` is informative, a reconnect does not resume from it).

    Server-sent events rather than a WebSocket: the stream only goes one way, and SSE is a plain
    HTTP response, so proxies, load balancers, CORS, the API key header and the request limits
    work as for every other route, with no upgrade to allow; a browser's EventSource parses it
    and reconnects by itself.

    A client that reads too slowly is sent `event: lagged` with the number of events it missed,
    and its stream goes on.
    """
    instruments = frozenset(instrument)
    if len(instruments) > settings.live_max_instruments:
        raise invalid(
            "instrument",
            f"{len(instruments)} instruments; one stream takes at most "
            f"{settings.live_max_instruments}",
        )
    hub: LiveHub | None = getattr(request.app.state, "live", None)
    if hub is None:
        raise HTTPException(503, NOT_CONFIGURED)
    try:
        subscription = hub.subscribe(LiveFilter(instruments, KINDS[kind], provider))
    except TooManyStreams as exc:
        raise HTTPException(503, f"{exc}; try again later", headers={"Retry-After": "5"}) from exc
    return LiveStreamResponse(
        _frames(subscription, settings.live_heartbeat_s),
        release=lambda: hub.unsubscribe(subscription),
    )
