"""/v1/status: the pipeline's state as the sink records it: each feed's freshness, counts and
last gap, and each service instance's heartbeat, counters and circuit."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.domain.freshness import STALE_AFTER_S, is_stale
from tickwire_api.models_status import FeedStatus, PipelineStatus, ServiceStatus
from tickwire_api.routes.params import OptionalInstrument, Provider

router = APIRouter(prefix="/v1/status", tags=["status"])

# Ages from the database's clock, the one that stamped updated_at and heartbeat_at.
_FEEDS = """
SELECT provider, instrument, last_exchange_ts, last_received_ts, ticks, gaps,
       last_gap_start, last_gap_end, last_gap_reason, updated_at,
       extract(epoch FROM now() - last_exchange_ts)::float8 AS age_s
FROM feed_status
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
ORDER BY provider, instrument
"""

_SERVICES = """
SELECT service, instance, heartbeat_at,
       extract(epoch FROM now() - heartbeat_at)::float8 AS heartbeat_age_s,
       rows_in, rows_out, rows_refused, batches_failed, circuit, last_error, last_error_at, lag
FROM service_status
ORDER BY service, instance
"""


@router.get("", response_model=PipelineStatus, summary="Feed freshness and service heartbeats")
def status(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    instrument: OptionalInstrument = None,
    provider: Provider = None,
    stale_after_s: Annotated[
        float,
        Query(gt=0, le=86_400, description="Age in seconds beyond which a feed is stale."),
    ] = STALE_AFTER_S,
) -> PipelineStatus:
    """Every feed (or those of `provider` / `instrument`) and every service instance."""
    with conn.cursor(row_factory=dict_row) as cur:
        feeds = cur.execute(_FEEDS, {"instrument": instrument, "provider": provider}).fetchall()
        services = cur.execute(_SERVICES).fetchall()
    return PipelineStatus(
        feeds=[FeedStatus(**row, stale=is_stale(row["age_s"], stale_after_s)) for row in feeds],
        services=[ServiceStatus.model_validate(row) for row in services],
    )
