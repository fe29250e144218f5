-- Deribit's interest_value, the tick schema's newest field.
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS interest_value float8;
