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
from tickwire_testing.processes import base_env
from tickwire_testing.secure_kafka import SecureBroker, secure_broker
from tickwire_testing.signals import run_service
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
    run = run_service(plain, prefix, len(ticks), env, tmp_path)
    assert run.expected_bars, "the sequence closes no bar"
    run.assert_as_expected()
    log = run.log
    assert "SASL" in log or "sasl" in log, "the log does not show the service authenticating"
    assert broker.password not in log
