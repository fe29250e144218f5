"""create_app(settings): the FastAPI application, its pool opened and closed by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import ConnectionPool

from tickwire_api.routes import (
    anomalies,
    bars,
    health,
    instruments,
    signals,
    status,
    tick_history,
    ticks,
)
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
    app.include_router(ticks.router)
    app.include_router(tick_history.router)
    app.include_router(instruments.router)
    app.include_router(bars.router)
    app.include_router(anomalies.router)
    app.include_router(signals.router)
    app.include_router(status.router)
    app.include_router(health.router)
    return app
