"""/v1/anomalies: the rules that fired on ticks, newest first, filtered by instrument, provider,
severity, rule and time."""

from __future__ import annotations

from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row

from tickwire_api import deps
from tickwire_api.models.events import Anomaly, AnomalyList
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

router = APIRouter(prefix="/v1/anomalies", tags=["anomalies"])

_NEWEST = """
SELECT provider, instrument, ts, rule, severity, value, threshold,
       window_mean, window_stddev, window_count, detail
FROM anomalies
WHERE (%(instrument)s::text IS NULL OR instrument = %(instrument)s)
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND (%(severity)s::text IS NULL OR severity = %(severity)s)
  AND (%(rule)s::text IS NULL OR rule = %(rule)s)
  AND (%(start)s::timestamptz IS NULL OR ts >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR ts < %(end)s)
ORDER BY ts DESC, provider, instrument, rule
LIMIT %(limit)s
"""


@router.get("", response_model=AnomalyList, summary="Anomalies, newest first")
def anomalies(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    instrument: OptionalInstrument = None,
    provider: Provider = None,
    severity: Annotated[
        Literal["warning", "critical"] | None, Query(description="Only this severity.")
    ] = None,
    rule: Annotated[
        str | None, Query(pattern=NAME, description="Only this rule.", examples=["zscore"])
    ] = None,
    start: OptionalStart = None,
    end: OptionalEnd = None,
    limit: Limit = None,
) -> AnomalyList:
    checked_optional_range(start, end)
    params = {
        "instrument": instrument,
        "provider": provider,
        "severity": severity,
        "rule": rule,
        "start": start,
        "end": end,
        "limit": checked_limit(limit, settings.max_limit),
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_NEWEST, params).fetchall()
    return AnomalyList(count=len(rows), anomalies=[Anomaly.model_validate(r) for r in rows])
