"""Settings of the API service (environment variables TICKWIRE_<FIELD>, and DATABASE_URL)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from tickwire_core.settings import ServiceSettings


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
    max_range_days: int = Field(
        31, ge=1, le=3_660, description="Longest start-to-end range of a tick history request."
    )
    max_buckets: int = Field(
        10_000, ge=1, le=1_000_000, description="Most bars one bars request aggregates."
    )
