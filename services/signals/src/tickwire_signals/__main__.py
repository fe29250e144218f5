"""Entry point: settings once, health endpoints, then the faust worker until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import sys

import uvloop

from tickwire_core.errors import ConfigError
from tickwire_core.health import Health, HealthServer
from tickwire_core.logs import configure_logging
from tickwire_core.settings import load_settings
from tickwire_core.stopping import stop_on_signals
from tickwire_core.waiting import StoppedWhileWaiting, wait_for_broker
from tickwire_signals.adapters.faust_runtime import Worker
from tickwire_signals.app import build_app
from tickwire_signals.settings import SignalsSettings


def main() -> int:
    """Exit codes: 0 stopped cleanly, 2 bad settings, 1 failed."""
    # uvloop: faust's per-message path is event-loop bound, and uvloop cuts that cost. Installed
    # before the app is built: faust binds the event loop it finds then, for good.
    uvloop.install()
    try:
        settings = load_settings(SignalsSettings)
        health = Health()
        app = build_app(settings, health)
    except ConfigError as exc:
        print(f"signals: {exc}", file=sys.stderr)
        return 2
    server = HealthServer(health, settings.health_host, settings.health_port).start()
    # faust's worker gives up on a broker it cannot reach at start: wait for one first, as the
    # other services do (tickwire_core.service), stopping at once on SIGTERM/SIGINT meanwhile.
    configure_logging("signals", settings.log_level)
    try:
        wait_for_broker(settings, stop_on_signals("signals", settings.stop_grace_s), health)
    except StoppedWhileWaiting as exc:
        logging.getLogger(__name__).info("signals: stopped while waiting for %s", exc)
        server.stop()
        return 0
    level = {"WARNING": "warn", "CRITICAL": "crit"}.get(settings.log_level, settings.log_level)
    worker = Worker(app, loglevel=level.lower(), quiet=True, stop_grace_s=settings.stop_grace_s)
    worker.execute_from_commandline()  # handles SIGTERM/SIGINT; exits with 0 after a clean stop
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
