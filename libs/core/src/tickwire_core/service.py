"""The one way a tickwire service starts: settings built once from the environment, JSON logs,
the health server, SIGTERM/SIGINT handling, then the service's own run()."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from tickwire_core.errors import ConfigError, ProducerStuck
from tickwire_core.health import Health, HealthServer
from tickwire_core.logs import configure_logging
from tickwire_core.settings import KafkaServiceSettings, load_settings
from tickwire_core.stopping import stop_on_signals
from tickwire_core.waiting import StoppedWhileWaiting, wait_for_broker

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=KafkaServiceSettings)


class Runnable(Protocol):
    def run(self) -> None: ...


def main(
    service: str,
    settings_model: type[S],
    bootstrap: Callable[[S, Health, threading.Event], Runnable],
) -> int:
    """Exit codes: 0 stopped cleanly (also while still waiting for a dependency at start), 2 bad
    settings, 1 failed (a producer stuck for good exits at once, without cleaning up)."""
    try:
        settings = load_settings(settings_model)
    except ConfigError as exc:
        print(f"{service}: {exc}", file=sys.stderr)
        return 2
    configure_logging(service, settings.log_level)
    stop = stop_on_signals(service, settings.stop_grace_s)
    health = Health()
    server = HealthServer(health, settings.health_host, settings.health_port).start()
    try:
        wait_for_broker(settings, stop, health)
        bootstrap(settings, health, stop).run()
    except StoppedWhileWaiting as exc:
        logger.info("%s: stopped while waiting for %s", service, exc)
    except ConfigError as exc:
        logger.error("%s: %s", service, exc)
        return 2
    except ProducerStuck as exc:
        # A thread is blocked inside the producer for good, and tearing the producer down would
        # wait for it: leave at once, as a crash would, so that the process is restarted.
        logger.critical("%s failed: %s", service, exc)
        logging.shutdown()
        os._exit(1)
    except Exception:
        logger.exception("%s failed", service)
        return 1
    finally:
        server.stop()
    return 0
