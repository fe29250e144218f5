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
