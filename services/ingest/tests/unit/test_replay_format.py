import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_ingest.domain.events import GAP_CONTENT_TYPE, Gap, VenueMessage
from tickwire_ingest.domain.replay import (
    BadLine,
    RecordedGap,
    format_line,
    parse_line,
    parse_timestamp,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

names = st.text(min_size=1, max_size=20)
timestamps = st.integers(min_value=0, max_value=2**62)


@given(
    feed=names,
    instrument=names,
    provider=names,
    received_ts=timestamps,
    payload=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(["application/json", "application/octet-stream", "text/x-a"]),
)
def test_any_message_survives_a_line_unchanged(
    feed: str, instrument: str, provider: str, received_ts: int, payload: bytes, content_type: str
) -> None:
    message = VenueMessage(feed, instrument, payload, received_ts, provider, content_type)
    line = format_line(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert parse_line(line) == message


@given(
    provider=names,
    received_ts=timestamps,
    start=timestamps,
    length=st.integers(min_value=0, max_value=10**12),
    lost=st.none() | st.integers(min_value=0, max_value=10**9),
    detail=st.text(max_size=50),
)
def test_any_gap_survives_a_line_as_a_gap(
    provider: str, received_ts: int, start: int, length: int, lost: int | None, detail: str
) -> None:
    recorded = RecordedGap(
        provider, received_ts, Gap("I", "sequence", start, start + length, lost=lost, detail=detail)
    )
    assert parse_line(format_line(recorded)) == recorded


def test_a_gap_content_type_line_replays_as_a_gap_event() -> None:
    line = (
        '{"provider":"deribit","feed":"gap","instrument":"BTC-PERPETUAL","received_ts":9,'
        f'"content_type":"{GAP_CONTENT_TYPE}","payload":{{"reason":"stale","start_ts":3,'
        '"end_ts":9}}'
    )
    assert parse_line(line.encode()) == RecordedGap(
        "deribit", 9, Gap("BTC-PERPETUAL", "stale", 3, 9)
    )


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_rfc3339_strings_give_the_exact_microseconds(moment: datetime, offset_minutes: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    expected = (moment - EPOCH) // timedelta(microseconds=1)
    assert parse_timestamp(local.isoformat(timespec="microseconds")) == expected
    assert parse_timestamp(moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-14T22:13:20Z", 1_700_000_000_000_000),
        ("2023-11-14t22:13:20.5z", 1_700_000_000_500_000),
        ("2023-11-14 23:13:20.000001+01:00", 1_700_000_000_000_001),
        ("2023-11-14T22:13:20.123456789Z", 1_700_000_000_123_456),  # nanoseconds cut off
        ("1969-12-31T23:59:59.999999Z", -1),
    ],
)
def test_rfc3339_forms(text: str, expected: int) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023-11-14T22:13:20",  # no offset: which time zone?
        "2023-02-30T00:00:00Z",
        "2023-11-14T24:00:00Z",
        "2023-11-14T22:13:20+24:00",
        "2023-11-14",
        "1700000000123456",
        " 2023-11-14T22:13:20Z",
    ],
)
def test_not_rfc3339(text: str) -> None:
    with pytest.raises(BadLine):
        parse_timestamp(text)


def test_a_payload_nested_beyond_reason_is_a_bad_line_not_a_crash() -> None:
    deep = b'{"provider":"p","feed":"f","instrument":"I","received_ts":1,"payload":'
    with pytest.raises(BadLine, match="nested"):
        parse_line(deep + b"[" * 100_000 + b"]" * 100_000 + b"}")


LINE = '{"provider":"p","feed":"f","instrument":"I","received_ts":1,"payload":"{}"}'
GAP = '{"reason":"stale","start_ts":1,"end_ts":2}'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (LINE.replace('"{}"', '"\\ud800"'), "payload holds an unpaired surrogate"),
        (LINE.replace('"I"', '"I\\udfff"'), "instrument holds an unpaired surrogate"),
        (LINE.replace('"{}"', '["\\ud800"]'), "payload holds an unpaired surrogate"),
        (LINE.replace(":1,", f":{2**63},"), "beyond a 64-bit integer"),
        (LINE.replace('"{}"', '"{}","content_type":7'), "content_type is not"),
        (LINE.replace('"f"', '""'), "feed is missing"),
    ],
)
def test_lines_that_would_break_a_record_are_bad_lines(line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parse_line(line.encode())


@pytest.mark.parametrize(
    "body",
    [
        GAP.replace('"end_ts":2', '"end_ts":0'),  # ends before it starts
        GAP.replace('"end_ts":2', f'"end_ts":{2**64}'),
        GAP.replace('"start_ts":1', '"start_ts":"1"'),
        GAP.replace('"stale"', "null"),
        GAP.replace("}", ',"lost":"many"}'),
        GAP.replace("}", ',"instrument":5}'),
        GAP.replace("}", ',"detail":["x"]}'),
        "[" * 50_000,
    ],
)
def test_gap_events_without_a_proper_body_are_bad_lines(body: str) -> None:
    line = json.dumps(
        {
            "provider": "p",
            "feed": "gap",
            "instrument": "I",
            "received_ts": 2,
            "content_type": GAP_CONTENT_TYPE,
            "payload": body,
        }
    )
    with pytest.raises(BadLine, match="gap event"):
        parse_line(line.encode())
    assert parse_line(line.replace(json.dumps(body), json.dumps(GAP)).encode()) == RecordedGap(
        "p", 2, Gap("I", "stale", 1, 2)
    )
