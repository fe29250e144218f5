"""Which venue fields a mapping reads, told by the mapping's own code: a sampled message is mapped
once more wrapped so that every key looked up is recorded, and the keys it carried unread counted.

Paths name nested fields: `params.data.interest_value`, `events[].tickers[].low_52_w` (a list of
objects is `[]`). An unread object counts once, not field by field. Fields a mapping leaves out on
purpose are named in its code with not_mapped(), so only fields nobody decided on are counted.
Only messages the mapping accepts are checked: a rejected one is a dead letter already."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tickwire_core.errors import RejectedRecord

Map = Callable[[str, Any, int], list[dict[str, Any]]]
OTHER = "(other fields)"  # where fields beyond a provider's cap are counted
_MAX_FIELDS = 50  # per provider: a venue sending random keys must not grow memory or metrics
_MAX_PATH = 120


class _Recorded(dict[str, Any]):
    """A JSON object that records, as paths, the keys looked up in it and in what it holds."""

    def __init__(self, data: dict[str, Any], prefix: str, read: set[str]) -> None:
        super().__init__(data)
        self._prefix = prefix
        self._read = read

    def get(self, key: str, default: Any = None) -> Any:
        return self._wrapped(key, super().get(key, default))

    def __getitem__(self, key: str) -> Any:
        return self._wrapped(key, super().__getitem__(key))

    def __contains__(self, key: object) -> bool:
        self._read.add(f"{self._prefix}{key}")
        return super().__contains__(key)

    def _wrapped(self, key: str, value: Any) -> Any:
        path = f"{self._prefix}{key}"
        self._read.add(path)
        return recorded(value, path, self._read)


def recorded(value: Any, path: str, read: set[str]) -> Any:
    """`value` (a decoded JSON value at `path`) as a mapping sees it, recording into `read`."""
    if isinstance(value, dict):
        return _Recorded(value, f"{path}." if path else "", read)
    if isinstance(value, list):
        return [recorded(item, f"{path}[]", read) for item in value]
    return value


def not_mapped(message: dict[str, Any], *names: str) -> None:
    """The fields of `message` its mapping leaves out on purpose (docs/mappings.md says why): they
    count as read. Costs nothing unless the message is being checked."""
    if isinstance(message, _Recorded):
        for name in names:
            message._read.add(f"{message._prefix}{name}")


def _unread(value: Any, path: str, read: set[str], found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            if inner not in read:
                found.add(inner)
            else:
                _unread(item, inner, read, found)
    elif isinstance(value, list):
        for item in value:
            _unread(item, f"{path}[]", read, found)


def unread_fields(map_message: Map, feed: str, message: Any, received_ts: int) -> set[str]:
    """The paths of `message` that `map_message` did not read; empty if it rejects the message."""
    read: set[str] = set()
    found: set[str] = set()
    try:
        map_message(feed, recorded(message, "", read), received_ts)
        _unread(message, "", read, found)
    except (RejectedRecord, RecursionError):  # a hostile nesting depth is normalize's to reject
        return set()
    return found


class UnmappedFields:
    """Per provider, how many checked messages carried each field unread. The first message of
    each provider and then one in `every` is checked, which keeps the cost off the per-tick path."""

    def __init__(self, mappings: dict[str, Map], every: int = 100) -> None:
        self.mappings = mappings
        self.every = every
        self.counts: dict[str, dict[str, int]] = {}
        self._seen: dict[str, int] = {}

    def observe(self, provider: str, feed: str, payload: bytes, received_ts: int) -> set[str]:
        """Check the message if its turn has come; returns the fields it carried unread."""
        map_message = self.mappings.get(provider)
        if map_message is None:
            return set()
        seen = self._seen.get(provider, 0)
        self._seen[provider] = seen + 1
        if seen % self.every:
            return set()
        try:
            message = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return set()  # normalize dead-letters it
        counts = self.counts.get(provider, {})
        counted = set()
        for path in unread_fields(map_message, feed, message, received_ts):
            path = path[:_MAX_PATH]
            counted.add(path if path in counts or len(counts) < _MAX_FIELDS else OTHER)
        for path in counted:
            counts[path] = counts.get(path, 0) + 1
        if counts:
            self.counts[provider] = counts
        return counted
