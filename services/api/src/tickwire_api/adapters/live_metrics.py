"""Prometheus metrics of the live stream (/v1/live), served on the API's /metrics: open streams,
events sent and dropped, and whether the feed's consumer has its partitions."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STREAMS = Gauge("tickwire_live_streams", "Open /v1/live streams (subscribers)")
RECORDS = Counter(
    "tickwire_live_records_total",
    "Records of the anomalies and signals topics fanned out to the /v1/live streams",
    ["event"],
)
EVENTS_SENT = Counter(
    "tickwire_live_events_sent_total",
    "Events written to /v1/live streams, by event (anomaly, signal, lagged)",
    ["event"],
)
EVENTS_DROPPED = Counter(
    "tickwire_live_events_dropped_total",
    "Events a /v1/live stream was too far behind to take (it is sent 'lagged' instead)",
    ["event"],
)
FEED_CONNECTED = Gauge(
    "tickwire_live_feed_connected",
    "1 while the live feed's consumer reaches the brokers and reads every partition",
)
RECORDS_UNDECODABLE = Counter(
    "tickwire_live_records_undecodable_total",
    "Records of the anomalies and signals topics the live feed could not decode (skipped)",
    ["topic"],
)
