"""Server-sent event frames (text/event-stream) of a live stream: events, the lagged notice, the
opening frame and keep-alive comments, each a complete frame ending in a blank line."""

from __future__ import annotations

import json
import re

from tickwire_api.domain.live import LiveEvent

RETRY_MS = 3_000
"""How long a browser's EventSource waits before it reconnects a dropped stream."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _single_line(field: str, value: str) -> str:
    # A line break would end the field early and let the rest pass for fields of its own.
    if _LINE_BREAK.search(value) or "\0" in value:
        raise ValueError(f"an SSE {field} must be one line without NUL: {value!r}")
    return value


def event_frame(name: str, data: str, event_id: str | None = None) -> str:
    """`event:`, `id:` and one `data:` line per line of `data` (the client joins them again)."""
    lines = [f"event: {_single_line('event name', name)}"]
    if event_id is not None:
        lines.append(f"id: {_single_line('id', event_id)}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    return "\n".join(lines) + "\n\n"


def live_frame(event: LiveEvent) -> str:
    return event_frame(event.kind, event.data, event.id)


def lagged_frame(missed: int) -> str:
    """Told to a stream that fell behind: `missed` events were dropped at this point of it."""
    return event_frame("lagged", json.dumps({"missed": missed}, separators=(",", ":")))


def comment_frame(text: str) -> str:
    """A comment, which clients ignore: it keeps proxies from closing an idle connection and makes
    the server write, which is how it finds a client that is gone."""
    return "".join(f": {line}\n" for line in _LINE_BREAK.split(text)) + "\n"


def opening_frame() -> str:
    """Sent once the subscription is in place: from here on, every matching record arrives."""
    return f": subscribed\nretry: {RETRY_MS}\n\n"


HEARTBEAT = comment_frame("keep-alive")
