-- Deribit's interest_value, the tick schema's newest field; and, per normalize instance, the venue
-- fields its mappings did not read (provider -> field -> count, from its heartbeat).
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS interest_value float8;
ALTER TABLE service_status ADD COLUMN IF NOT EXISTS unmapped_fields jsonb;
