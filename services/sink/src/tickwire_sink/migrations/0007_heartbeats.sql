-- Heartbeats of every service (from the status topic), not only the sink's own: when the
-- instance started, so its counters can be read as rates; lag is the consumer lag it reported.
ALTER TABLE service_status ADD COLUMN IF NOT EXISTS started_at timestamptz;
