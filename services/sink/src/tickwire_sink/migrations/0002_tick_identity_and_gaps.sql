-- The venue's own instrument name next to the unified one, and gap events (kind = 'gap'): the
-- stretch of a feed known to be missing, so a backtest can see where its history has holes.
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS venue_instrument text;
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS gap_end_ts timestamptz;
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS gap_reason text;
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS gap_lost bigint;
