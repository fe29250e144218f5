"""tickwire's own Kafka clients (topic creation, producer, consumer, readiness probe) over TLS with
client certificates and over SASL (PLAIN, SCRAM) on TLS, against a real broker of the module's own;
clients the broker must not accept are refused, and no password reaches the log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from tickwire_core.kafka import BrokerProbe, consumer_config, producer_config
from tickwire_core.settings import KafkaServiceSettings
from tickwire_core.topics import RAW_TICKS, create_topics, load_topics
from tickwire_testing.processes import wait_for
from tickwire_testing.secure_kafka import SecureBroker, secure_broker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    # A broker of its own: the session's shared one keeps its single plaintext listener.
    with secure_broker(tmp_path_factory.mktemp("secure-kafka")) as started:
        yield started


def settings_for(bootstrap: str, client_config: dict[str, str]) -> KafkaServiceSettings:
    # Validated as a service's settings are, so the config under test is one a service accepts.
    return KafkaServiceSettings(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        KAFKA_CLIENT_CONFIG=client_config,
        topic_prefix=f"sec-{uuid.uuid4().hex[:8]}.",
        instance_id="security-test",
    )


def round_trip(settings: KafkaServiceSettings, values: list[bytes]) -> list[bytes]:
    """Create the raw topic, produce `values` and read them back, all over `settings`' listener."""
    raw = [t for t in load_topics() if t.name == RAW_TICKS]
    create_topics(
        settings.kafka_bootstrap_servers,
        raw,
        prefix=settings.topic_prefix,
        client_config=settings.kafka_client_config,
    )
    topic = settings.topic(RAW_TICKS)
    producer = Producer(producer_config(settings))
    for value in values:
        producer.produce(topic, key=b"BTC-USD", value=value)
    assert producer.flush(30) == 0, "records not delivered"

    consumer = Consumer(consumer_config(settings, f"security-{uuid.uuid4().hex[:8]}"))
    consumer.subscribe([topic])
    received: list[bytes] = []
    try:
        for _ in range(60):
            for message in consumer.consume(len(values), 1.0):
                assert message.error() is None, message.error()
                received.append(message.value() or b"")
            if len(received) >= len(values):
                break
    finally:
        consumer.close()
    return received


def answers(probe: BrokerProbe) -> bool:
    try:
        return probe.reachable()
    except KafkaException:  # the health endpoint takes a failing check as "not ready yet"
        return False


def refusal(settings: KafkaServiceSettings) -> list[KafkaError]:
    """The errors a producer built from `settings` meets when it asks for the brokers; the
    request itself must fail."""
    errors: list[KafkaError] = []
    producer = Producer(producer_config(settings, error_cb=errors.append))
    with pytest.raises(KafkaException):
        producer.list_topics(timeout=5)
    # Error callbacks are served on poll; wait (a while, on a loaded machine) for one that says
    # more than "all brokers are down".
    for _ in range(20):
        producer.poll(0.5)
        if any(e.code() != KafkaError._ALL_BROKERS_DOWN for e in errors):
            break
    return errors


def test_mutual_tls_carries_records_both_ways(broker: SecureBroker) -> None:
    settings = settings_for(broker.listeners.tls_bootstrap_servers, broker.tls_client_config())
    values = [f"tick-{i}".encode() for i in range(20)]

    probe = BrokerProbe(settings)
    # Asked as /readyz asks it, again until it answers: its 2 s budget also covers the first
    # connection's TLS handshake, which a loaded machine can take longer than that to finish.
    assert wait_for(lambda: answers(probe), 30, "the readiness probe to reach the broker")
    assert sorted(round_trip(settings, values)) == sorted(values)


# Without a CA of its own, librdkafka trusts the system's CAs, none of which signed the broker's.
@pytest.mark.parametrize("other_ca", [True, False], ids=["another-ca", "system-cas"])
def test_a_client_that_does_not_trust_the_brokers_ca_is_refused(
    broker: SecureBroker, other_ca: bool
) -> None:
    config = {k: v for k, v in broker.tls_client_config().items() if k != "ssl.ca.location"}
    if other_ca:
        config["ssl.ca.location"] = str(broker.certificates.other_ca)
    errors = refusal(settings_for(broker.listeners.tls_bootstrap_servers, config))

    assert any("certificate verify failed" in e.str() for e in errors), errors


def test_a_client_without_a_certificate_is_refused_by_the_broker(broker: SecureBroker) -> None:
    config = {
        "security.protocol": "SSL",
        "ssl.ca.location": str(broker.certificates.ca),
    }
    errors = refusal(settings_for(broker.listeners.tls_bootstrap_servers, config))

    # The client trusts the broker; the broker refuses a client that shows no certificate.
    assert any("alert bad certificate" in e.str() for e in errors), errors


def test_a_plaintext_client_gets_nothing_from_the_tls_listener(broker: SecureBroker) -> None:
    settings = settings_for(broker.listeners.tls_bootstrap_servers, {})

    assert refusal(settings)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_carries_records_without_logging_the_password(
    broker: SecureBroker, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # librdkafka's debug lines included: a leak there is a leak
    settings = settings_for(
        broker.listeners.sasl_bootstrap_servers, broker.sasl_client_config(mechanism)
    )
    values = [f"{mechanism}-{i}".encode() for i in range(10)]
    producer = Producer(producer_config(settings, debug="security,broker,conf"))
    assert producer.list_topics(timeout=10).brokers
    producer.poll(0.5)  # hands librdkafka's log lines to Python logging

    assert sorted(round_trip(settings, values)) == sorted(values)
    assert any(r.name == "librdkafka" and "SASL" in r.getMessage() for r in caplog.records)
    assert broker.password not in caplog.text


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_a_wrong_password_is_refused_and_not_shown(
    broker: SecureBroker, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = f"wrong-{uuid.uuid4().hex}"
    settings = settings_for(
        broker.listeners.sasl_bootstrap_servers, broker.sasl_client_config(mechanism, wrong)
    )
    errors = refusal(settings)

    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
    assert not any(wrong in e.str() for e in errors)
    assert wrong not in caplog.text and broker.password not in caplog.text
