"""The secure listeners' broker properties: mutual TLS on one, every tested SASL mechanism on the
other, and no value that could break out of its JAAS quotes."""

from pathlib import Path

import pytest

from tickwire_core.localstack.kafka_listeners import SecureListeners


def listeners(**users: str) -> SecureListeners:
    return SecureListeners(
        keystore=Path("/tls/broker.p12"),
        keystore_password="store-pw",
        truststore=Path("/tls/ca.pem"),
        plain_users=users,
        tls_port=9093,
        sasl_port=9094,
    )


def test_each_listener_is_named_after_its_protocol() -> None:
    assert listeners().listeners() == {"SSL": 9093, "SASL_SSL": 9094}


def test_the_tls_listener_requires_a_client_certificate_and_plain_users_are_declared() -> None:
    props = listeners(svc="pw1").properties()

    assert props["listener.name.ssl.ssl.client.auth"] == "required"
    assert props["sasl.enabled.mechanisms"] == "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
    assert props["listener.name.sasl_ssl.plain.sasl.jaas.config"].endswith(
        ' required user_svc="pw1";'
    )


@pytest.mark.parametrize("password", ['pw"; evil', "pw\\", "pw\nline"])
def test_a_password_that_would_escape_its_quotes_is_refused(password: str) -> None:
    with pytest.raises(ValueError, match="svc: quotes"):
        listeners(svc=password).properties()
