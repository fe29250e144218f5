"""Entry point: settings once, health endpoints, then the faust worker until SIGTERM/SIGINT."""

from __future__ import annotations

import os
import sys
import threading

import faust
import uvloop

from tickwire_core.errors import ConfigError
from tickwire_core.health import Health, HealthServer
from tickwire_core.settings import load_settings
from tickwire_signals.app import build_app
from tickwire_signals.settings import SignalsSettings

_STOP_GRACE_S = 20.0


class _Worker(faust.Worker):
    """faust's worker, with a bound on how long a stop may take: with the brokers gone, faust's
    shutdown waits for them without end (flushing, committing, leaving the group), and a service
    told to stop must stop. The output flushed before each state write keeps that safe."""

    def _on_sigterm(self) -> None:
        _exit_after(_STOP_GRACE_S)
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        _exit_after(_STOP_GRACE_S)
        super()._on_sigint()


def _exit_after(seconds: float) -> None:
    def give_up() -> None:
        print(f"signals: not stopped {seconds:.0f}s after the signal; exiting", file=sys.stderr)
        os._exit(1)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()


def main() -> int:
    """Exit codes: 0 stopped cleanly, 2 bad settings, 1 failed."""
    try:
        settings = load_settings(SignalsSettings)
        health = Health()
        app = build_app(settings, health)
    except ConfigError as exc:
        print(f"signals: {exc}", file=sys.stderr)
        return 2
    HealthServer(health, settings.health_host, settings.health_port).start()
    # uvloop: faust's per-message path is event-loop bound, and uvloop cuts that cost by a third.
    uvloop.install()
    level = {"WARNING": "warn", "CRITICAL": "crit"}.get(settings.log_level, settings.log_level)
    worker = _Worker(app, loglevel=level.lower(), quiet=True)
    worker.execute_from_commandline()  # handles SIGTERM/SIGINT; exits with 0 after a clean stop
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
