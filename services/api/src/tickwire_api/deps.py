"""Request dependencies: the connection pool, settings and rate limiter, owned by the app."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from fastapi import Request
from psycopg_pool import ConnectionPool

from tickwire_api.domain.rate_limit import RateLimiter
from tickwire_api.settings import ApiSettings


def settings(request: Request) -> ApiSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def connection(request: Request) -> Iterator[psycopg.Connection]:
    pool: ConnectionPool = request.app.state.pool
    # Beyond the wait, PoolTimeout: a 503 with Retry-After (tickwire_api.unavailable).
    with pool.connection(timeout=settings(request).db_wait_s) as conn:
        yield conn


def rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter  # type: ignore[no-any-return]
