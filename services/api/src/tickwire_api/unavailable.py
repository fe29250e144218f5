"""The database is out of reach: a request that cannot get a connection in time, or whose
connection breaks under it, is a 503 with Retry-After, never a 500 after a long wait."""

from __future__ import annotations

import logging

import psycopg
from fastapi import Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
DETAIL = "the database is not reachable now; try again later"


def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The exception's text names the host and port at most (never the password), but it goes
    # to the log alone: a client learns only that the database is out of reach.
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": DETAIL}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}
    )


# OperationalError: the connection broke under the request (a restart, a failover, the server
# shutting down); the next request gets a checked connection.
HANDLERS = ((PoolTimeout, database_unavailable), (psycopg.OperationalError, database_unavailable))
