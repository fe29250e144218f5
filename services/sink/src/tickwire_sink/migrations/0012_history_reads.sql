-- Indexes for the API's reads of the history: one instrument's short data by date, and the
-- coverage of vendor bars and backfilled ticks without reading the live rows beside them.

-- The natural keys lead with provider: "AAPL from 2019 on" would read every symbol's rows.
CREATE INDEX IF NOT EXISTS short_volume_instrument_date
    ON short_volume (instrument, trade_date);
CREATE INDEX IF NOT EXISTS short_interest_instrument_date
    ON short_interest (instrument, settlement_date);

-- Partial: computed bars (trade, mid) and live ticks, by far the most rows, are left out, so
-- listing what was backfilled reads only what was backfilled.
CREATE INDEX IF NOT EXISTS bars_vendor_coverage
    ON bars (instrument, source, "interval", provider, start_ts)
    WHERE source NOT IN ('trade', 'mid');
CREATE INDEX IF NOT EXISTS ticks_history_coverage
    ON ticks (instrument, provider, exchange_ts)
    WHERE history;
