"""API keys and request limits. Keys are kept only as SHA-256 digests (from a secret); a request
to /v1 carries the key in X-API-Key, is hashed, and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyHeader
from starlette.responses import JSONResponse

from tickwire_api import deps
from tickwire_api.settings import ApiSettings

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def require_key(
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    key: Annotated[str | None, Depends(API_KEY)] = None,
) -> None:
    if settings.allow_anonymous:
        return
    if not key:
        raise HTTPException(401, "an API key is required (X-API-Key header)")
    given = digest(key)
    if not any(hmac.compare_digest(given, known) for known in settings.key_hashes()):
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
