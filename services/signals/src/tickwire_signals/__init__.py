"""Anomalies, bars and features from normalized ticks (faust-streaming); not implemented yet."""
