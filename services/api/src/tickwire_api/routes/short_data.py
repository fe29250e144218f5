"""/v1/short-volume and /v1/short-interest: FINRA's short-sale data of an instrument (or of all)
over a range of days, oldest first, a page at a time, as JSON, CSV or Parquet
(routes/day_pages.py)."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query, Response

from tickwire_api import deps
from tickwire_api.adapters import short_data
from tickwire_api.adapters.export import ExportFormat
from tickwire_api.domain.cursor import query_fingerprint
from tickwire_api.models.short_data import (
    ShortInterest,
    ShortInterestPage,
    ShortVolume,
    ShortVolumePage,
)
from tickwire_api.routes.day_pages import EndDay, StartDay, served
from tickwire_api.routes.paging import Cursor, Format, paged_responses
from tickwire_api.routes.params import Limit, OptionalInstrument, Provider, checked_limit
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["short sales"])


@router.get(
    "/short-volume",
    response_model=ShortVolumePage,
    summary="Daily short-sale volume (FINRA Reg SHO) with the short volume ratio",
    responses=paged_responses(ShortVolume, "oldest day first"),
)
def short_volume(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: OptionalInstrument = None,
    start: StartDay = None,
    end: EndDay = None,
    provider: Provider = None,
    facility: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Z0-9]{1,16}$",
            description="One reporting facility's rows (CNMS: FINRA's consolidated file); all "
            "when left out.",
            examples=["CNMS"],
        ),
    ] = None,
    limit: Limit = None,
    cursor: Cursor = None,
    format: Format = ExportFormat.json,
) -> Response:
    """Rows with `start <= trade_date < end`, oldest day first (then instrument, provider,
    facility); follow the next cursor for more."""
    filters = {
        "instrument": instrument,
        "provider": provider,
        "start": start,
        "end": end,
        "facility": facility,
    }
    fingerprint = query_fingerprint("short_volume", *filters.values())
    return served(
        conn,
        short_data.SHORT_VOLUME,
        "short_volume",
        filters,
        fingerprint,
        cursor,
        checked_limit(limit, settings.max_limit),
        format,
    )


@router.get(
    "/short-interest",
    response_model=ShortInterestPage,
    summary="Short interest by settlement date (FINRA, twice a month)",
    responses=paged_responses(ShortInterest, "oldest day first"),
)
def short_interest(
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
    """Rows with `start <= settlement_date < end`, oldest first (then instrument, provider);
    follow the next cursor for more."""
    filters = {"instrument": instrument, "provider": provider, "start": start, "end": end}
    fingerprint = query_fingerprint("short_interest", *filters.values())
    return served(
        conn,
        short_data.SHORT_INTEREST,
        "short_interest",
        filters,
        fingerprint,
        cursor,
        checked_limit(limit, settings.max_limit),
        format,
    )
