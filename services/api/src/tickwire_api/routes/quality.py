"""/v1/quality: the daily quality report (coverage, gaps, duplicates, rejects, anomalies, bar
agreement) of each provider and instrument over a range of days, a page at a time, as JSON, CSV
or Parquet (routes/day_pages.py)."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Response

from tickwire_api import deps
from tickwire_api.adapters.export import ExportFormat
from tickwire_api.adapters.quality import QUALITY
from tickwire_api.domain.cursor import query_fingerprint
from tickwire_api.models.quality import QualityDay, QualityPage
from tickwire_api.routes.day_pages import EndDay, StartDay, served
from tickwire_api.routes.paging import Cursor, Format, paged_responses
from tickwire_api.routes.params import Limit, OptionalInstrument, Provider, checked_limit
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["quality"])


@router.get(
    "/quality",
    response_model=QualityPage,
    summary="The daily quality report: coverage, gaps, duplicates, rejects and anomalies per day",
    responses=paged_responses(QualityDay, "oldest day first"),
)
def quality(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: OptionalInstrument = None,
    start: StartDay = None,
    end: EndDay = None,
    provider: Provider = None,
    limit: Limit = None,
    cursor: Cursor = None,
    format: Format = ExportFormat.json,
) -> Response:
    """Rows with `start <= day < end`, oldest day first (then instrument, provider); follow the
    next cursor for more. CSV and Parquet carry the by-reason and by-rule maps as JSON text."""
    filters = {"instrument": instrument, "provider": provider, "start": start, "end": end}
    fingerprint = query_fingerprint("quality", *filters.values())
    return served(
        conn,
        QUALITY,
        "quality",
        filters,
        fingerprint,
        cursor,
        checked_limit(limit, settings.max_limit),
        format,
    )
