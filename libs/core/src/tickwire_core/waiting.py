"""Waiting at start-up for a dependency that is not there yet (the database, the broker): tried
again with capped backoff, logged, reported not ready meanwhile, and given up at once on a stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tickwire_core.health import Health
from tickwire_core.kafka import admin_config
from tickwire_core.settings import KafkaServiceSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY_S = 0.5
# 10 s: a dependency that comes back (a database restarting, a broker electing its controller) is
# seen within seconds of it, and one that stays away costs a log line every 10 s, not a flood.
MAX_DELAY_S = 10.0
# How long one ask of the brokers waits for an answer: it bounds how long a stop waits too.
BROKER_ASK_S = 2.0


class StoppedWhileWaiting(Exception):
    """A stop came before the dependency did: the service never started, and exits cleanly."""


def wait_for(
    what: str,
    attempt: Callable[[], T],
    *,
    stop: threading.Event,
    health: Health,
    check: str,
    away: Callable[[Exception], bool],
    first_delay_s: float = FIRST_DELAY_S,
    max_delay_s: float = MAX_DELAY_S,
) -> T:
    """`attempt()`'s result once it stops raising exceptions that `away` says mean the dependency
    is not there yet; any other passes through. Until then readiness check `check` is false (the
    caller replaces it with the real one after)."""
    waiting = threading.Event()
    waiting.set()
    health.add_check(check, lambda: not waiting.is_set())
    delay, tries = first_delay_s, 0
    while True:
        health.beat()  # waiting is not hanging: liveness holds, readiness does not
        try:
            result = attempt()
        except Exception as exc:
            if not away(exc):
                raise
            tries += 1
            cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            logger.warning(
                "waiting for %s (try %d failed: %s); next try in %.1fs", what, tries, cause, delay
            )
        else:
            if tries:
                logger.info("%s is there after %d tries", what, tries + 1)
            waiting.clear()
            return result
        if stop.wait(delay):
            raise StoppedWhileWaiting(what)
        delay = min(delay * 2, max_delay_s)


def database_away(exc: Exception) -> bool:
    """A connection that failed because the database is not there (refused, timed out, starting
    up or shutting down), not because of what it was told: a wrong password or a database that
    does not exist still ends the service, so a supervisor reports it."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    return exc.sqlstate is None or exc.sqlstate[:2] in ("08", "57")


class BrokerAway(Exception):
    """No broker answered a metadata request."""


def wait_for_broker(settings: KafkaServiceSettings, stop: threading.Event, health: Health) -> None:
    """Until a broker answers: librdkafka's clients would queue and retry on their own, but a
    service would then start its work (faust would give up) with nowhere to send it."""
    admin = AdminClient(admin_config(settings))

    def brokers() -> None:
        try:
            # Short: a stop that comes while this waits is served only after it (the call cannot
            # be interrupted), and a broker that is there answers in milliseconds.
            metadata = admin.list_topics(timeout=BROKER_ASK_S)
        except KafkaException as exc:
            raise BrokerAway(exc.args[0].str()) from exc
        if not metadata.brokers:
            raise BrokerAway("no broker in the metadata")

    wait_for(
        f"the broker at {settings.kafka_bootstrap_servers}",
        brokers,
        stop=stop,
        health=health,
        check="kafka_brokers",
        away=lambda exc: isinstance(exc, BrokerAway),
    )
