-- Storage policies and the bars_1m / bars_1h rollups of trades, chosen by the TimescaleDB license:
-- continuous aggregates, compression and retention under 'timescale', plain views otherwise.
-- Idempotent: every step checks what exists first, so applying the file again changes nothing.

-- Deletes dead letters older than config->>'drop_after'. rejects is a plain table, out of reach of
-- retention policies: under 'timescale' a job runs this daily; elsewhere an operator can CALL it.
CREATE OR REPLACE PROCEDURE prune_rejects(job_id integer, config jsonb)
LANGUAGE plpgsql AS $prune$
DECLARE
    keep interval := (config ->> 'drop_after')::interval;
BEGIN
    IF keep IS NULL THEN
        RAISE EXCEPTION 'prune_rejects needs a config like {"drop_after": "365 days"}, got %',
            config;
    END IF;
    DELETE FROM rejects WHERE rejected_ts < now() - keep;
END
$prune$;

DO $policies$
DECLARE
    -- Missing (TimescaleDB not preloaded) counts as "not timescale": the fallback works anywhere.
    license constant text := current_setting('timescaledb.license', true);
    -- The one definition of a rollup, for both paths, so the API reads the same columns either
    -- way. Volume sums sizes with a missing size as 0: never NULL, and no expression around an
    -- aggregate, which continuous aggregates restrict. Ties on exchange_ts make open and close one
    -- of the tied trades' prices.
    bar_query constant text := $bars$
        SELECT provider,
               instrument,
               time_bucket(%L::interval, exchange_ts) AS start_ts,
               first(last_traded_price, exchange_ts) AS open,
               max(last_traded_price) AS high,
               min(last_traded_price) AS low,
               last(last_traded_price, exchange_ts) AS close,
               sum(coalesce(last_traded_volume, 0)) AS volume,
               count(*) AS tick_count
        FROM ticks
        WHERE kind = 'trade' AND last_traded_price IS NOT NULL
        GROUP BY provider, instrument, start_ts
    $bars$;
    rollup record;
    policy record;
BEGIN
    IF license = 'timescale' THEN
        -- WITH NO DATA: materializing at creation would need its own transactions, and migrations
        -- run inside one; the refresh policies fill the aggregates instead. materialized_only =
        -- false adds the not yet materialized buckets from ticks at query time, so the rollups are
        -- as current as the plain views. The refresh window (30 days) stays well inside the ticks
        -- retention (90 days): a refresh over dropped ticks would empty those buckets.
        FOR rollup IN
            SELECT * FROM (VALUES
                ('bars_1m', INTERVAL '1 minute', INTERVAL '1 minute'),
                ('bars_1h', INTERVAL '1 hour', INTERVAL '15 minutes')
            ) AS r (name, width, refresh_every)
        LOOP
            IF to_regclass(rollup.name) IS NULL THEN
                EXECUTE format(
                    'CREATE MATERIALIZED VIEW %I'
                    ' WITH (timescaledb.continuous, timescaledb.materialized_only = false)'
                    ' AS %s WITH NO DATA',
                    rollup.name, format(bar_query, rollup.width));
            END IF;
            PERFORM add_continuous_aggregate_policy(rollup.name::regclass,
                start_offset => INTERVAL '30 days',
                end_offset => rollup.width,
                schedule_interval => rollup.refresh_every,
                if_not_exists => true);
        END LOOP;

        -- Segments hold one instrument's ticks of one kind (the rollups read trades only), and the
        -- segment and order columns cover each natural key, so a replay's ON CONFLICT into a
        -- compressed chunk can find its duplicate.
        FOR policy IN
            SELECT * FROM (VALUES
                ('ticks', 'provider, instrument, kind', 'exchange_ts DESC, dedup_key',
                 INTERVAL '7 days'),
                ('signals', 'provider, instrument, name', 'ts DESC, "interval"', INTERVAL '7 days'),
                ('bars', 'provider, instrument, "interval"', 'start_ts DESC', INTERVAL '30 days')
            ) AS p (hypertable, segment_by, order_by, compress_after)
        LOOP
            -- Settings are not changed once set: chunks compressed under them may exist.
            IF NOT EXISTS (
                SELECT FROM timescaledb_information.hypertables
                WHERE hypertable_name = policy.hypertable
                  AND hypertable_schema = current_schema()
                  AND compression_enabled
            ) THEN
                EXECUTE format(
                    'ALTER TABLE %I SET (timescaledb.compress,'
                    ' timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)',
                    policy.hypertable, policy.segment_by, policy.order_by);
            END IF;
            PERFORM add_compression_policy(policy.hypertable::regclass,
                compress_after => policy.compress_after,
                if_not_exists => true);
        END LOOP;

        -- Raw ticks for 90 days (bars_1m and bars_1h outlive them); signals, anomalies and the
        -- minute bars for a year; bars and bars_1h are small and kept. The first drop waits a day,
        -- time to roll up by hand the history older than the refresh window before it goes.
        FOR policy IN
            SELECT * FROM (VALUES
                ('ticks', INTERVAL '90 days'),
                ('signals', INTERVAL '365 days'),
                ('anomalies', INTERVAL '365 days'),
                ('bars_1m', INTERVAL '365 days')
            ) AS p (relation, drop_after)
        LOOP
            PERFORM add_retention_policy(policy.relation::regclass,
                drop_after => policy.drop_after,
                initial_start => now() + INTERVAL '1 day',
                if_not_exists => true);
        END LOOP;

        IF NOT EXISTS (
            SELECT FROM timescaledb_information.jobs WHERE proc_name = 'prune_rejects'
        ) THEN
            PERFORM add_job('prune_rejects'::regproc, INTERVAL '1 day',
                config => '{"drop_after": "365 days"}'::jsonb);
        END IF;
    ELSE
        RAISE NOTICE 'timescaledb.license is %: compression, retention policies and continuous '
            'aggregates need the "timescale" license, so nothing is compressed or dropped on a '
            'schedule, and bars_1m and bars_1h are plain views computed from ticks at each query',
            coalesce(license, 'not set');
        FOR rollup IN
            SELECT * FROM (VALUES
                ('bars_1m', INTERVAL '1 minute'),
                ('bars_1h', INTERVAL '1 hour')
            ) AS r (name, width)
        LOOP
            -- Left alone if it exists, even as a continuous aggregate made under another license.
            IF to_regclass(rollup.name) IS NULL THEN
                EXECUTE format('CREATE VIEW %I AS %s', rollup.name, format(bar_query, rollup.width));
            END IF;
        END LOOP;
    END IF;
END
$policies$;
