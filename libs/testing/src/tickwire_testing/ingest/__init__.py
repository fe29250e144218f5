"""Test helpers of the ingest service: a scriptable loopback WebSocket venue, an in-memory raw
sink, and a way to run a connector inside a test."""
