"""Keyset cursors of the tick history: the last row's sort key, bound to the query it came from,
as opaque URL-safe text that refuses to decode once altered or reused with another query."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

_DIGEST_BYTES = 12


class CursorError(ValueError):
    """The cursor is malformed, altered, or belongs to another query."""


@dataclass(frozen=True, order=True)
class TickKey:
    """Where a tick sorts in the history: exchange time (UTC microseconds), then the natural key's
    remaining parts, so ticks at one instant still have a total order."""

    exchange_ts: int
    dedup_key: str
    provider: str
    kind: str


def _digest(payload: bytes, query: str) -> str:
    # A checksum, not a secret: it turns a damaged or hand-edited cursor into a clear error and
    # stops a cursor from one query silently paging through another.
    return hashlib.blake2b(payload + b"\0" + query.encode(), digest_size=_DIGEST_BYTES).hexdigest()


def encode_cursor(key: TickKey, query: str) -> str:
    """`query`: a fingerprint of the request's filters (see query_fingerprint)."""
    payload = json.dumps(
        [key.exchange_ts, key.dedup_key, key.provider, key.kind], separators=(",", ":")
    ).encode()
    text = json.dumps([payload.decode(), _digest(payload, query)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, query: str) -> TickKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload_text, digest = json.loads(raw)
        payload = str(payload_text).encode()
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API returned") from exc
    if digest != _digest(payload, query):
        raise CursorError("cursor was altered or belongs to another query")
    try:
        exchange_ts, dedup_key, provider, kind = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API returned") from exc
    if not (
        isinstance(exchange_ts, int)
        and all(isinstance(part, str) for part in (dedup_key, provider, kind))
    ):
        raise CursorError("cursor is not one this API returned")
    return TickKey(exchange_ts, dedup_key, provider, kind)


def query_fingerprint(*filters: object) -> str:
    """The filters a cursor is valid for, as one string (None and '' kept apart)."""
    return json.dumps([None if f is None else str(f) for f in filters])
