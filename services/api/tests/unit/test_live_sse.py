"""SSE frames of the live stream: each a complete frame, read back the way the HTML standard's
event-stream parser reads it (a small reading of the spec here, not the code that wrote it)."""

import json

import pytest

from tickwire_api.domain.live import LiveEvent
from tickwire_api.domain.live_sse import (
    HEARTBEAT,
    RETRY_MS,
    comment_frame,
    event_frame,
    lagged_frame,
    live_frame,
    opening_frame,
)


def parse(stream: str) -> list[dict[str, str]]:
    """Dispatched events (event, data, id, retry) and comments, in order, per the standard:
    lines end at CRLF, LF or CR; a blank line dispatches; `field: value` drops one space."""
    out: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in stream.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data or fields:
                out.append({**fields, **({"data": "\n".join(data)} if data else {})})
            fields, data = {}, []
        elif line.startswith(":"):
            out.append({"comment": line[1:].removeprefix(" ")})
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
    return out


def test_an_event_is_one_frame_with_name_id_and_data() -> None:
    frame = event_frame("anomaly", '{"a":1}', "tickwire.anomalies:3:1042")
    assert frame.endswith("\n\n") and frame.count("\n\n") == 1
    assert parse(frame) == [
        {"event": "anomaly", "id": "tickwire.anomalies:3:1042", "data": '{"a":1}'}
    ]


def test_data_with_line_breaks_goes_out_as_several_data_lines_and_comes_back_whole() -> None:
    data = "first\nsecond\r\nthird\rfourth"
    frame = event_frame("signal", data)
    assert frame.count("data: ") == 4
    assert parse(frame) == [{"event": "signal", "data": "first\nsecond\nthird\nfourth"}]


@pytest.mark.parametrize(("name", "event_id"), [("anomaly\nevent: x", None), ("a", "1\r2")])
def test_a_name_or_id_with_a_line_break_is_refused(name: str, event_id: str | None) -> None:
    with pytest.raises(ValueError, match="one line"):
        event_frame(name, "{}", event_id)


def test_a_live_event_goes_out_under_its_kind_with_its_position_as_id() -> None:
    event = LiveEvent("signal", "simulator", "SIM-A", "p.tickwire.signals:1:7", '{"value":1.5}')
    assert parse(live_frame(event)) == [
        {"event": "signal", "id": "p.tickwire.signals:1:7", "data": '{"value":1.5}'}
    ]


def test_lagged_says_how_many_were_missed() -> None:
    (parsed,) = parse(lagged_frame(17))
    assert parsed["event"] == "lagged" and "id" not in parsed
    assert json.loads(parsed["data"]) == {"missed": 17}


def test_comments_and_the_opening_frame_dispatch_no_event() -> None:
    stream = opening_frame() + HEARTBEAT + comment_frame("two\nlines")
    parsed = parse(stream)
    assert parsed == [
        {"comment": "subscribed"},
        {"retry": str(RETRY_MS)},
        {"comment": "keep-alive"},
        {"comment": "two"},
        {"comment": "lines"},
    ]
    # A browser dispatches only frames with data: these carry none.
    assert not any("data" in p for p in parsed)
    assert all(frame.endswith("\n\n") for frame in (opening_frame(), HEARTBEAT))
