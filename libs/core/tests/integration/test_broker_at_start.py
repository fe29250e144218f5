"""Services started while the broker is not there yet: they wait (logged, live but not ready)
instead of exiting, start once it answers, and a stop while they wait ends them at once, with 0."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tickwire_testing.cli import closed_port
from tickwire_testing.forward import loopback_forward
from tickwire_testing.processes import Service, base_env, wait_for

pytestmark = pytest.mark.integration

WAITING = "waiting for the broker at 127.0.0.1:"


def probe(service: Service, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/{path}", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def waiting(service: Service) -> None:
    wait_for(
        lambda: (
            service.log().count(WAITING) >= 2
            or (service.process is not None and service.process.poll() is not None)
        ),
        timeout=120,
        what=f"{service.name} to report waiting twice",
    )
    assert service.process is not None and service.process.poll() is None, service.log()
    assert probe(service, "livez") and not probe(service, "readyz")


def test_services_wait_for_the_broker_and_stop_while_waiting(
    stack, topic_prefix, database_url, tmp_path: Path
) -> None:
    gate, idle = closed_port(), closed_port()

    def env(port: int, name: str) -> dict[str, str]:
        return {
            **base_env(f"127.0.0.1:{port}", database_url, topic_prefix),
            "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}{name}",
            "TICKWIRE_DATA_DIR": str(tmp_path / name),
        }

    # faust's worker used to give up on a broker it could not reach; normalize's start waited in
    # init_transactions and a stop there exited 1.
    signals = Service("tickwire_signals", "signals", tmp_path, env(gate, "signals")).start_async()
    normalize = Service("tickwire_normalize", "normalize", tmp_path, env(idle, "norm"))
    normalize.start_async()
    try:
        waiting(signals)
        waiting(normalize)
        began = time.monotonic()
        assert normalize.stop() == 0, normalize.log()
        assert time.monotonic() - began < 5, "a stop while waiting should end it at once"
        assert "stopped while waiting for the broker" in normalize.log()
        host, port = stack.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)
        with loopback_forward(host, int(port), gate):
            signals.wait_ready(timeout=120)
            assert "is there after" in signals.log()
            assert signals.stop() == 0, signals.log()
    finally:
        signals.stop()
        normalize.stop()
