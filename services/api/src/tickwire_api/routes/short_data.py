"""/v1/short-volume and /v1/short-interest: FINRA's short-sale data of an instrument (or of all)
over a range of days, oldest first, a page at a time, as JSON, CSV or Parquet; every format
pages the same way, the next page's cursor in the body (JSON) or the X-Next-Cursor header."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Response

from tickwire_api import deps
from tickwire_api.adapters import short_data
from tickwire_api.adapters.export import MEDIA_TYPES, ExportFormat, encode
from tickwire_api.domain.cursor import CursorError, decode_key, encode_key, query_fingerprint
from tickwire_api.models.short_data import (
    ShortInterest,
    ShortInterestPage,
    ShortVolume,
    ShortVolumePage,
)
from tickwire_api.routes.paging import NEXT_CURSOR_HEADER, Cursor, Format, paged_responses
from tickwire_api.routes.params import (
    Limit,
    OptionalInstrument,
    Provider,
    checked_limit,
    invalid,
)
from tickwire_api.routes.responses import raw_json
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["short sales"])

StartDay = Annotated[
    date | None,
    Query(
        description="Inclusive first day, YYYY-MM-DD; open when left out.", examples=["2024-01-02"]
    ),
]
EndDay = Annotated[
    date | None,
    Query(
        description="Exclusive last day, YYYY-MM-DD; open when left out.", examples=["2024-07-01"]
    ),
]


def _served(
    conn: psycopg.Connection,
    dataset: short_data.Dataset,
    rows_name: str,
    filters: dict[str, Any],
    fingerprint: str,
    cursor: str | None,
    limit: int,
    format: ExportFormat,
) -> Response:
    start, end = filters["start"], filters["end"]
    if start is not None and end is not None and end <= start:
        raise invalid("end", f"end {end} is not after start {start}")
    after = None
    if cursor is not None:
        try:
            after = decode_key(cursor, fingerprint, dataset.key_shape)
        except CursorError as exc:
            raise invalid("cursor", str(exc)) from exc
    found = short_data.page(conn, dataset, filters, after, limit)
    next_cursor = None if found.last is None else encode_key(found.last, fingerprint)
    if format is ExportFormat.json:
        return raw_json(
            {
                "instrument": filters["instrument"],
                "provider": filters["provider"],
                "start": filters["start"],
                "end": filters["end"],
                "limit": limit,
                "count": len(found.rows),
                rows_name: found.dicts(),
                "next_cursor": next_cursor,
            }
        )
    # A page is at most max_limit rows: encoded whole, not streamed.
    body = b"".join(encode(format, found.columns, iter([found.rows])))
    headers = {} if next_cursor is None else {NEXT_CURSOR_HEADER: next_cursor}
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


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
    return _served(
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
    return _served(
        conn,
        short_data.SHORT_INTEREST,
        "short_interest",
        filters,
        fingerprint,
        cursor,
        checked_limit(limit, settings.max_limit),
        format,
    )
