"""Running a connector's asyncio loop inside a test: start it against a stop event, wait for an
outcome, then stop it and require that it stopped (and did not fail) promptly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Protocol


class Stoppable(Protocol):
    def run(self, stop: asyncio.Event) -> Coroutine[Any, Any, None]: ...


@asynccontextmanager
async def running(connector: Stoppable, stop_within_s: float = 5.0) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(connector.run(stop))
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(stop_within_s):
            await task  # raises what the connector raised


async def eventually(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    """Wait until `condition` holds, checking every few milliseconds; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s")
        await asyncio.sleep(0.005)
