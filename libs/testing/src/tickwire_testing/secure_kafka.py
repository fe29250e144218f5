"""A broker of a test's own with TLS and SASL listeners beside its plaintext one (certificates made
for the test, a user for each SASL mechanism), and the KAFKA_CLIENT_CONFIG that reaches each."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.kafka_listeners import SecureListeners
from tickwire_testing.tls import Certificates, make_certificates

USER = "tickwire-svc"
# The fewest iterations Kafka accepts: the user is thrown away with the broker.
_SCRAM_ITERATIONS = 4096


@dataclass(frozen=True)
class SecureBroker:
    kafka: LocalKafka
    listeners: SecureListeners
    certificates: Certificates
    password: str  # USER's, for every SASL mechanism

    def tls_client_config(self) -> dict[str, str]:
        """Mutual TLS: trust the broker's CA and show the client's certificate."""
        return {
            "security.protocol": "SSL",
            "ssl.ca.location": str(self.certificates.ca),
            "ssl.certificate.location": str(self.certificates.client_certificate),
            "ssl.key.location": str(self.certificates.client_key),
        }

    def sasl_client_config(self, mechanism: str, password: str | None = None) -> dict[str, str]:
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": mechanism,
            "sasl.username": USER,
            "sasl.password": self.password if password is None else password,
            "ssl.ca.location": str(self.certificates.ca),
        }


@contextmanager
def secure_broker(directory: Path) -> Iterator[SecureBroker]:
    """Start the broker in `directory` (its own ports and data), stop it on the way out."""
    certificates = make_certificates(directory / "tls")
    password = secrets.token_hex(16)
    listeners = SecureListeners(
        keystore=certificates.broker_keystore,
        keystore_password=certificates.keystore_password,
        truststore=certificates.ca,
        plain_users={USER: password},
    )
    kafka = LocalKafka(directory / "kafka", secure=listeners)
    kafka.start()
    try:
        _add_scram_user(kafka.bootstrap_servers, password)
        yield SecureBroker(kafka, listeners, certificates, password)
    finally:
        kafka.stop()


def _add_scram_user(bootstrap_servers: str, password: str) -> None:
    # SCRAM users are cluster metadata: created over the plaintext listener, which trusts all.
    # The admin client goes with this function, so it does not outlive the broker reconnecting.
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    # One request per mechanism: the broker refuses two changes to one user in a request.
    for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
        upsert = UserScramCredentialUpsertion(
            USER, ScramCredentialInfo(mechanism, _SCRAM_ITERATIONS), password.encode()
        )
        admin.alter_user_scram_credentials([upsert])[USER].result(30)
