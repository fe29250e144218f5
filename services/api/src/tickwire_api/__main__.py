"""python -m tickwire_api: serve the API with uvicorn (which handles SIGTERM gracefully)."""

from __future__ import annotations

import logging
import signal
import sys

import uvicorn

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.errors import ConfigError
from tickwire_core.logs import configure_logging
from tickwire_core.settings import load_settings


def main() -> int:
    try:
        settings = load_settings(ApiSettings)
    except ConfigError as exc:
        print(f"api: {exc}", file=sys.stderr)
        return 2
    configure_logging("api", settings.log_level)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the handler
    # it found at start. These handlers take that last signal, so a clean stop exits with 0 like
    # the other services do.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(
            sig,
            lambda signum, _frame: logging.getLogger(__name__).info(
                "stopped after signal %d", signum
            ),
        )
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        # Open /v1/live streams never end on their own: a stop cuts them after the grace.
        timeout_graceful_shutdown=max(1, int(settings.stop_grace_s)),
    )
    return 0


raise SystemExit(main())
