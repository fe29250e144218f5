-- Bars compress in segments of one source as well (timescale license only). Since 0011 the source
-- belongs to the bars natural key, which the segment and order columns of 0004 no longer covered:
-- a replay's ON CONFLICT into a compressed chunk still finds its duplicate, but only after
-- decompressing every source's bars of that instrument and interval around it, and a read of one
-- source (vendor bars beside computed ones) decodes all of them. TimescaleDB 2.19 keeps settings
-- per chunk: chunks already compressed keep theirs until recompressed; later ones use these.
-- Idempotent: nothing changes once source is a segment column, or where compression is off.
DO $$
BEGIN
    IF EXISTS (
        SELECT FROM timescaledb_information.hypertables
        WHERE hypertable_name = 'bars' AND hypertable_schema = current_schema()
          AND compression_enabled
    ) AND NOT EXISTS (
        SELECT FROM timescaledb_information.compression_settings
        WHERE hypertable_name = 'bars' AND hypertable_schema = current_schema()
          AND attname = 'source' AND segmentby_column_index IS NOT NULL
    ) THEN
        ALTER TABLE bars SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'provider, instrument, "interval", source',
            timescaledb.compress_orderby = 'start_ts DESC');
    END IF;
END
$$;
