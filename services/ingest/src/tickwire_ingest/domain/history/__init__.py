"""Vendor history, fetched by a backfill: what a source yields (pages of vendor rows, each page
with how far it covers) and what it is asked for. Pure data; the sources are adapters."""
