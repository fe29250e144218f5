"""Reads of the daily quality report (quality_daily, written by `tickwire quality`) a page at a
time, oldest day first, then instrument and provider."""

from __future__ import annotations

from tickwire_api.adapters.day_pages import FILTERS, Dataset

_QUALITY = (
    """
SELECT provider, instrument, day, calendar, session_minutes, covered_minutes, coverage, ticks,
       quotes, trades, tickers, first_tick, last_tick, gaps, gap_seconds, gap_lost,
       gaps_by_reason, duplicates, duplicate_rate, rejects, rejects_by_reason, late_ticks,
       anomalies, anomalies_by_rule, vendor_source, vendor_close, computed_close, close_rel_diff,
       bar_agreement, computed_at, tickwire_version
FROM quality_daily"""
    + FILTERS.format(day="day")
    + """
  AND (%(after_day)s::date IS NULL
       OR (day, instrument, provider) > (%(after_day)s, %(after_instrument)s, %(after_provider)s))
ORDER BY day, instrument, provider
LIMIT %(fetch)s
"""
)

QUALITY = Dataset(_QUALITY, "day", (int, str, str))
