-- Corrections: a bar re-emitted with a higher revision replaces the stored one (a critical price
-- the next prices confirmed as a move, added to the bars it had been kept out of), and an anomaly
-- row's severity may turn from critical to confirmed (no column needed). Bars stored before read
-- as revision 0, the default; the writer always sets it, and compares it through coalesce.
ALTER TABLE bars ADD COLUMN IF NOT EXISTS revision integer DEFAULT 0;
