"""Reads of FINRA's short-sale data a page at a time (keyset pagination, oldest day first):
daily short volume with its ratio to total volume, and short interest by settlement date."""

from __future__ import annotations

from tickwire_api.adapters.day_pages import FILTERS, Dataset

# The ratio is null for a day with no volume reported rather than a division by zero.
_SHORT_VOLUME = (
    """
SELECT provider, instrument, facility, trade_date, short_volume, short_exempt_volume,
       total_volume, short_volume / NULLIF(total_volume, 0) AS short_volume_ratio, market,
       received_ts
FROM short_volume"""
    + FILTERS.format(day="trade_date")
    + """
  AND (%(facility)s::text IS NULL OR facility = %(facility)s)
  AND (%(after_day)s::date IS NULL
       OR (trade_date, instrument, provider, facility)
          > (%(after_day)s, %(after_instrument)s, %(after_provider)s, %(after_facility)s))
ORDER BY trade_date, instrument, provider, facility
LIMIT %(fetch)s
"""
)

_SHORT_INTEREST = (
    """
SELECT provider, instrument, settlement_date, short_interest, previous_short_interest,
       average_daily_volume, days_to_cover, market, received_ts
FROM short_interest"""
    + FILTERS.format(day="settlement_date")
    + """
  AND (%(after_day)s::date IS NULL
       OR (settlement_date, instrument, provider)
          > (%(after_day)s, %(after_instrument)s, %(after_provider)s))
ORDER BY settlement_date, instrument, provider
LIMIT %(fetch)s
"""
)


SHORT_VOLUME = Dataset(_SHORT_VOLUME, "trade_date", (int, str, str, str))
SHORT_INTEREST = Dataset(_SHORT_INTEREST, "settlement_date", (int, str, str))
