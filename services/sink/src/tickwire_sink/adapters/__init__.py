"""The sink's I/O: PostgreSQL/TimescaleDB."""
