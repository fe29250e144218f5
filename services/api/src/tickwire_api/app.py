"""create_app(settings): the FastAPI application, its pool opened and closed by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from psycopg_pool import ConnectionPool

from tickwire_api.adapters.live_hub import start_live, stop_live
from tickwire_api.db import read_only_conninfo
from tickwire_api.routes import (
    anomalies,
    bars,
    dashboard,
    export,
    health,
    indicators,
    instruments,
    live,
    signals,
    status,
    tick_history,
    ticks,
)
from tickwire_api.security import require_key, size_limits
from tickwire_api.settings import ApiSettings


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # open=True with wait=False: start serving (and answering /readyz with 503) even while
        # the database is still coming up; the pool keeps trying in the background.
        pool = ConnectionPool(
            # Every transaction read-only, whatever role the URL names: the API cannot write.
            read_only_conninfo(settings.database_url),
            min_size=1,
            max_size=settings.db_pool_size,
            open=False,
        )
        pool.open(wait=False)
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
    app.middleware("http")(size_limits(settings))
    if settings.origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.origins(),
            allow_methods=["GET"],
            allow_headers=["X-API-Key"],
        )
    keyed = [Depends(require_key)]  # every /v1 route; health and metrics stay open
    for router in (
        ticks.router,
        tick_history.router,
        export.router,
        instruments.router,
        bars.router,
        indicators.router,
        anomalies.router,
        signals.router,
        status.router,
        live.router,
    ):
        app.include_router(router, dependencies=keyed)
    app.include_router(health.router)
    app.include_router(dashboard.router)  # the page is open; the /v1 calls it makes are keyed
    return app
