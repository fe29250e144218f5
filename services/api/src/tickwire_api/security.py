"""API keys and request limits. Keys are kept only as SHA-256 digests (from a secret); a request
to /v1 carries the key in X-API-Key, is hashed, compared in constant time, and rate limited."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyHeader
from starlette.responses import JSONResponse

from tickwire_api import deps
from tickwire_api.domain.rate_limit import RateLimiter
from tickwire_api.settings import ApiSettings

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def rate_limiter(settings: ApiSettings) -> RateLimiter:
    return RateLimiter(
        settings.rate_limit_per_s,
        settings.rate_limit_burst,
        time.monotonic,
        settings.rate_limit_callers,
    )


# async: it runs on the event loop, the only caller the rate limiter allows.
async def require_key(
    request: Request,
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    key: Annotated[str | None, Depends(API_KEY)] = None,
) -> None:
    given = digest(key) if key else None
    valid = given is not None and any(
        hmac.compare_digest(given, known) for known in settings.key_hashes()
    )
    # A valid key has a bucket of its own; everything else shares its client address's, so
    # guessing keys (each wrong one new) is rate limited too, before it is refused.
    caller = f"key:{given}" if valid else f"addr:{request.client.host if request.client else '-'}"
    wait = deps.rate_limiter(request).take(caller)
    if wait:
        raise HTTPException(
            429,
            f"too many requests: at most {settings.rate_limit_per_s:g} a second after a burst "
            f"of {settings.rate_limit_burst}; retry after {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if settings.allow_anonymous or valid:
        return
    if not key:
        raise HTTPException(401, "an API key is required (X-API-Key header)")
    raise HTTPException(401, "the API key is not valid")


def size_limits(
    settings: ApiSettings,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if len(request.url.query.encode()) > settings.max_query_bytes:
            return JSONResponse(
                {"detail": f"query string longer than {settings.max_query_bytes} bytes"}, 414
            )
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return JSONResponse(
                {"detail": f"request body larger than {settings.max_body_bytes} bytes"}, 413
            )
        return await call_next(request)

    return limit
