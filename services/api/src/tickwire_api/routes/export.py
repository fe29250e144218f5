"""/v1/export/ticks: every tick of an instrument in a range, as one JSON array, CSV or Parquet
file, streamed as the database returns it (adapters/export.py)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from tickwire_api import deps
from tickwire_api.adapters.export import MEDIA_TYPES, ExportFormat, export
from tickwire_api.domain.intervals import check_range_days
from tickwire_api.routes.params import End, Instrument, Provider, Start
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/export", tags=["export"])


@router.get(
    "/ticks",
    summary="Every tick of an instrument in a time range, as one JSON, CSV or Parquet file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The ticks, streamed: a JSON array, CSV with a header row, or Parquet "
            "(columns typed as stored: times as UTC microsecond timestamps).",
            "content": {
                MEDIA_TYPES[ExportFormat.json]: {
                    "schema": {"type": "array", "items": {"type": "object"}},
                    "example": [
                        {
                            "provider": "simulator",
                            "instrument": "SIM-BTC-USD",
                            "kind": "quote",
                            "exchange_ts": "2023-11-14T22:13:20Z",
                            "bid_price": 65000.5,
                            "ask_price": 65001.0,
                        }
                    ],
                },
                MEDIA_TYPES[ExportFormat.csv]: {
                    "schema": {"type": "string"},
                    "example": "exchange_ts,received_ts,provider,instrument,kind,bid_price,"
                    "ask_price\n2023-11-14T22:13:20Z,2023-11-14T22:13:20.003Z,simulator,"
                    "SIM-BTC-USD,quote,65000.5,65001.0\n",
                },
                MEDIA_TYPES[ExportFormat.parquet]: {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
def export_ticks(
    request: Request,
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: Instrument,
    start: Start,
    end: End,
    provider: Provider = None,
    format: Annotated[
        ExportFormat, Query(description="json (one array), csv or parquet.")
    ] = ExportFormat.json,
) -> StreamingResponse:
    """Ticks with `start <= exchange_ts < end`, oldest first, times in UTC; the range is capped
    at max_export_days."""
    check_range_days(start, end, settings.max_export_days, "TICKWIRE_MAX_EXPORT_DAYS")
    stamp = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}-{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    safe = instrument.replace("/", "_").replace(":", "_")
    filename = f"ticks_{safe}_{stamp}.{format.value}"
    return StreamingResponse(
        export(request.app.state.pool, format, instrument, provider, start, end),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
