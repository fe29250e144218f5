-- Pipeline status kept by the sink for the API's /v1/status: per feed, how fresh it is and how
-- much of it arrived or went missing; per service instance, its heartbeat and counters.

-- One row per (provider, instrument). Times move forward only (GREATEST on upsert), so a
-- redelivered batch never makes a feed look older than it is; gaps are counted apart from ticks.
CREATE TABLE IF NOT EXISTS feed_status (
    provider          text        NOT NULL,
    instrument        text        NOT NULL,
    last_exchange_ts  timestamptz,
    last_received_ts  timestamptz,
    ticks             bigint      NOT NULL DEFAULT 0,
    gaps              bigint      NOT NULL DEFAULT 0,
    last_gap_start    timestamptz,
    last_gap_end      timestamptz,
    last_gap_reason   text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, instrument)
);

-- One row per running instance of a service, overwritten by its heartbeat. Counters are since
-- the instance started; circuit is its run loop's breaker state (closed, open, half_open).
CREATE TABLE IF NOT EXISTS service_status (
    service         text        NOT NULL,
    instance        text        NOT NULL,
    heartbeat_at    timestamptz NOT NULL DEFAULT now(),
    rows_in         bigint      NOT NULL DEFAULT 0,
    rows_out        bigint      NOT NULL DEFAULT 0,
    rows_refused    bigint      NOT NULL DEFAULT 0,
    batches_failed  bigint      NOT NULL DEFAULT 0,
    circuit         text,
    last_error      text,
    last_error_at   timestamptz,
    lag             bigint,
    PRIMARY KEY (service, instance)
);
