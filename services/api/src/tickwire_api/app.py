"""create_app(settings): the FastAPI application, its pool opened and closed by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from psycopg_pool import ConnectionPool

from tickwire_api.routes import (
    anomalies,
    bars,
    export,
    health,
    instruments,
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
            settings.database_url,
            min_size=1,
            max_size=settings.db_pool_size,
            # Every transaction read-only, whatever role the URL names: the API cannot write.
            kwargs={
                "application_name": "tickwire-api",
                "options": "-c default_transaction_read_only=on",
            },
            open=False,
        )
        pool.open(wait=False)
        app.state.pool = pool
        app.state.settings = settings
        try:
            yield
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
        anomalies.router,
        signals.router,
        status.router,
    ):
        app.include_router(router, dependencies=keyed)
    app.include_router(health.router)
    return app
