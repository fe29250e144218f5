"""Timing and limits of venue connections (ConnectionConfig), from the settings or a test's own:
how fast to reconnect, how often the timer runs, how long to wait for a socket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickwire_ingest.settings import IngestSettings


@dataclass(frozen=True)
class ConnectionConfig:
    """Timing and limits of venue connections. Staleness and maximum age come from the Venue;
    `stale_after_s` here overrides the venue's when set."""

    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 60.0
    stale_after_s: float | None = None
    # A connection that carried data for this long proves the venue is fine: the backoff restarts.
    healthy_after_s: float = 30.0
    timer_s: float = 1.0  # how often Session.on_timer runs and ages are checked
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    ping_interval_s: float | None = 20.0  # WebSocket pings; a missing pong closes the socket
    max_frame_bytes: int = 2**20
    max_pending_frames: int = 1024  # received but not yet handled, over the plan's sockets

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> ConnectionConfig:
        return cls(
            reconnect_min_s=settings.reconnect_min_s,
            reconnect_max_s=settings.reconnect_max_s,
            stale_after_s=settings.stale_after_s,
        )
