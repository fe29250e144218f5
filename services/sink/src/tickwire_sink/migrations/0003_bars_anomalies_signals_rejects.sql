-- Bars, anomalies and signals (hypertables, one row per natural key so redeliveries are harmless)
-- and rejects: the dead letters of every service, kept for inspection and replay.

-- One row per OHLCV bar; the CHECKs make a malformed bar a refused row, never a stored one.
-- PostgreSQL orders NaN above every number (NaN >= 0 and NaN <= NaN are true), so an ordering
-- alone lets NaN through: high and volume must be below 'Infinity' (which NaN is not), low above
-- '-Infinity', and the ordering then bounds open, close and low by a finite high.
CREATE TABLE IF NOT EXISTS bars (
    provider    text             NOT NULL,
    instrument  text             NOT NULL,
    "interval"  text             NOT NULL,
    start_ts    timestamptz      NOT NULL,
    open        double precision NOT NULL,
    high        double precision NOT NULL,
    low         double precision NOT NULL,
    close       double precision NOT NULL,
    volume      double precision NOT NULL,
    tick_count  integer          NOT NULL,
    source      text             NOT NULL,
    CONSTRAINT bars_prices_finite CHECK (low > '-Infinity' AND high < 'Infinity'),
    CONSTRAINT bars_ohlc_ordered
        CHECK (low <= open AND open <= high AND low <= close AND close <= high),
    CONSTRAINT bars_volume_valid CHECK (volume >= 0 AND volume < 'Infinity'),
    CONSTRAINT bars_tick_count_positive CHECK (tick_count > 0)
);

-- Seven days per chunk: bars are far fewer than ticks.
SELECT create_hypertable('bars', 'start_ts', chunk_time_interval => INTERVAL '7 days',
                         if_not_exists => TRUE);

CREATE UNIQUE INDEX IF NOT EXISTS bars_natural_key
    ON bars (provider, instrument, "interval", start_ts);

CREATE INDEX IF NOT EXISTS bars_instrument_time
    ON bars (instrument, start_ts DESC);

-- One row per rule that fired on a tick (ts is the judged tick's event time).
CREATE TABLE IF NOT EXISTS anomalies (
    provider       text             NOT NULL,
    instrument     text             NOT NULL,
    ts             timestamptz      NOT NULL,
    rule           text             NOT NULL,
    severity       text             NOT NULL,
    value          double precision NOT NULL,
    threshold      double precision NOT NULL,
    window_mean    double precision,
    window_stddev  double precision,
    window_count   integer,
    detail         text             NOT NULL DEFAULT ''
);

SELECT create_hypertable('anomalies', 'ts', chunk_time_interval => INTERVAL '7 days',
                         if_not_exists => TRUE);

CREATE UNIQUE INDEX IF NOT EXISTS anomalies_natural_key
    ON anomalies (provider, instrument, rule, ts);

CREATE INDEX IF NOT EXISTS anomalies_instrument_time
    ON anomalies (instrument, ts DESC);

-- "Every critical anomaly of the last hour" without scanning the warnings.
CREATE INDEX IF NOT EXISTS anomalies_severity_time
    ON anomalies (severity, ts DESC);

-- One value of a named signal. The same name is computed per bar interval, so the interval,
-- taken from the parameters, is part of the key; as a column it can be indexed and compared.
CREATE TABLE IF NOT EXISTS signals (
    provider    text             NOT NULL,
    instrument  text             NOT NULL,
    ts          timestamptz      NOT NULL,
    name        text             NOT NULL,
    value       double precision NOT NULL,
    parameters  jsonb            NOT NULL DEFAULT '{}',
    "interval"  text             NOT NULL DEFAULT ''
);

-- One day per chunk: several signals per instrument and bar make this the busiest table after
-- ticks.
SELECT create_hypertable('signals', 'ts', chunk_time_interval => INTERVAL '1 day',
                         if_not_exists => TRUE);

CREATE UNIQUE INDEX IF NOT EXISTS signals_natural_key
    ON signals (provider, instrument, name, ts, "interval");

CREATE INDEX IF NOT EXISTS signals_instrument_name_time
    ON signals (instrument, name, ts DESC);

-- Dead letters. A plain table: they are few, and a hypertable's unique keys must include its time
-- column, while a redelivered dead letter carries a new rejected_ts. The source position and the
-- reason identify one rejection.
CREATE TABLE IF NOT EXISTS rejects (
    reason            text        NOT NULL,
    message           text        NOT NULL,
    service           text        NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    source_key        bytea,
    payload           bytea       NOT NULL,
    rejected_ts       timestamptz NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS rejects_natural_key
    ON rejects (service, source_topic, source_partition, source_offset, reason);

CREATE INDEX IF NOT EXISTS rejects_reason_time
    ON rejects (reason, rejected_ts DESC);
