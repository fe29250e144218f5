-- Dead letters sent back to their topic by `tickwire deadletters redrive`: one row per original
-- record, claimed (committed) before it is produced and marked sent once Kafka acknowledged it,
-- so no record is ever redriven twice, whichever run or however many runs at once.
--
-- The key is the original record's position, not the dead letter's: the dead-letter topic may hold
-- one rejection twice (a retried batch dead-letters its rejects again), and two consumers of one
-- topic may both reject a record; either way the record goes back once. A redriven record that is
-- rejected again has a new position, so it can be redriven again after a further fix.
CREATE TABLE IF NOT EXISTS deadletter_redrives (
    source_topic          text        NOT NULL,
    source_partition      integer     NOT NULL,
    source_offset         bigint      NOT NULL,
    -- the dead letter it was taken from, and why that record had been rejected
    deadletter_topic      text        NOT NULL,
    deadletter_partition  integer     NOT NULL,
    deadletter_offset     bigint      NOT NULL,
    service               text        NOT NULL,
    reason                text        NOT NULL,
    claimed_by            text        NOT NULL,
    claimed_at            timestamptz NOT NULL DEFAULT now(),
    -- NULL until Kafka acknowledged the record: a row left so by a crash is reported, never resent
    sent_at               timestamptz,
    sent_partition        integer,
    sent_offset           bigint,
    PRIMARY KEY (source_topic, source_partition, source_offset)
);

CREATE INDEX IF NOT EXISTS deadletter_redrives_claimed_at
    ON deadletter_redrives (claimed_at DESC);
