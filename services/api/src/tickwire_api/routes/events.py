"""/v1/anomalies and /v1/signals: the records the signals service derives, newest first, filtered
by instrument, provider, time and each table's own columns; one route made twice.

No `from __future__ import annotations` here: FastAPI reads the route's annotations at run time,
and those of the route made by `event_router` name its arguments, which only the closure holds."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from tickwire_api import deps
from tickwire_api.adapters.events import ANOMALIES, SIGNALS, EventTable, newest
from tickwire_api.domain.intervals import INTERVAL_PATTERN
from tickwire_api.models.events import AnomalyList, SignalList
from tickwire_api.routes.params import (
    NAME,
    Limit,
    OptionalEnd,
    OptionalInstrument,
    OptionalStart,
    Provider,
    checked_limit,
    checked_optional_range,
)
from tickwire_api.settings import ApiSettings

Filters = dict[str, str | None]


@dataclass(frozen=True)
class Scope:
    instrument: str | None
    provider: str | None


@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None
    limit: int | None


# Three dependencies rather than one, so the query parameters keep their order in the OpenAPI
# document: instrument and provider, the table's own, then the time range and the limit.
def _scope(instrument: OptionalInstrument = None, provider: Provider = None) -> Scope:
    return Scope(instrument, provider)


def _window(start: OptionalStart = None, end: OptionalEnd = None, limit: Limit = None) -> Window:
    return Window(start, end, limit)


def _anomaly_filters(
    severity: Annotated[
        Literal["warning", "critical", "confirmed"] | None,
        Query(
            description="Only this severity. confirmed: a critical price the next prices "
            "confirmed as a move (its row no longer counts as critical)."
        ),
    ] = None,
    rule: Annotated[
        str | None, Query(pattern=NAME, description="Only this rule.", examples=["zscore"])
    ] = None,
) -> Filters:
    return {"severity": severity, "rule": rule}


def _signal_filters(
    name: Annotated[
        str | None, Query(pattern=NAME, description="Only this signal.", examples=["sma_20"])
    ] = None,
    interval: Annotated[
        str | None,
        Query(pattern=INTERVAL_PATTERN, description="Only this bar interval.", examples=["1m"]),
    ] = None,
) -> Filters:
    return {"name": name, "interval": interval}


def event_router(
    table: EventTable,
    response_model: type[BaseModel],
    summary: str,
    filters: Callable[..., Filters],
) -> APIRouter:
    """The route of `table`: its own `filters` (a dependency whose query parameters name the
    table's columns), answering with `response_model`: a count, and the rows under the table's
    name."""
    router = APIRouter(prefix=f"/v1/{table.name}", tags=[table.name])

    # Named after the table, as the operation ids of the OpenAPI document have always been.
    @router.get("", response_model=response_model, summary=summary, name=table.name)
    def listing(
        conn: Annotated[psycopg.Connection, Depends(deps.connection)],
        settings: Annotated[ApiSettings, Depends(deps.settings)],
        scope: Annotated[Scope, Depends(_scope)],
        matches: Annotated[Filters, Depends(filters)],
        window: Annotated[Window, Depends(_window)],
    ) -> BaseModel:
        checked_optional_range(window.start, window.end)
        rows = newest(
            conn,
            table,
            instrument=scope.instrument,
            provider=scope.provider,
            filters=matches,
            start=window.start,
            end=window.end,
            limit=checked_limit(window.limit, settings.max_limit),
        )
        return response_model.model_validate({"count": len(rows), table.name: rows})

    return router


anomalies = event_router(ANOMALIES, AnomalyList, "Anomalies, newest first", _anomaly_filters)
signals = event_router(SIGNALS, SignalList, "Signal values, newest first", _signal_filters)
