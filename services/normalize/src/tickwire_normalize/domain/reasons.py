"""Reason codes of rejected records, as they appear in the dead-letter topic."""

UNDECODABLE_PAYLOAD = "undecodable_payload"  # the venue message is not valid JSON / not a message
UNKNOWN_PROVIDER = "unknown_provider"  # no mapping for this provider
UNKNOWN_MESSAGE = "unknown_message"  # the provider's mapping does not know this message type
MISSING_IDENTITY = "missing_identity"  # no instrument, or no usable timestamp
NON_FINITE = "non_finite"  # NaN or infinity in a value
NON_POSITIVE_PRICE = "non_positive_price"  # a price <= 0
NEGATIVE_SIZE = "negative_size"  # an amount or volume < 0
CROSSED_MARKET = "crossed_market"  # bid > ask
LOCKED_MARKET = "locked_market"  # bid == ask
HIGH_BELOW_LOW = "high_below_low"  # a high below its low
TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"  # exchange time far in the future or past
MISSING_VALUE = "missing_value"  # a value the record needs that the vendor did not send
BAR_INCONSISTENT = "bar_inconsistent"  # a vendor bar's high/low do not contain its open and close
BAR_OFF_GRID = "bar_off_grid"  # a bar's start is not on its interval's UTC grid (or no interval)
FUTURE_BAR = "future_bar"  # a bar that has not closed by the time it was received
FUTURE_DATE = "future_date"  # a short volume or short interest date after its receipt
INCONSISTENT_VOLUME = "inconsistent_volume"  # a part above its whole (short above total volume)
NAME_TOO_LONG = "name_too_long"  # an instrument, provider or trade id longer than any venue's
