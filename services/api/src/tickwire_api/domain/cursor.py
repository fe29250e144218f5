"""Keyset cursors of the paged histories (ticks, short volume, short interest): the last row's
sort key, bound to the query it came from, as opaque URL-safe text that refuses to decode once
altered or reused with another query."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

_DIGEST_BYTES = 12

Key = tuple[int | str, ...]


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


def encode_key(key: Key, query: str) -> str:
    """`key`: the last row's sort key; `query`: a fingerprint of the request's filters (see
    query_fingerprint)."""
    payload = json.dumps(list(key), separators=(",", ":")).encode()
    text = json.dumps([payload.decode(), _digest(payload, query)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_key(cursor: str, query: str, shape: tuple[type, ...]) -> Key:
    """The key `cursor` holds, each part of the type `shape` names (int or str)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload_text, digest = json.loads(raw)
        payload = str(payload_text).encode()
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API returned") from exc
    if digest != _digest(payload, query):
        raise CursorError("cursor was altered or belongs to another query")
    try:
        parts = json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise CursorError("cursor is not one this API returned") from exc
    # bool is an int to isinstance: JSON's true must not pass for a number.
    if not (
        isinstance(parts, list)
        and len(parts) == len(shape)
        and all(
            isinstance(part, kind) and not isinstance(part, bool)
            for part, kind in zip(parts, shape, strict=True)
        )
    ):
        raise CursorError("cursor is not one this API returned")
    return tuple(parts)


def encode_cursor(key: TickKey, query: str) -> str:
    return encode_key((key.exchange_ts, key.dedup_key, key.provider, key.kind), query)


def decode_cursor(cursor: str, query: str) -> TickKey:
    exchange_ts, dedup_key, provider, kind = decode_key(cursor, query, (int, str, str, str))
    assert isinstance(exchange_ts, int)
    return TickKey(exchange_ts, str(dedup_key), str(provider), str(kind))


def query_fingerprint(*filters: object) -> str:
    """The filters a cursor is valid for, as one string (None and '' kept apart)."""
    return json.dumps([None if f is None else str(f) for f in filters])
