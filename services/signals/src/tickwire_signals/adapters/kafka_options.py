"""The Kafka connection settings every service shares (KAFKA_BOOTSTRAP_SERVERS and the librdkafka
keys of KAFKA_CLIENT_CONFIG) translated for faust, whose client is aiokafka."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import faust

from tickwire_core.errors import ConfigError
from tickwire_core.kafka_security import sasl_mechanism, security_protocol
from tickwire_core.settings import KafkaServiceSettings

_SUPPORTED = {
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
}


class _SaslTokenFilter(logging.Filter):
    """Drops aiokafka's DEBUG dump of a SASL authenticate request: under PLAIN its token is the
    username and password in clear, and it would be logged whenever the level is DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(type(arg).__name__.startswith("SaslAuthenticate") for arg in args)


_AIOKAFKA_WIRE_LOGGER = logging.getLogger("aiokafka.conn")


def hide_sasl_tokens() -> None:
    """Keep SASL tokens out of aiokafka's request log; safe to call more than once."""
    if not any(isinstance(f, _SaslTokenFilter) for f in _AIOKAFKA_WIRE_LOGGER.filters):
        _AIOKAFKA_WIRE_LOGGER.addFilter(_SaslTokenFilter())


def faust_broker_options(settings: KafkaServiceSettings) -> dict[str, Any]:
    brokers = [
        f"kafka://{b.strip()}" for b in settings.kafka_bootstrap_servers.split(",") if b.strip()
    ]
    options: dict[str, Any] = {"broker": brokers}
    config = settings.kafka_client_config
    unknown = sorted(set(config) - _SUPPORTED)
    if unknown:
        raise ConfigError(
            f"KAFKA_CLIENT_CONFIG keys the signals service cannot pass to its Kafka client: "
            f"{', '.join(unknown)} (supported: {', '.join(sorted(_SUPPORTED))})"
        )
    # The settings have checked the protocol, the mechanism and that the files are there.
    protocol = security_protocol(config)
    context = None
    if protocol in {"SSL", "SASL_SSL"}:
        context = ssl.create_default_context(cafile=config.get("ssl.ca.location"))
        if "ssl.certificate.location" in config:
            context.load_cert_chain(
                config["ssl.certificate.location"], config.get("ssl.key.location")
            )
    if protocol in {"SASL_PLAINTEXT", "SASL_SSL"}:
        options["broker_credentials"] = faust.SASLCredentials(
            username=config.get("sasl.username"),
            password=config.get("sasl.password"),
            mechanism=sasl_mechanism(config),
            ssl_context=context,
        )
    elif context is not None:
        options["broker_credentials"] = faust.SSLCredentials(context)
    return options
