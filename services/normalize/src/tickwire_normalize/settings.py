"""Settings of the normalize service (environment variables TICKWIRE_<FIELD>)."""

from __future__ import annotations

from pydantic import Field

from tickwire_core.settings import KafkaServiceSettings


class NormalizeSettings(KafkaServiceSettings):
    consumer_group: str = Field("tickwire-normalize", min_length=1)
    batch_size: int = Field(2000, ge=1, le=100_000)
    batch_timeout_ms: int = Field(100, ge=1, le=60_000)
    max_future_s: float = Field(300.0, gt=0, description="Reject exchange times further ahead.")
    max_past_s: float = Field(7 * 86_400.0, gt=0, description="Reject exchange times further back.")
