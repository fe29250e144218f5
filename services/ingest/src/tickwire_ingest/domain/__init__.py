"""Pure ingest logic: what a feed says, turned into raw records; no I/O here."""
