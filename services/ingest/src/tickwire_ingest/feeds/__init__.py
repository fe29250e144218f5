"""The ingest service's feeds: each drives one connector into the raw sink until stopped."""
