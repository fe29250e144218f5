"""Pure rules of the API: cursors, bar intervals and request ranges, indicators, freshness, and
the live stream's events, fan-out and frames. No I/O here; RangeError becomes a 422 in the app."""
