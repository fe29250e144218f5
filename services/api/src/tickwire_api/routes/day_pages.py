"""What the routes of rows keyed by a day share (/v1/short-volume, /v1/short-interest,
/v1/quality): the day range, cursor and format parameters, and a page served as JSON, CSV or
Parquet, the next page's cursor in the body (JSON) or the X-Next-Cursor header."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import Query, Response
from pydantic import BaseModel

from tickwire_api.adapters import day_pages
from tickwire_api.adapters.export import MEDIA_TYPES, ExportFormat, csv_cell, encode
from tickwire_api.domain.cursor import CursorError, decode_key, encode_key
from tickwire_api.models.examples import example
from tickwire_api.routes.params import invalid
from tickwire_api.routes.responses import raw_json

NEXT_CURSOR_HEADER = "X-Next-Cursor"

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
Cursor = Annotated[
    str | None,
    Query(
        max_length=1024,
        description="`next_cursor` (or the X-Next-Cursor header) of the previous page.",
        examples=["WyJbMTk4NzQsXCJBQVBMXCIsXCJmaW5yYVwiXSIsIjNmMmEiXQ"],
    ),
]
Format = Annotated[
    ExportFormat,
    Query(description="json (a page object), csv or parquet (the page's rows as a file)."),
]


def responses(model: type[BaseModel], csv_example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "A page, oldest day first: JSON with `next_cursor`, or CSV with a "
            "header row / Parquet (dates as date32, times as UTC microsecond timestamps) with "
            f"the next cursor in {NEXT_CURSOR_HEADER}.",
            "headers": {
                NEXT_CURSOR_HEADER: {
                    "description": "Cursor of the next page; absent on the last page.",
                    "schema": {"type": "string"},
                }
            },
            "content": {
                MEDIA_TYPES[ExportFormat.csv]: {
                    "schema": {"type": "string"},
                    "example": csv_example,
                },
                MEDIA_TYPES[ExportFormat.parquet]: {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    }


def csv_example(model: type[BaseModel]) -> str:
    row = example(model)
    text = io.StringIO()
    cells = [csv_cell(value) for value in row.values()]
    csv.writer(text, lineterminator="\r\n").writerows([list(row), cells])
    return text.getvalue()


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
