"""The signals service on a broker it can reach only over SASL_SSL (PLAIN, SCRAM): faust's
consumer (aiokafka) and the librdkafka producer of its output both authenticate, the bars and
anomalies it writes are the ones its engine computes, and its log holds no password."""

import json
import uuid
from collections.abc import Iterator

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, create_topics, tick_key
from tickwire_testing.kafka import produce
from tickwire_testing.processes import Service, base_env
from tickwire_testing.secure_kafka import SecureBroker, secure_broker
from tickwire_testing.signals import expected_and_written
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000_000  # a whole second
STEP = 10_000  # 10 ms between ticks


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_broker(tmp_path_factory.mktemp("secure-kafka")) as started:
        yield started


def sequence() -> list[dict]:
    ticks = []
    for i in range(300):
        ts = T0 + i * STEP
        mid = 100 + 0.01 * ((i * 7) % 5 - 2)
        ticks.append(quote("T-S", ts, round(mid - 0.01, 4), round(mid + 0.01, 4)))
        if i % 5 == 0:
            ticks.append(trade("T-S", ts + 1, round(mid, 4), 1.0 + (i % 3)))
    ticks.append(quote("T-S", T0 + 20_000_000, 99.99, 100.01))  # closes every bar
    return ticks


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_signals_reads_and_writes_over_sasl_ssl(
    broker: SecureBroker, mechanism: str, tmp_path
) -> None:
    # The test feeds and reads through the broker's plaintext listener; the service is given
    # only the SASL_SSL one.
    plain = broker.kafka.bootstrap_servers
    prefix = f"sasl-{uuid.uuid4().hex[:8]}."
    create_topics(plain, prefix=prefix)
    serde = AvroSerde()
    ticks = sequence()
    produce(
        plain,
        prefix + TICKS,
        [(tick_key("simulator", t["instrument"]), serde.encode("tick", t)) for t in ticks],
    )
    env = {
        **base_env(broker.listeners.sasl_bootstrap_servers, "", prefix),
        "KAFKA_CLIENT_CONFIG": json.dumps(broker.sasl_client_config(mechanism)),
        "TICKWIRE_CONSUMER_GROUP": f"signals-{mechanism.lower()}",
        "TICKWIRE_LOG_LEVEL": "DEBUG",  # a password logged at any level is a leak
    }
    service = Service("tickwire_signals", "signals", tmp_path, env).start()
    try:
        expected_anomalies, expected_bars, anomalies, bars = expected_and_written(
            plain, prefix, len(ticks)
        )
    finally:
        code = service.stop()
    assert code == 0

    def bar_id(b: dict) -> tuple:
        return (b["interval"], b["start_ts"])

    assert expected_bars, "the sequence closes no bar"
    assert sorted(bars, key=bar_id) == sorted(expected_bars, key=bar_id)
    assert sorted(anomalies, key=lambda a: (a["ts"], a["rule"])) == sorted(
        expected_anomalies, key=lambda a: (a["ts"], a["rule"])
    )
    log = service.log_path.read_text()
    assert "SASL" in log or "sasl" in log, "the log does not show the service authenticating"
    assert broker.password not in log
