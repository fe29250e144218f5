"""Cursors and intervals of the history routes: round trips, refusals, bucket counts."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_api.domain.cursor import (
    CursorError,
    TickKey,
    decode_cursor,
    encode_cursor,
    query_fingerprint,
)
from tickwire_api.domain.intervals import (
    RangeError,
    bar_seconds,
    base_interval,
    check_buckets,
    check_range_days,
    interval_seconds,
)

QUERY = query_fingerprint("SIM-A", None, "2023-11-14T22:13:20+00:00", "2023-11-15T00:00:00+00:00")
keys = st.builds(
    TickKey,
    st.integers(min_value=0, max_value=2**62),
    st.text(max_size=80),
    st.text(max_size=32),
    st.text(max_size=16),
)


@given(keys)
def test_a_cursor_decodes_to_its_key_and_is_url_safe(key: TickKey) -> None:
    cursor = encode_cursor(key, QUERY)
    assert decode_cursor(cursor, QUERY) == key
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@given(keys, st.data())
def test_any_altered_character_is_refused(key: TickKey, data: st.DataObject) -> None:
    cursor = encode_cursor(key, QUERY)
    at = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("Aa0-_Zz9").filter(lambda c: c != cursor[at]))
    altered = cursor[:at] + replacement + cursor[at + 1 :]
    # The last character may carry only padding bits; altering those leaves the bytes unchanged.
    try:
        assert decode_cursor(altered, QUERY) == key
    except CursorError:
        pass
    else:
        assert at == len(cursor) - 1


def test_a_cursor_of_another_query_or_of_nothing_is_refused() -> None:
    cursor = encode_cursor(TickKey(1, "s:1", "simulator", "quote"), QUERY)
    with pytest.raises(CursorError, match="another query"):
        decode_cursor(cursor, query_fingerprint("SIM-A", "", "x", "y"))
    for junk in ("", "!!!", "e30", "W10"):
        with pytest.raises(CursorError):
            decode_cursor(junk, QUERY)


@pytest.mark.parametrize(
    ("interval", "seconds", "base"),
    [
        ("1s", 1, "1s"),
        ("5s", 5, "1s"),
        ("90s", 90, "1s"),
        ("1m", 60, "1m"),
        ("120s", 120, "1m"),
        ("15m", 900, "1m"),
        ("1h", 3600, "1m"),
        ("1d", 86400, "1m"),
        ("24h", 86400, "1m"),
    ],
)
def test_intervals_and_their_base(interval: str, seconds: int, base: str) -> None:
    assert interval_seconds(interval) == seconds
    assert base_interval(seconds) == base


@pytest.mark.parametrize("interval", ["", "0s", "2d", "25h", "1w", "1.5m", "01m", "m", "1 m"])
def test_bad_intervals_are_refused(interval: str) -> None:
    with pytest.raises(RangeError) as raised:
        interval_seconds(interval)
    assert raised.value.parameter == "interval"


def test_ranges_and_buckets() -> None:
    start = datetime(2023, 11, 14, tzinfo=UTC)
    assert check_buckets(start, start + timedelta(seconds=10), 3, 4) == 4
    with pytest.raises(RangeError, match=r"5 buckets .* at most 4 .*TICKWIRE_MAX_BUCKETS"):
        check_buckets(start, start + timedelta(seconds=13), 3, 4)
    with pytest.raises(RangeError, match="not after"):
        check_buckets(start, start, 3, 4)
    check_range_days(start, start + timedelta(days=31), 31, "TICKWIRE_MAX_RANGE_DAYS")
    with pytest.raises(RangeError, match=r"31 days .*TICKWIRE_MAX_RANGE_DAYS") as raised:
        check_range_days(
            start, start + timedelta(days=31, microseconds=1), 31, "TICKWIRE_MAX_RANGE_DAYS"
        )
    assert raised.value.parameter == "end"


def test_bar_seconds_checks_the_interval_then_the_buckets() -> None:
    start = datetime(2023, 11, 14, tzinfo=UTC)
    assert bar_seconds("15m", start, start + timedelta(hours=1), 4) == 900
    with pytest.raises(RangeError, match="5 buckets") as raised:
        bar_seconds("15m", start, start + timedelta(hours=1, seconds=1), 4)
    assert raised.value.parameter == "end"
    with pytest.raises(RangeError) as raised:
        bar_seconds("2d", start, start + timedelta(days=4), 4)
    assert raised.value.parameter == "interval"
