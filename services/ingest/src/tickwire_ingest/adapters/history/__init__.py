"""History sources: one adapter per vendor around the pure mappings, and the HTTP they share."""
