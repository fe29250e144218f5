"""/v1/status: the pipeline's state as the sink records it: each feed's freshness, counts and
last gap, and each service instance's heartbeat, counters and circuit."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query

from tickwire_api import deps
from tickwire_api.adapters.status import pipeline
from tickwire_api.domain.freshness import is_stale
from tickwire_api.models.status import FeedStatus, PipelineStatus, ServiceStatus
from tickwire_api.routes.params import OptionalInstrument, Provider
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/status", tags=["status"])


@router.get("", response_model=PipelineStatus, summary="Feed freshness and service heartbeats")
def status(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: OptionalInstrument = None,
    provider: Provider = None,
    stale_after_s: Annotated[
        float | None,
        Query(
            gt=0,
            le=86_400,
            description="Age in seconds beyond which a feed is stale (default: the API's "
            "TICKWIRE_STALE_AFTER_S).",
            examples=[60],
        ),
    ] = None,
) -> PipelineStatus:
    """Every feed (or those of `provider` / `instrument`) and every service instance; an
    instance whose last heartbeat is older than TICKWIRE_HEARTBEAT_TIMEOUT_S is not alive."""
    stale = stale_after_s if stale_after_s is not None else settings.stale_after_s
    feeds, services = pipeline(conn, instrument, provider)
    return PipelineStatus(
        feeds=[FeedStatus(**row, stale=is_stale(row["age_s"], stale)) for row in feeds],
        services=[
            ServiceStatus(**row, alive=row["heartbeat_age_s"] <= settings.heartbeat_timeout_s)
            for row in services
        ],
    )
