-- The first tick of each feed beside its last, so /v1/instruments answers from feed_status (one
-- row per feed) instead of scanning every tick. Filled once from the ticks already stored; from
-- then on the sink keeps it with LEAST, as it keeps the last with GREATEST.
ALTER TABLE feed_status ADD COLUMN IF NOT EXISTS first_exchange_ts timestamptz;

UPDATE feed_status f
SET first_exchange_ts = (
    SELECT min(t.exchange_ts) FROM ticks t
    WHERE t.provider = f.provider AND t.instrument = f.instrument AND t.kind <> 'gap'
)
WHERE f.first_exchange_ts IS NULL;
