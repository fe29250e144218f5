-- The daily quality report: one row per provider, instrument and UTC day, computed from the stored
-- rows by `tickwire quality --day D` (docs/quality.md explains every column). A recomputed day
-- replaces its rows in one transaction, so the table holds each day's latest computation once.
--
-- Rejects that name no instrument are reported under instrument '*' of their provider, or of
-- provider '*' when the dead letter named none either; those rows carry no calendar.
CREATE TABLE IF NOT EXISTS quality_daily (
    provider           text             NOT NULL,
    instrument         text             NOT NULL,
    day                date             NOT NULL,
    calendar           text,
    session_minutes    integer          NOT NULL CHECK (session_minutes BETWEEN 0 AND 1440),
    covered_minutes    integer          NOT NULL CHECK (covered_minutes BETWEEN 0 AND 1440),
    coverage           double precision CHECK (coverage BETWEEN 0 AND 1),
    ticks              bigint           NOT NULL DEFAULT 0,
    quotes             bigint           NOT NULL DEFAULT 0,
    trades             bigint           NOT NULL DEFAULT 0,
    tickers            bigint           NOT NULL DEFAULT 0,
    first_tick         timestamptz,
    last_tick          timestamptz,
    gaps               bigint           NOT NULL DEFAULT 0,
    gap_seconds        double precision NOT NULL DEFAULT 0,
    gap_lost           bigint           NOT NULL DEFAULT 0,
    gaps_by_reason     jsonb            NOT NULL DEFAULT '{}'::jsonb,
    duplicates         bigint           NOT NULL DEFAULT 0,
    duplicate_rate     double precision CHECK (duplicate_rate BETWEEN 0 AND 1),
    rejects            bigint           NOT NULL DEFAULT 0,
    rejects_by_reason  jsonb            NOT NULL DEFAULT '{}'::jsonb,
    late_ticks         bigint           NOT NULL DEFAULT 0,
    anomalies          bigint           NOT NULL DEFAULT 0,
    anomalies_by_rule  jsonb            NOT NULL DEFAULT '{}'::jsonb,
    vendor_source      text,
    vendor_close       double precision,
    computed_close     double precision,
    close_rel_diff     double precision,
    bar_agreement      jsonb            NOT NULL DEFAULT '{}'::jsonb,
    computed_at        timestamptz      NOT NULL DEFAULT now(),
    tickwire_version   text             NOT NULL,
    PRIMARY KEY (provider, instrument, day)
);
-- The API and the dashboard read a range of days, of everything or of one instrument.
CREATE INDEX IF NOT EXISTS quality_daily_day ON quality_daily (day, instrument, provider);
