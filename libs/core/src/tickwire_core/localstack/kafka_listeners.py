"""Listeners a local broker can open beside its plaintext one, to test the clients' security
settings for real: TLS with client certificates required, and SASL (PLAIN, SCRAM) over TLS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tickwire_core.localstack import _process

# The broker reads SASL/PLAIN users from its JAAS line; SCRAM users live in the cluster's
# metadata instead (created through the admin API), so their login module takes no options.
_PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
_SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SecureListeners:
    keystore: Path  # PKCS12: the broker's key and its certificate for 127.0.0.1
    keystore_password: str
    truststore: Path  # PEM: the CA whose client certificates the TLS listener accepts
    plain_users: Mapping[str, str] = field(default_factory=dict)  # SASL/PLAIN user -> password
    tls_port: int = field(default_factory=_process.free_port)
    sasl_port: int = field(default_factory=_process.free_port)

    @property
    def tls_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.tls_port}"

    @property
    def sasl_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

    def listeners(self) -> dict[str, int]:
        """Listener name (which is also its security protocol) -> port."""
        return {"SSL": self.tls_port, "SASL_SSL": self.sasl_port}

    def properties(self) -> dict[str, str]:
        for name, value in (*self.plain_users.items(), ("keystore", self.keystore_password)):
            # Both go inside a quoted JAAS or properties value: refuse what would break out of it.
            if '"' in value or "\\" in value or "\n" in value or '"' in name:
                raise ValueError(f"{name}: quotes, backslashes and newlines are not supported")
        users = " ".join(f'user_{user}="{password}"' for user, password in self.plain_users.items())
        return {
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.keystore),
            "ssl.keystore.password": self.keystore_password,
            "ssl.key.password": self.keystore_password,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.truststore),
            # Mutual TLS on the TLS listener: a client without a certificate the CA signed is
            # refused. The SASL listener authenticates by password instead.
            "listener.name.ssl.ssl.client.auth": "required",
            "sasl.enabled.mechanisms": ",".join(MECHANISMS),
            "listener.name.sasl_ssl.plain.sasl.jaas.config": f"{_PLAIN_MODULE} required {users};",
            "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": f"{_SCRAM_MODULE} required;",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": f"{_SCRAM_MODULE} required;",
        }
