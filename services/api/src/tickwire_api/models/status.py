"""Response models of /v1/status: the freshness and counts of each feed, and the heartbeat
and counters of each service instance, as the sink records them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import T0, example, examples


class FeedStatus(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "simulator",
                "instrument": "SIM-BTC-USD",
                "last_exchange_ts": T0,
                "last_received_ts": "2023-11-14T22:13:20.004Z",
                "ticks": 3600,
                "gaps": 1,
                "last_gap_start": "2023-11-14T22:03:20Z",
                "last_gap_end": "2023-11-14T22:03:25Z",
                "last_gap_reason": "sequence",
                "updated_at": "2023-11-14T22:13:20.2Z",
                "age_s": 2.5,
                "stale": False,
            }
        )
    )
    provider: str
    instrument: str
    last_exchange_ts: datetime | None = Field(description="Exchange time of the newest tick.")
    last_received_ts: datetime | None = Field(description="Receive time of the newest tick.")
    ticks: int = Field(description="Ticks stored, each counted once.")
    gaps: int = Field(description="Gap events: stretches of the feed known to be missing.")
    last_gap_start: datetime | None
    last_gap_end: datetime | None
    last_gap_reason: str | None
    updated_at: datetime
    age_s: float | None = Field(description="Seconds since last_exchange_ts; null without ticks.")
    stale: bool = Field(description="No tick, or age_s beyond stale_after_s.")


class ServiceStatus(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "service": "sink",
                "instance": "sink-7c9f",
                "heartbeat_at": T0,
                "heartbeat_age_s": 3.1,
                "rows_in": 120000,
                "rows_out": 119990,
                "rows_refused": 2,
                "batches_failed": 1,
                "circuit": "closed",
                "last_error": "OperationalError: server closed the connection unexpectedly",
                "last_error_at": "2023-11-14T21:13:20Z",
                "lag": 42,
                "started_at": "2023-11-14T20:13:20Z",
                "alive": True,
            }
        )
    )
    service: str
    instance: str
    heartbeat_at: datetime
    heartbeat_age_s: float = Field(description="Seconds since the last heartbeat.")
    rows_in: int = Field(description="Records received since the instance started.")
    rows_out: int = Field(description="Rows newly stored or produced since it started.")
    rows_refused: int = Field(description="Records dead-lettered since it started.")
    batches_failed: int
    circuit: str | None = Field(description="closed, open or half_open.")
    last_error: str | None
    last_error_at: datetime | None
    lag: int | None = Field(description="Records behind the input topics' ends, if known.")
    started_at: datetime | None = Field(description="When the instance started (counters since).")
    alive: bool = Field(description="Its last heartbeat is within the API's heartbeat timeout.")


class PipelineStatus(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"feeds": [example(FeedStatus)], "services": [example(ServiceStatus)]}
        )
    )
    feeds: list[FeedStatus]
    services: list[ServiceStatus]
