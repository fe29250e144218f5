"""Settings of the normalize service (environment variables TICKWIRE_<FIELD>)."""

from __future__ import annotations

from pydantic import Field

from tickwire_core.settings import KafkaServiceSettings


class NormalizeSettings(KafkaServiceSettings):
    consumer_group: str = Field("tickwire-normalize", min_length=1)
    batch_size: int = Field(2000, ge=1, le=100_000)
    # A batch that does not fill waits this long before its transaction: below 2,000 ticks per
    # 25 ms every tick pays up to this wait, while under a backlog batches fill and it never fires.
    batch_timeout_ms: int = Field(25, ge=1, le=60_000)
    max_future_s: float = Field(300.0, gt=0, description="Reject exchange times further ahead.")
    max_past_s: float = Field(7 * 86_400.0, gt=0, description="Reject exchange times further back.")
    dedup_window_s: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="How long (receipt time) an update's key is remembered; a copy from a "
        "replica that lags by more than this is not recognised here (the sink's natural key "
        "still keeps one row where the venue gives the event time).",
    )
    dedup_max_keys: int = Field(
        1_000_000, ge=1000, description="Cap of remembered keys per input partition."
    )
    exactly_once: bool = Field(
        True,
        description="Kafka transactions: output and input offsets commit together. The "
        "transactional id is <consumer_group>-<instance_id>, so instance ids must be unique "
        "and stable across restarts (a StatefulSet's pod names are).",
    )
    transaction_timeout_ms: int = Field(
        60_000,
        ge=1000,
        le=900_000,
        description="How long an open transaction of a vanished instance can hold back readers. "
        "At most the broker's transaction.max.timeout.ms (the local stack's broker: 60 s).",
    )
