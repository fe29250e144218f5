"""Typed settings read from the environment, built once at each service's entry point and passed
down. A missing or invalid setting stops start-up with a ConfigError naming the variable."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AliasChoices, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from tickwire_core.errors import ConfigError
from tickwire_core.kafka_security import REDACTED, SECRET_KEYS, redacted, security_problems

ENV_PREFIX = "TICKWIRE_"


def _checked_client_config(config: dict[str, str]) -> dict[str, str]:
    problems = security_problems(config)
    if problems:
        raise ValueError("; ".join(problems))
    return config


# librdkafka settings (KAFKA_CLIENT_CONFIG) whose TLS/SASL part is checked when they are read.
KafkaClientConfig = Annotated[dict[str, str], AfterValidator(_checked_client_config)]


class _Environment(EnvSettingsSource):
    """The environment, where an empty KAFKA_CLIENT_CONFIG means no extra options: compose
    passes it on from .env, empty unless the broker wants TLS or SASL."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        if field_name == "kafka_client_config" and isinstance(value, str) and not value.strip():
            return {}
        return super().decode_complex_value(field_name, field, value)


class ServiceSettings(BaseSettings):
    """What every service needs. Service settings subclass it and add their own fields; their
    environment variables are TICKWIRE_<FIELD>, except the standard connection addresses
    (KAFKA_BOOTSTRAP_SERVERS, KAFKA_CLIENT_CONFIG, DATABASE_URL)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, populate_by_name=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _Environment(settings_cls), dotenv_settings, file_secret_settings

    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    instance_id: str = Field(default_factory=socket.gethostname, min_length=1)
    stop_grace_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Seconds a service may take to flush and commit after SIGTERM/SIGINT before "
        "it exits anyway (exit code 1). Keep it below the orchestrator's termination grace.",
    )


class KafkaServiceSettings(ServiceSettings):
    """A service that talks to Kafka and serves /livez, /readyz, /metrics on its own port."""

    kafka_bootstrap_servers: str = Field(
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        min_length=1,
        description="host:port[,host:port] of the Kafka brokers.",
    )
    kafka_client_config: KafkaClientConfig = Field(
        default_factory=dict,
        validation_alias=AliasChoices("KAFKA_CLIENT_CONFIG"),
        # Its sasl.password would show in every repr of the settings.
        repr=False,
        description="Extra librdkafka settings as JSON, e.g. TLS/SASL: "
        '{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", ...} '
        "(docs/configuration.md).",
    )
    topic_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prepended to every topic name (tenancy, tests).",
    )
    health_host: str = Field("0.0.0.0", description="Address of /livez, /readyz, /metrics.")
    health_port: int = Field(8080, ge=0, le=65535, description="Port of /livez, /readyz, /metrics.")
    heartbeat_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Seconds between this instance's heartbeats on the status topic (what "
        "/v1/status shows of it).",
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


S = TypeVar("S", bound=BaseSettings)


def env_name(model: type[BaseSettings], field: str) -> str:
    """The environment variable of `field`; a validation error's location names a field by its
    alias (KAFKA_BOOTSTRAP_SERVERS), which is the variable itself."""
    if field not in model.model_fields and _is_alias(model, field):
        return field
    info = model.model_fields.get(field)
    alias = getattr(info, "validation_alias", None) if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if isinstance(alias, str):
        return alias
    return f"{model.model_config.get('env_prefix', '')}{field}".upper()


def _is_alias(model: type[BaseSettings], name: str) -> bool:
    for info in model.model_fields.values():
        alias = info.validation_alias
        if (isinstance(alias, AliasChoices) and name in alias.choices) or alias == name:
            return True
    return False


def load_settings(model: type[S], **overrides: Any) -> S:
    """Build `model` from the environment (and `overrides`), or raise ConfigError naming every
    variable that is missing or wrong."""
    try:
        return model(**overrides)
    except SettingsError as exc:
        # A JSON setting that does not parse; the message names the field, never the value.
        match = re.search(r'field "(\w+)"', str(exc))
        name = env_name(model, match.group(1)) if match else "a JSON setting"
        raise ConfigError(f"invalid settings: {name} is not valid JSON") from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if not error["loc"]:  # a check across fields: its message names the variables
                problems.append(str(error["msg"]).removeprefix("Value error, "))
                continue
            field = str(error["loc"][0])
            name = env_name(model, field)
            if error["type"] == "missing":
                problems.append(f"{name} is required but not set")
            else:
                shown = _shown_input(model, error["loc"], error.get("input"))
                problems.append(f"{name}={shown}: {error['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None


def _shown_input(model: type[BaseSettings], loc: tuple[int | str, ...], value: Any) -> str:
    """The wrong value as an error message may show it: secrets never are."""
    info = _field_of(model, str(loc[0]))
    if (info is not None and info.annotation is SecretStr) or any(
        str(part) in SECRET_KEYS for part in loc
    ):
        return REDACTED
    if isinstance(value, Mapping):
        value = redacted(value)
    return repr(value)


def _field_of(model: type[BaseSettings], name: str) -> Any:
    for field, info in model.model_fields.items():
        alias = info.validation_alias
        if (
            field == name
            or alias == name
            or (isinstance(alias, AliasChoices) and name in alias.choices)
        ):
            return info
    return None
