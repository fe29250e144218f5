-- tickwire_reader reads what the API serves and nothing else: dead letters keep raw vendor
-- payloads, and the jobs' runs and watermarks their arguments, which no API caller is shown. Until
-- now it had SELECT on every table, made or to come; a table the API starts to serve from now on
-- is granted to it by the migration that makes it (or a later one).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'tickwire_reader') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM tickwire_reader;
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM tickwire_reader;
        GRANT SELECT ON ticks, bars, bars_1m, bars_1h, anomalies, signals, feed_status,
            service_status, short_volume, short_interest, quality_daily, job_runs
            TO tickwire_reader;
    END IF;
END
$$;
