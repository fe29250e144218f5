"""How a service stops: SIGTERM or SIGINT sets a stop event, and the process exits anyway once
its grace has run out (a second signal exits at once)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

logger = logging.getLogger(__name__)


def exit_after(seconds: float, service: str) -> None:
    """Exit the process `seconds` from now unless it has exited by then. A stop must end even
    when the brokers or the database went away with the signal (the whole stack stopping at
    once): flushing and committing then wait without end. What was not committed is redelivered,
    so giving up is safe."""

    def give_up() -> None:
        logger.error("%s: not stopped %.0fs after the signal; exiting", service, seconds)
        print(f"{service}: not stopped {seconds:.0f}s after the signal; exiting", file=sys.stderr)
        os._exit(1)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()


def stop_on_signals(service: str = "service", grace_s: float = 20.0) -> threading.Event:
    """An event set by SIGTERM or SIGINT; the process exits anyway `grace_s` later, and a second
    signal exits at once."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)
        logger.info("signal %d: stopping after the current batch", signum)
        exit_after(grace_s, service)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop
