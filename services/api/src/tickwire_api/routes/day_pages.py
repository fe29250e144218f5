"""What the routes of rows keyed by a day share (/v1/short-volume, /v1/short-interest,
/v1/quality): the day range parameters, and a page served as JSON, CSV or Parquet, the next
page's cursor in the body (JSON) or the X-Next-Cursor header (routes/paging.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import Query, Response

from tickwire_api.adapters import day_pages
from tickwire_api.adapters.export import MEDIA_TYPES, ExportFormat, encode
from tickwire_api.domain.cursor import CursorError, decode_key, encode_key
from tickwire_api.routes.paging import NEXT_CURSOR_HEADER
from tickwire_api.routes.params import invalid
from tickwire_api.routes.responses import raw_json

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


def served(
    conn: psycopg.Connection,
    dataset: day_pages.Dataset,
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
    found = day_pages.page(conn, dataset, filters, after, limit)
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
