"""create_app(settings): the FastAPI application, wiring its routes to the database pool and the
live hub, both opened and closed by the lifespan.

There is no handler.py, unlike the other services: the API consumes no batches. Each request is
handled by its route (routes/), and the one Kafka consumer it has, the live stream's, reads on a
thread of its own outside the run loop and fans records out to the open streams
(adapters/live_feed.py and adapters/live_hub.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from tickwire_api import unavailable
from tickwire_api.adapters.db import open_pool
from tickwire_api.adapters.live_hub import start_live, stop_live
from tickwire_api.domain.intervals import RangeError
from tickwire_api.routes import (
    bars,
    dashboard,
    events,
    export,
    health,
    indicators,
    instruments,
    jobs,
    live,
    quality,
    short_data,
    status,
    tick_history,
    ticks,
)
from tickwire_api.routes.params import range_refused
from tickwire_api.security import rate_limiter, require_key, size_limits
from tickwire_api.settings import ApiSettings


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = open_pool(settings.database_url, settings.db_pool_size)
        app.state.pool = pool
        app.state.settings = settings
        app.state.live = start_live(settings)  # None without KAFKA_BOOTSTRAP_SERVERS
        try:
            yield
        finally:
            try:
                await stop_live(app.state.live)
            finally:
                pool.close()

    app = FastAPI(
        title="tickwire API",
        version="1",
        description="History and pipeline status of the tickwire market-data pipeline.",
        lifespan=lifespan,
    )
    # Built with the app, not in the lifespan: buckets outlive no app and need no closing.
    app.state.rate_limiter = rate_limiter(settings)
    app.middleware("http")(size_limits(settings))
    if settings.origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.origins(),
            allow_methods=["GET"],
            allow_headers=["X-API-Key"],
            # A browser shows a script the next page's cursor of a CSV or Parquet page only so.
            expose_headers=["X-Next-Cursor"],
        )
    # A range or interval the domain refuses is a 422 naming the parameter, from any route.
    app.add_exception_handler(RangeError, range_refused)
    for failure, handler in unavailable.HANDLERS:
        app.add_exception_handler(failure, handler)
    keyed = [Depends(require_key)]  # every /v1 route; health and metrics stay open
    refusals: dict[int | str, dict[str, Any]] = {
        401: {"description": "No API key, or not a valid one (X-API-Key)."},
        503: {
            "description": "The database is not reachable now: wait the seconds in Retry-After.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
        429: {
            "description": "Too many requests from this key (or client address): wait the "
            "seconds in Retry-After.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    }
    for router in (
        ticks.router,
        tick_history.router,
        export.router,
        instruments.router,
        bars.router,
        indicators.router,
        short_data.router,
        quality.router,
        events.anomalies,
        events.signals,
        status.router,
        jobs.router,
        live.router,
    ):
        app.include_router(router, dependencies=keyed, responses=refusals)
    app.include_router(health.router)
    app.include_router(dashboard.router)  # the page is open; the /v1 calls it makes are keyed
    return app
