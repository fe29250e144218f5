"""KAFKA_CLIENT_CONFIG's TLS/SASL keys reach faust's client (aiokafka) as the credentials faust
documents, and aiokafka's request log never carries a SASL token."""

import logging
import ssl
from pathlib import Path

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from tickwire_core.errors import ConfigError
from tickwire_signals.adapters.kafka_options import faust_broker_options, hide_sasl_tokens
from tickwire_signals.settings import SignalsSettings
from tickwire_testing.tls import Certificates, make_certificates


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def aiokafka_auth(client_config: dict[str, str]) -> dict:
    settings = SignalsSettings(
        KAFKA_BOOTSTRAP_SERVERS="k1:9093, k2:9093", KAFKA_CLIENT_CONFIG=client_config
    )
    options = faust_broker_options(settings)
    app = faust.App("options-test", **options)
    assert [str(url) for url in app.conf.broker] == ["kafka://k1:9093", "kafka://k2:9093"]
    return dict(credentials_to_aiokafka_auth(app.conf.broker_credentials))


def test_plaintext_gives_faust_no_credentials() -> None:
    assert aiokafka_auth({}) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_reaches_aiokafka_with_a_verifying_context(
    certificates: Certificates, mechanism: str
) -> None:
    auth = aiokafka_auth(
        {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": mechanism,
            "sasl.username": "svc",
            "sasl.password": "pw",
            "ssl.ca.location": str(certificates.ca),
        }
    )
    context = auth.pop("ssl_context")
    assert auth == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "svc",
        "sasl_plain_password": "pw",
    }
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_mutual_tls_reaches_aiokafka_with_the_client_certificate(
    certificates: Certificates,
) -> None:
    auth = aiokafka_auth(
        {
            "security.protocol": "SSL",
            "ssl.ca.location": str(certificates.ca),
            "ssl.certificate.location": str(certificates.client_certificate),
            "ssl.key.location": str(certificates.client_key),
        }
    )
    assert auth["security_protocol"] == "SSL"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)


def test_a_missing_ca_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        aiokafka_auth({"security.protocol": "SSL", "ssl.ca.location": str(tmp_path / "no.pem")})


def test_a_librdkafka_key_faust_cannot_take_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"cannot pass to its Kafka client: linger\.ms"):
        aiokafka_auth({"linger.ms": "5"})


def test_the_sasl_token_is_dropped_from_aiokafkas_request_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class SaslAuthenticateRequest_v1:  # stands in for aiokafka's request struct (by its name)
        def __repr__(self) -> str:
            return "SaslAuthenticateRequest_v1(sasl_auth_bytes=b'svc\\x00svc\\x00pw-in-clear')"

    class MetadataRequest_v5:
        def __repr__(self) -> str:
            return "MetadataRequest_v5(topics=[])"

    hide_sasl_tokens()
    hide_sasl_tokens()  # twice: one filter still
    wire = logging.getLogger("aiokafka.conn")
    caplog.set_level(logging.DEBUG, logger="aiokafka.conn")
    for request in (SaslAuthenticateRequest_v1(), MetadataRequest_v5()):
        wire.debug("Request to %s:%d %d: %s", "k1", 9093, 3, request)

    assert "pw-in-clear" not in caplog.text
    assert "MetadataRequest_v5" in caplog.text
    assert len(wire.filters) == 1
