"""What the paged routes (/v1/short-volume, /v1/short-interest, /v1/quality, /v1/jobs) share:
the cursor and format parameters, and the OpenAPI description of a page in JSON, CSV or Parquet."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from tickwire_api.adapters.export import MEDIA_TYPES, ExportFormat, csv_cell
from tickwire_api.models.examples import example

NEXT_CURSOR_HEADER = "X-Next-Cursor"

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


def paged_responses(model: type[BaseModel], order: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a paged route whose rows are `model`s, sorted as `order` says."""
    return {
        200: {
            "description": f"A page, {order}: JSON with `next_cursor`, or CSV with a "
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
                    "example": _csv_example(model),
                },
                MEDIA_TYPES[ExportFormat.parquet]: {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    }


def _csv_example(model: type[BaseModel]) -> str:
    row = example(model)
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(
        [list(row), [csv_cell(v) for v in row.values()]]
    )
    return text.getvalue()
