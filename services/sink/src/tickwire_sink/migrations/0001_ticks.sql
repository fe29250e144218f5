CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Normalized ticks: one row per tick, event time (exchange_ts) as the hypertable's time column.
CREATE TABLE IF NOT EXISTS ticks (
    exchange_ts                 timestamptz      NOT NULL,
    received_ts                 timestamptz      NOT NULL,
    provider                    text             NOT NULL,
    instrument                  text             NOT NULL,
    kind                        text             NOT NULL,
    -- trade id, venue sequence or content hash: with the columns above, what makes a tick unique
    dedup_key                   text             NOT NULL,
    bid_price                   double precision,
    bid_amount                  double precision,
    ask_price                   double precision,
    ask_amount                  double precision,
    last_traded_price           double precision,
    last_traded_volume          double precision,
    incremental_trading_volume  double precision,
    day_open_mid                double precision,
    day_net_change_mid          double precision,
    day_percent_change_mid      double precision,
    day_high                    double precision,
    day_low                     double precision,
    index_price                 double precision,
    order_book_state            text,
    mark_price                  double precision,
    mark_implied_volatility     double precision,
    bid_implied_volatility      double precision,
    ask_implied_volatility      double precision,
    min_price                   double precision,
    max_price                   double precision,
    settlement_price            double precision,
    estimated_delivery_price    double precision,
    delivery_price              double precision,
    underlying_index            text,
    underlying_price            double precision,
    current_funding             double precision,
    funding_8h                  double precision,
    open_interest               double precision,
    volume_24h                  double precision,
    volume_usd_24h              double precision,
    price_percent_change_24h    double precision,
    high_24h                    double precision,
    low_24h                     double precision,
    delta                       double precision,
    gamma                       double precision,
    vega                        double precision,
    theta                       double precision,
    rho                         double precision,
    interest_rate               double precision,
    trade_id                    text,
    side                        text,
    venue_seq                   bigint,
    ingest_instance             text             NOT NULL DEFAULT '',
    ingest_seq                  bigint           NOT NULL DEFAULT -1
);

-- One day per chunk: a liquid venue's day of ticks stays well inside memory for recent queries.
SELECT create_hypertable('ticks', 'exchange_ts', chunk_time_interval => INTERVAL '1 day',
                         if_not_exists => TRUE);

-- The natural key. It includes the time column, as TimescaleDB requires of unique indexes, and is
-- the ON CONFLICT target that makes replays and redeliveries harmless.
CREATE UNIQUE INDEX IF NOT EXISTS ticks_natural_key
    ON ticks (provider, instrument, kind, dedup_key, exchange_ts);

CREATE INDEX IF NOT EXISTS ticks_instrument_time
    ON ticks (instrument, exchange_ts DESC);
