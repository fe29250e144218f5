"""/livez, /readyz, /metrics of the API itself."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from tickwire_api.adapters.db import has_ticks_table

router = APIRouter(tags=["health"])


@router.get(
    "/livez",
    summary="The process serves requests",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def livez() -> dict[str, str]:
    return {"status": "ok"}


_READINESS = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["ok", "fail"]}},
    "required": ["status"],
}


@router.get(
    "/readyz",
    summary="The database answers and the ticks table exists",
    responses={
        200: {
            "content": {
                "application/json": {
                    "schema": _READINESS,
                    "example": {
                        "status": "ok",
                        "database": True,
                        "ticks_table": True,
                        "live_feed": "connected",
                    },
                }
            }
        },
        503: {
            "description": "Not ready, with the reason",
            "content": {
                "application/json": {
                    "schema": _READINESS,
                    "example": {
                        "status": "fail",
                        "database": "error: PoolTimeout: couldn't get a connection",
                    },
                }
            },
        },
    },
)
def readyz(request: Request) -> JSONResponse:
    try:
        ready = has_ticks_table(request.app.state.pool)
        detail: dict[str, object] = {"database": True, "ticks_table": ready}
    except Exception as exc:  # the answer is "not ready", with the reason
        ready, detail = False, {"database": f"error: {type(exc).__name__}: {exc}"}
    live = getattr(request.app.state, "live", None)
    # Said, not judged: history is served whether or not the live stream's Kafka is reachable.
    detail["live_feed"] = "off" if live is None else "connected" if live.connected else "down"
    return JSONResponse(
        {"status": "ok" if ready else "fail", **detail}, status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                CONTENT_TYPE_LATEST.split(";")[0]: {
                    "schema": {"type": "string"},
                    "example": "# TYPE tickwire_live_streams gauge\ntickwire_live_streams 0.0\n",
                }
            }
        }
    },
)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
