"""The dashboard: one HTML page with its own scripts and stylesheet, shipped inside the package
(tickwire_api/dashboard/) and served without a key; the data it shows comes from the keyed /v1."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path
from fastapi.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# Everything the page runs and shows comes from this server: no inline code, no other origin.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated on every load (cheap with the ETag), so an upgraded API never runs old scripts.
    "Cache-Control": "no-cache",
}


@cache
def _files() -> dict[str, tuple[bytes, str, str]]:
    """name -> (content, media type, ETag) of every file of the dashboard, read once."""
    found = {}
    for entry in (resources.files("tickwire_api") / "dashboard").iterdir():
        media_type = _MEDIA_TYPES.get("." + entry.name.rpartition(".")[2])
        if media_type is not None and entry.is_file():
            content = entry.read_bytes()
            etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
            found[entry.name] = (content, media_type, etag)
    return found


def _serve(name: str, if_none_match: str | None) -> Response:
    try:
        content, media_type, etag = _files()[name]
    except KeyError:
        raise HTTPException(404, "no such file of the dashboard") from None
    headers = {**_HEADERS, "ETag": etag}
    if if_none_match == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


@router.get("/")
def root() -> RedirectResponse:
    # Relative, so a proxy's path prefix is kept.
    return RedirectResponse("dashboard")


@router.get("/dashboard")
def page(if_none_match: Annotated[str | None, Header()] = None) -> Response:
    return _serve("index.html", if_none_match)


@router.get("/dashboard/{name}")
def asset(
    name: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]*\.(js|css)$")],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    return _serve(name, if_none_match)
