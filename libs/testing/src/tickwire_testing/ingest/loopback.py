"""A scriptable WebSocket venue on 127.0.0.1 for tests: each connection plays a script (send, wait
for a request, go silent, drop, refuse with 429) and everything the client sent is recorded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

Reply = Callable[[str], Sequence[str]]  # a client frame -> the frames to answer it with


@dataclass(frozen=True)
class Send:
    """Send these frames, `interval_s` apart: text frames, or binary ones given as bytes."""

    frames: Sequence[str | bytes]
    interval_s: float = 0.0


@dataclass(frozen=True)
class Await:
    """Wait until the client has sent a frame containing `match` on this connection (counting
    frames sent before this step too), then answer it with `reply` if given."""

    match: str
    reply: Reply | None = None
    timeout_s: float = 5.0


@dataclass(frozen=True)
class Silence:
    """Send nothing for a while (the connection stays open)."""

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Cut the TCP connection without a close frame, as a network failure would."""


@dataclass(frozen=True)
class Close:
    """Close the connection cleanly with this code."""

    code: int = 1000
    reason: str = ""


@dataclass(frozen=True)
class Refuse:
    """Refuse the opening handshake (only as a script's first step)."""

    status: int = 429
    retry_after: str | None = None
    body: str = "Too Many Requests\n"


Step = Send | Await | Silence | Drop | Close | Refuse


@dataclass(frozen=True)
class Respond:
    """A standing rule for every connection: answer each client frame containing `match`."""

    match: str
    reply: Reply


@dataclass
class _Peer:
    ws: ServerConnection
    received: list[str]
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)


class LoopbackVenue:
    """Connection n (counting refused ones) plays scripts[n], or the last script once they run
    out; after its last step it stays open until the client leaves. Use as `async with`.

    `attempts` holds the monotonic time of every handshake attempt, `received` what the client
    sent on each accepted connection, `paths` the request path (with its query) of each. A script
    that fails is re-raised when the `async with` block ends.

    With `subprotocols`, the venue speaks only those (as Lightstreamer does): a handshake offering
    none of them is refused with 400 (counting as an attempt, like Refuse), otherwise the first
    of them, in this order, that the client offered is chosen.
    `offered` holds the subprotocols each handshake attempt offered, `negotiated` the one chosen
    on each accepted connection."""

    def __init__(
        self,
        scripts: Sequence[Sequence[Step]],
        responders: Sequence[Respond] = (),
        subprotocols: Sequence[str] = (),
    ) -> None:
        if not scripts:
            raise ValueError("at least one script")
        for script in scripts:
            if any(isinstance(step, Refuse) for step in script[1:]):
                raise ValueError("Refuse can only be a script's first step")
        self.scripts = [tuple(script) for script in scripts]
        self.responders = tuple(responders)
        self.subprotocols = tuple(subprotocols)
        self.attempts: list[float] = []
        self.offered: list[tuple[str, ...]] = []
        self.negotiated: list[str | None] = []
        self.paths: list[str] = []
        self.received: list[list[str]] = []
        self.failures: list[BaseException] = []  # scripts that failed (e.g. an Await timed out)
        self._script_of: dict[ServerConnection, tuple[Step, ...]] = {}
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"ws://{host}:{port}"

    @property
    def connections(self) -> int:
        """Accepted connections."""
        return len(self.received)

    async def __aenter__(self) -> LoopbackVenue:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            subprotocols=[Subprotocol(name) for name in self.subprotocols] or None,
            close_timeout=0.5,
            ping_interval=None,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        if self.failures and exc is None:
            raise self.failures[0]

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        number = len(self.attempts)
        self.attempts.append(time.monotonic())
        offered = tuple(
            name
            for header in request.headers.get_all("Sec-WebSocket-Protocol")
            for name in parse_subprotocol(header)
        )
        self.offered.append(offered)
        script = self.scripts[min(number, len(self.scripts) - 1)]
        first = script[0] if script else None
        if isinstance(first, Refuse):
            response = connection.respond(first.status, first.body)
            if first.retry_after is not None:
                response.headers["Retry-After"] = first.retry_after
            return response
        if self.subprotocols and not set(offered) & set(self.subprotocols):
            # Refused here rather than in the negotiation, which would come after the bookkeeping
            # below of a connection that is never handled.
            return connection.respond(400, "No supported subprotocol offered\n")
        self._script_of[connection] = script
        self.paths.append(request.path)
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        peer = _Peer(ws, [])
        self.received.append(peer.received)
        self.negotiated.append(ws.subprotocol)
        script = self._script_of.pop(ws)
        listener = asyncio.create_task(self._listen(peer))
        player = asyncio.create_task(self._play_all(peer, script))
        # The script ends early when the client goes away (e.g. during a long silence).
        closed = asyncio.create_task(ws.wait_closed())
        try:
            await asyncio.wait({player, closed}, return_when=asyncio.FIRST_COMPLETED)
            failure = player.exception() if player.done() and not player.cancelled() else None
            if failure is not None:
                self.failures.append(failure)
        finally:
            for task in (listener, player, closed):
                task.cancel()
            await asyncio.gather(listener, player, closed, return_exceptions=True)

    async def _play_all(self, peer: _Peer, script: Sequence[Step]) -> None:
        with contextlib.suppress(ConnectionClosed):
            for step in script:
                if not await self._play(peer, step):
                    return
            await peer.ws.wait_closed()

    async def _listen(self, peer: _Peer) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for data in peer.ws:
                text = data if isinstance(data, str) else data.decode()
                async with peer.arrived:
                    peer.received.append(text)
                    peer.arrived.notify_all()
                for rule in self.responders:
                    if rule.match in text:
                        for frame in rule.reply(text):
                            await peer.ws.send(frame)

    async def _play(self, peer: _Peer, step: Step) -> bool:
        """False when the step ended the connection."""
        ws = peer.ws
        if isinstance(step, Send):
            for number, frame in enumerate(step.frames):
                if number and step.interval_s:
                    await asyncio.sleep(step.interval_s)
                await ws.send(frame)
        elif isinstance(step, Await):
            async with asyncio.timeout(step.timeout_s), peer.arrived:
                await peer.arrived.wait_for(
                    lambda: any(step.match in text for text in peer.received)
                )
                request = next(text for text in peer.received if step.match in text)
            if step.reply is not None:
                for frame in step.reply(request):
                    await ws.send(frame)
        elif isinstance(step, Silence):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, Drop):
            ws.transport.abort()
            return False
        elif isinstance(step, Close):
            await ws.close(step.code, step.reason)
            return False
        return True
