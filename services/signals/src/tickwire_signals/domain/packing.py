"""Number sequences of the state as base64 of little-endian 8-byte values: exact, JSON-safe, and
some ten times cheaper to write as JSON than lists of floats (the windows hold hundreds)."""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Iterable

_SWAP = sys.byteorder != "little"


def pack_floats(values: Iterable[float]) -> str:
    return _encode(array("d", values))


def unpack_floats(text: str) -> list[float]:
    values = array("d")
    _decode(values, text)
    return values.tolist()


def pack_ints(values: Iterable[int]) -> str:
    return _encode(array("q", values))


def unpack_ints(text: str) -> list[int]:
    values = array("q")
    _decode(values, text)
    return values.tolist()


def _encode(values: array[float] | array[int]) -> str:
    if _SWAP:
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _decode(values: array[float] | array[int], text: str) -> None:
    values.frombytes(base64.b64decode(text, validate=True))
    if _SWAP:
        values.byteswap()
