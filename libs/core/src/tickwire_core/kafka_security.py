"""The TLS and SASL part of KAFKA_CLIENT_CONFIG, checked when the settings are read (a typo stops
start-up naming itself, not a refused connection later) and kept out of logs and errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
# The mechanisms every client tickwire makes (librdkafka's and faust's aiokafka) is tested with.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# Values that unlock something; they are shown as REDACTED wherever the config is shown.
SECRET_KEYS = frozenset(
    {
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.key.pem",
        "sasl.oauthbearer.client.secret",
    }
)
REDACTED = "[redacted]"


def redacted(config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with every secret value replaced, fit for a log line or an error message."""
    return {key: REDACTED if key in SECRET_KEYS else value for key, value in config.items()}


def security_protocol(config: Mapping[str, str]) -> str:
    # librdkafka reads the protocol's name in any case.
    return config.get("security.protocol", "PLAINTEXT").upper()


def sasl_mechanism(config: Mapping[str, str]) -> str:
    # librdkafka takes either spelling; `sasl.mechanisms` is its older name.
    return (config.get("sasl.mechanism") or config.get("sasl.mechanisms") or "PLAIN").upper()


def security_problems(config: Mapping[str, str]) -> list[str]:
    """What is wrong with the TLS/SASL keys of `config` (librdkafka names), one sentence each;
    empty when the client can be built. No sentence quotes a secret."""
    protocol = security_protocol(config)
    if protocol not in SECURITY_PROTOCOLS:
        return [f"security.protocol={protocol!r} is not one of {', '.join(SECURITY_PROTOCOLS)}"]
    problems = []
    tls = protocol in ("SSL", "SASL_SSL")
    sasl = protocol.startswith("SASL_")
    # A TLS or SASL key under a protocol that does not use it means the connection is not what
    # its author meant (most often: credentials set, protocol forgotten, traffic in clear text).
    unused = [
        key
        for key in config
        if (key.startswith("ssl.") and not tls) or (key.startswith("sasl.") and not sasl)
    ]
    if unused:
        problems.append(f"{', '.join(sorted(unused))} set but security.protocol={protocol}")
    if sasl:
        mechanism = sasl_mechanism(config)
        if mechanism not in SASL_MECHANISMS:
            problems.append(
                f"sasl.mechanism={mechanism!r} is not one of {', '.join(SASL_MECHANISMS)}"
            )
        missing = [key for key in ("sasl.username", "sasl.password") if not config.get(key)]
        if missing:
            problems.append(f"security.protocol={protocol} needs {' and '.join(missing)}")
    # Files are not looked for here: settings are also checked where they are written (a
    # manifest), away from the pod that mounts them; building the client reads them anyway.
    if tls and ("ssl.certificate.location" in config) != ("ssl.key.location" in config):
        problems.append(
            "a client certificate needs both ssl.certificate.location and ssl.key.location"
        )
    return problems
