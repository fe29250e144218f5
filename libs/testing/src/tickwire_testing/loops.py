"""Running a service's loop in a thread of the test, with its health, and stopping it cleanly."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tickwire_core.health import Health
from tickwire_core.service import Runnable


@contextmanager
def running(build: Callable[[Health, threading.Event], Runnable]) -> Iterator[Health]:
    """Build the loop with a fresh Health and stop event, run it until the block ends, then stop
    it and require that it actually stopped."""
    stop = threading.Event()
    health = Health()
    loop = build(health, stop)
    worker = threading.Thread(target=loop.run, name="service-loop")
    worker.start()
    try:
        yield health
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive(), "the loop did not stop within 30 s of its stop event"
