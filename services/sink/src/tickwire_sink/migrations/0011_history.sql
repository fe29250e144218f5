-- The history side: vendor bars beside computed ones, ticks marked as backfilled, FINRA's short
-- volume and short interest, and each backfill's watermark and run log.

-- A vendor bar (source = the vendor) and a bar computed from the same venue's ticks (source =
-- trade | mid) share provider, instrument, interval and start: the source joins the natural key,
-- so neither silently drops the other.
ALTER TABLE bars ADD COLUMN IF NOT EXISTS adj_close double precision;
CREATE UNIQUE INDEX IF NOT EXISTS bars_natural_key_by_source
    ON bars (provider, instrument, "interval", source, start_ts);
DROP INDEX IF EXISTS bars_natural_key;
-- Vendors do not say how many trades made a bar: theirs carry 0.
ALTER TABLE bars DROP CONSTRAINT IF EXISTS bars_tick_count_positive;
-- TimescaleDB before 2.20 refuses a new CHECK constraint on a hypertable with compressed chunks
-- (feature_not_supported), and under the timescale license bars compress after 30 days: such a
-- database keeps its bars without this guard (normalize and signals keep tick_count valid) rather
-- than failing the whole migration. Decompress the bars chunks and add it by hand to have it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint
                   WHERE conrelid = 'bars'::regclass AND conname = 'bars_tick_count_valid') THEN
        ALTER TABLE bars ADD CONSTRAINT bars_tick_count_valid
            CHECK (tick_count > 0 OR (tick_count = 0 AND source NOT IN ('trade', 'mid')));
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE WARNING 'bars has compressed chunks, so the check bars_tick_count_valid is not added (%)',
        SQLERRM;
END
$$;

ALTER TABLE ticks ADD COLUMN IF NOT EXISTS history boolean NOT NULL DEFAULT false;

CREATE TABLE IF NOT EXISTS short_volume (
    provider             text             NOT NULL,
    instrument           text             NOT NULL,
    facility             text             NOT NULL,
    trade_date           date             NOT NULL,
    short_volume         double precision NOT NULL,
    short_exempt_volume  double precision,
    total_volume         double precision NOT NULL,
    market               text             NOT NULL DEFAULT '',
    received_ts          timestamptz      NOT NULL,
    stored_at            timestamptz      NOT NULL DEFAULT now(),
    -- Finite and >= 0. PostgreSQL sorts NaN above 'Infinity', so `< 'Infinity'` refuses both; a
    -- coalesce(x, 0) >= 0 alone would let NaN and Infinity through.
    CONSTRAINT short_volume_sizes_valid CHECK (
        short_volume >= 0 AND short_volume < 'Infinity'
        AND total_volume >= 0 AND total_volume < 'Infinity'
        AND (short_exempt_volume IS NULL
             OR (short_exempt_volume >= 0 AND short_exempt_volume < 'Infinity')))
);
SELECT create_hypertable('short_volume', 'trade_date', chunk_time_interval => INTERVAL '1 year',
                         if_not_exists => TRUE);
CREATE UNIQUE INDEX IF NOT EXISTS short_volume_natural_key
    ON short_volume (provider, instrument, facility, trade_date);

CREATE TABLE IF NOT EXISTS short_interest (
    provider                 text             NOT NULL,
    instrument               text             NOT NULL,
    settlement_date          date             NOT NULL,
    short_interest           double precision NOT NULL,
    previous_short_interest  double precision,
    average_daily_volume     double precision,
    days_to_cover            double precision,
    market                   text             NOT NULL DEFAULT '',
    received_ts              timestamptz      NOT NULL,
    stored_at                timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT short_interest_sizes_valid CHECK (
        short_interest >= 0 AND short_interest < 'Infinity'
        AND (previous_short_interest IS NULL
             OR (previous_short_interest >= 0 AND previous_short_interest < 'Infinity'))
        AND (average_daily_volume IS NULL
             OR (average_daily_volume >= 0 AND average_daily_volume < 'Infinity'))
        AND (days_to_cover IS NULL OR (days_to_cover >= 0 AND days_to_cover < 'Infinity')))
);
SELECT create_hypertable('short_interest', 'settlement_date',
                         chunk_time_interval => INTERVAL '5 years', if_not_exists => TRUE);
CREATE UNIQUE INDEX IF NOT EXISTS short_interest_natural_key
    ON short_interest (provider, instrument, settlement_date);

-- How far each backfill has fetched: a rerun starts here. `dataset` is the feed it fetches
-- (ohlcv:1d, trades, regsho, short_interest); `watermark_ts` is exclusive: everything before it
-- was published to the raw topic and acknowledged by the broker.
CREATE TABLE IF NOT EXISTS backfill_watermarks (
    source        text        NOT NULL,
    dataset       text        NOT NULL,
    instrument    text        NOT NULL,
    watermark_ts  timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, dataset, instrument)
);

-- One row per backfill of one instrument: what it asked for, what became of it.
CREATE TABLE IF NOT EXISTS backfill_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source           text        NOT NULL,
    dataset          text        NOT NULL,
    instrument       text        NOT NULL,
    since_ts         timestamptz,
    until_ts         timestamptz NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    status           text        NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
    pages            integer     NOT NULL DEFAULT 0,
    fetched          bigint      NOT NULL DEFAULT 0,
    published        bigint      NOT NULL DEFAULT 0,
    stored           bigint,
    already_present  bigint,
    rejected         jsonb,
    error            text
);
CREATE INDEX IF NOT EXISTS backfill_runs_recent ON backfill_runs (source, instrument, started_at DESC);
