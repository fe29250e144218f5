"""The sink started while its database is not there yet: it waits (logged, not ready) instead of
exiting, starts once the database answers, and a stop while it waits ends it at once, cleanly."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import psycopg
import pytest

from tickwire_testing.cli import closed_port
from tickwire_testing.forward import loopback_forward
from tickwire_testing.processes import Service, base_env, wait_for

pytestmark = pytest.mark.integration


def ready(service: Service) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/readyz", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def sink_at(port: int, database_url: str, stack, topic_prefix: str, tmp_path, name: str) -> Service:
    """A sink whose DATABASE_URL names the database as reached through 127.0.0.1:`port`."""
    moved = psycopg.conninfo.make_conninfo(database_url, host="127.0.0.1", port=str(port))
    env = {
        **base_env(stack.kafka_bootstrap_servers, moved, topic_prefix),
        "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}{name}",
    }
    return Service("tickwire_sink", name, tmp_path, env).start_async()


def test_the_sink_waits_for_its_database_and_stops_while_waiting(
    stack, topic_prefix, database_url, tmp_path
) -> None:
    params = psycopg.conninfo.conninfo_to_dict(database_url)
    gate, idle = closed_port(), closed_port()
    waits = sink_at(gate, database_url, stack, topic_prefix, tmp_path, "sink-waits")
    stops = sink_at(idle, database_url, stack, topic_prefix, tmp_path, "sink-stops")
    try:
        for service in (waits, stops):
            wait_for(
                lambda s=service: s.log().count("waiting for the database") >= 2,
                timeout=120,
                what=f"{service.name} to report waiting twice",
            )
            assert service.process is not None and service.process.poll() is None, service.log()
            assert not ready(service)
        began = time.monotonic()
        assert stops.stop() == 0, stops.log()
        assert time.monotonic() - began < 5, "a stop while waiting should end it at once"
        assert "stopped while waiting for the database" in stops.log()
        with loopback_forward(str(params.get("host") or "127.0.0.1"), int(params["port"]), gate):
            waits.wait_ready(timeout=90)
            assert "the database is there after" in waits.log()
            assert waits.stop() == 0, waits.log()
    finally:
        waits.stop()
        stops.stop()
