-- What the daily quality report needs beyond the stored rows, and the log of batch jobs.
--
-- dedup_tallies: the copies normalize dropped (a replica's, a reconnect's, a replay's), counted
-- per provider, instrument and UTC day of the copy's exchange time. Normalize publishes one tally
-- record per batch inside the batch's transaction, so each tally exists once in Kafka; the sink
-- keys each row by that record's position, so a redelivered tally is stored once.
CREATE TABLE IF NOT EXISTS dedup_tallies (
    provider          text        NOT NULL,
    instrument        text        NOT NULL,
    day               date        NOT NULL,
    duplicates        bigint      NOT NULL CHECK (duplicates > 0),
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_topic, source_partition, source_offset, provider, instrument, day)
);
CREATE INDEX IF NOT EXISTS dedup_tallies_day ON dedup_tallies (day, provider, instrument);

-- Rejects by instrument: the provider and instrument a dead letter was about, and the time it
-- describes (its exchange time when the payload had one), where the rejecting service knew them.
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS provider text;
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS instrument text;
ALTER TABLE rejects ADD COLUMN IF NOT EXISTS event_ts timestamptz;
CREATE INDEX IF NOT EXISTS rejects_instrument_time
    ON rejects (provider, instrument, event_ts) WHERE instrument IS NOT NULL;

-- One row per run of a batch job (backfill, lake-export, quality, migrate, topics-check): what it
-- was asked, when it ran, how it ended. A run killed outright stays 'running'; readers show its age.
CREATE TABLE IF NOT EXISTS job_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job          text        NOT NULL,
    arguments    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    host         text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text        NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    rows         bigint,
    error        text
);
CREATE INDEX IF NOT EXISTS job_runs_recent ON job_runs (job, started_at DESC);
