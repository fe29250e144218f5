"""Test helpers of the ingest service: a scriptable loopback WebSocket venue, an in-memory raw
sink, a way to run a connector inside a test, and the harness the venue connection tests share."""
