"""Settings of the sink service (environment variables TICKWIRE_<FIELD>, and DATABASE_URL)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from tickwire_core.settings import KafkaServiceSettings


class SinkSettings(KafkaServiceSettings):
    database_url: str = Field(
        validation_alias=AliasChoices("DATABASE_URL"),
        min_length=1,
        description="postgresql://user:password@host:port/database",
    )
    consumer_group: str = Field("tickwire-sink", min_length=1)
    batch_size: int = Field(5000, ge=1, le=100_000, description="Rows per database batch, at most.")
    batch_timeout_ms: int = Field(200, ge=1, le=60_000, description="Longest wait to fill a batch.")
