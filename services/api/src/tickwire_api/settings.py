"""Settings of the API service (environment variables TICKWIRE_<FIELD>, and DATABASE_URL)."""

from __future__ import annotations

import re

from pydantic import AliasChoices, Field, field_validator, model_validator

from tickwire_core.settings import KafkaClientConfig, ServiceSettings


class ApiSettings(ServiceSettings):
    database_url: str = Field(
        validation_alias=AliasChoices("DATABASE_URL"),
        min_length=1,
        description="postgresql://user:password@host:port/database",
    )
    api_host: str = Field("0.0.0.0", description="Address the API listens on.")
    api_port: int = Field(8000, ge=0, le=65535)
    max_limit: int = Field(1000, ge=1, le=100_000, description="Most rows one request returns.")
    db_pool_size: int = Field(8, ge=1, le=100)
    db_wait_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="Longest a request waits for a database connection; beyond it, 503 with "
        "Retry-After (the database is down or every connection is busy).",
    )
    max_range_days: int = Field(
        31, ge=1, le=3_660, description="Longest start-to-end range of a tick history request."
    )
    max_export_days: int = Field(
        366, ge=1, le=3_660, description="Longest start-to-end range of one bulk export."
    )
    max_bar_range_days: int = Field(
        366,
        ge=1,
        le=36_600,
        description="Longest start-to-end range of a bars or indicators request that reads "
        "bars built from ticks (up to 1,440 stored rows a day); vendor bars are not capped.",
    )
    max_buckets: int = Field(
        10_000, ge=1, le=1_000_000, description="Most bars one bars request aggregates."
    )
    api_key_hashes: str = Field(
        "",
        description="SHA-256 hex digests of the accepted API keys, comma separated (from a "
        "secret); clients send the key itself in the X-API-Key header.",
    )
    rate_limit_per_s: float = Field(
        50.0,
        ge=0,
        le=100_000,
        description="Requests a second each API key (or, without one, each client address) may "
        "make to /v1 on average; beyond the burst, 429 with Retry-After. 0 turns it off.",
    )
    rate_limit_burst: int = Field(
        40,
        ge=1,
        le=100_000,
        description="Requests a caller may make at once before the rate applies.",
    )
    rate_limit_callers: int = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="Callers whose request rate is remembered; past it the least recently seen "
        "is forgotten.",
    )
    allow_anonymous: bool = Field(
        False, description="Serve /v1 without a key: for local use only, and only when set."
    )
    stale_after_s: float = Field(
        60.0, gt=0, le=86_400, description="Age of a feed's newest tick beyond which it is stale."
    )
    heartbeat_timeout_s: float = Field(
        30.0,
        gt=0,
        le=86_400,
        description="Age of a service instance's last heartbeat beyond which it is not alive.",
    )
    cors_origins: str = Field("", description="Origins allowed by CORS, comma separated.")
    max_query_bytes: int = Field(
        4096, ge=256, le=65_536, description="Longest query string accepted (414 beyond)."
    )
    max_body_bytes: int = Field(
        65_536, ge=0, le=10_485_760, description="Largest request body accepted (413 beyond)."
    )
    # The live stream (/v1/live) reads Kafka; without brokers it answers 503 and the rest serves.
    kafka_bootstrap_servers: str | None = Field(
        None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        description="host:port[,host:port] of the Kafka brokers the live stream reads; unset "
        "(or empty) turns /v1/live off.",
    )
    kafka_client_config: KafkaClientConfig = Field(
        default_factory=dict,
        validation_alias=AliasChoices("KAFKA_CLIENT_CONFIG"),
        repr=False,
        description="Extra librdkafka settings as JSON, e.g. TLS/SASL (docs/configuration.md).",
    )
    topic_prefix: str = Field(
        "", pattern=r"^[A-Za-z0-9._-]*$", description="Prepended to every topic name."
    )
    live_queue_size: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Events held for one live stream; a client further behind loses the rest "
        "and is told how many (event: lagged).",
    )
    live_heartbeat_s: float = Field(
        15.0, gt=0, le=300, description="Seconds between keep-alive comments on an idle stream."
    )
    live_max_instruments: int = Field(
        50, ge=1, le=1_000, description="Most instruments one live stream may ask for."
    )
    live_max_streams: int = Field(
        200, ge=1, le=100_000, description="Most live streams open at once (503 beyond)."
    )

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes_are_sha256(cls, value: str) -> str:
        for digest in _split(value):
            if not _SHA256.fullmatch(digest):
                raise ValueError(
                    "each entry must be the SHA-256 hex digest of a key (64 hex digits), "
                    "never the key itself"
                )
        return value

    @model_validator(mode="after")
    def _keys_or_explicitly_open(self) -> ApiSettings:
        if not self.key_hashes() and not self.allow_anonymous:
            raise ValueError(
                "TICKWIRE_API_KEY_HASHES is empty: set it, or TICKWIRE_ALLOW_ANONYMOUS=true for "
                "local use"
            )
        return self

    def key_hashes(self) -> frozenset[str]:
        return frozenset(d.lower() for d in _split(self.api_key_hashes))

    def origins(self) -> list[str]:
        return _split(self.cors_origins)


_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
