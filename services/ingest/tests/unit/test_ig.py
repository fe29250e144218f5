import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_core.errors import ConfigError
from tickwire_ingest.connectors import make_venue
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound
from tickwire_ingest.domain.venues import ig, tlcp
from tickwire_ingest.settings import IngestSettings

T0 = 1_700_000_000_000_000
EPICS = ("CS.D.EURUSD.CFD.IP", "IX.D.FTSE.DAILY.IP")
FIELDS = ("BID", "OFR", "UTM")

# The stock-quote example of the TLCP specification: ten fields, one item, successive updates.
SCHEMA = 10
EXAMPLE_UPDATES = [
    (
        "20:00:33|3.04|0.0|2.41|3.67|3.03|3.04|#|#|$",
        ["20:00:33", "3.04", "0.0", "2.41", "3.67", "3.03", "3.04", None, None, ""],
    ),
    (
        "20:00:54|3.07|0.98|||3.06|3.07|||Suspended",
        ["20:00:54", "3.07", "0.98", "2.41", "3.67", "3.06", "3.07", None, None, "Suspended"],
    ),
    (
        "20:04:16|3.02|-0.65|||3.01|3.02|||$",
        ["20:04:16", "3.02", "-0.65", "2.41", "3.67", "3.01", "3.02", None, None, ""],
    ),
    (
        "20:04:40|^4|3.02|3.03|||",
        ["20:04:40", "3.02", "-0.65", "2.41", "3.67", "3.02", "3.03", None, None, ""],
    ),
    (
        "20:06:10|3.05|0.32|^7",
        ["20:06:10", "3.05", "0.32", "2.41", "3.67", "3.02", "3.03", None, None, ""],
    ),
]


def new_session() -> ig.IgSession:
    return ig.IgSession(EPICS, FIELDS, "ABC123", "CST-abc|XST-def")


def settings(**overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": "localhost:9092",
        "connector": "ig",
        "instruments": ",".join(EPICS),
        "venue_url": "",
        "stale_after_s": None,
        "ig_fields": "BID, OFR,UTM",
        "ig_adapter_set": "DEFAULT",
        "ig_user": "ABC123",
        "ig_password": "CST-abc|XST-def",
    }
    return IngestSettings(**(values | overrides))


def quote_of(message: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(message.payload)
    return body


def test_delta_decoding_follows_the_specification_example() -> None:
    previous = None
    for encoded, expected in EXAMPLE_UPDATES:
        values = tlcp.decode_values(encoded, previous, SCHEMA)
        assert values == expected
        previous = values


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("%23|%24|%5E3", ["#", "$", "^3"]),  # markers as content are percent-encoded
        ("#x|$y|a^b", ["#x", "$y", "a^b"]),  # only a marker on its own is one
        ("a%7Cb|caf%C3%A9|100%25", ["a|b", "café", "100%"]),
        ("a+b|x%2Cy|%0D%0A", ["a+b", "x,y", "\r\n"]),  # '+' is no space; CR-LF decoded
    ],
)
def test_values_are_percent_decoded(encoded: str, expected: list[str]) -> None:
    assert tlcp.decode_values(encoded, None, 3) == expected


def test_unchanged_null_and_empty_against_a_snapshot() -> None:
    previous = ["1.1", None, ""]
    assert tlcp.decode_values("||", previous, 3) == ["1.1", None, ""]
    assert tlcp.decode_values("^3", previous, 3) == ["1.1", None, ""]
    assert tlcp.decode_values("#|$|#", previous, 3) == [None, "", None]
    assert tlcp.decode_values("^2|2.2", previous, 3) == ["1.1", None, "2.2"]


@pytest.mark.parametrize(
    ("encoded", "previous"),
    [
        ("a|b", ["x", "y", "z"]),  # too few
        ("a|b|c|d", ["x", "y", "z"]),  # too many
        ("^2|a|b", ["x", "y", "z"]),  # skip runs past the schema
        ("^0|a|b|c", ["x", "y", "z"]),
        ("^|a|b", ["x", "y", "z"]),
        ("^x|a|b", ["x", "y", "z"]),
        ("^P[]|a|b", ["x", "y", "z"]),  # JSON Patch diff: not in the subset
        ("^Tbdzap|a|b", ["x", "y", "z"]),  # TLCP-diff: not in the subset
        ("|a|b", None),  # unchanged before any snapshot
        ("^3", None),
        ("%FF|a|b", None),  # not UTF-8
    ],
)
def test_undecodable_value_lists_are_refused(
    encoded: str, previous: list[str | None] | None
) -> None:
    with pytest.raises(tlcp.TlcpError):
        tlcp.decode_values(encoded, previous, 3)


def test_open_checks_the_websocket_and_creates_a_session() -> None:
    assert new_session().on_open(T0) == [
        "wsok",
        "create_session\r\nLS_user=ABC123&LS_password=CST-abc%7CXST-def&LS_adapter_set=DEFAULT"
        "&LS_cid=mgQkwtwdysogQz2BJ4Ji%20kOj2Bg&LS_keepalive_millis=5000",
    ]


def test_confirmed_session_subscribes_all_items_in_one_merge_subscription() -> None:
    frame = (
        "CONOK,S1a2b3c4T1234567,50000,5000,*\r\nSERVNAME,Lightstreamer%20HTTP%20Server\r\n"
        "CLIENTIP,127.0.0.1\r\nCONS,unlimited\r\n"
    )
    inbound = new_session().on_frame(frame, T0)
    assert inbound.replies == [
        "control\r\nLS_reqId=1&LS_op=add&LS_subId=1&LS_mode=MERGE"
        "&LS_group=MARKET:CS.D.EURUSD.CFD.IP%20MARKET:IX.D.FTSE.DAILY.IP"
        "&LS_schema=BID%20OFR%20UTM&LS_snapshot=true"
    ]
    assert inbound.malformed is None and inbound.errors == []


def test_subok_confirms_the_quotes_feed() -> None:
    inbound = new_session().on_frame("SUBOK,1,2,3\r\nCONF,1,unlimited,filtered\r\n", T0)
    assert inbound == Inbound(subscribed=["quotes"])


def test_subok_with_other_dimensions_is_reported() -> None:
    inbound = new_session().on_frame("SUBOK,1,2,4", T0)
    assert inbound.subscribed == ["quotes"]
    assert inbound.errors == ["subscription 1 has 2 items and 4 fields, expected 2 and 3"]


def test_updates_become_full_snapshots_per_item() -> None:
    session = new_session()
    snapshot = session.on_frame("U,1,1,1.0851|1.0852|10:00:01\r\nU,1,2,#|$|10:00:01", T0)
    assert [(m.feed, m.instrument, m.received_ts) for m in snapshot.messages] == [
        ("quotes", "CS.D.EURUSD.CFD.IP", T0),
        ("quotes", "IX.D.FTSE.DAILY.IP", T0),
    ]
    assert [quote_of(m) for m in snapshot.messages] == [
        {
            "item": "MARKET:CS.D.EURUSD.CFD.IP",
            "values": {"BID": "1.0851", "OFR": "1.0852", "UTM": "10:00:01"},
        },
        {
            "item": "MARKET:IX.D.FTSE.DAILY.IP",
            "values": {"BID": None, "OFR": "", "UTM": "10:00:01"},
        },
    ]
    (update,) = session.on_frame("U,1,1,1.0850||10:00:02", T0 + 1).messages
    assert quote_of(update)["values"] == {"BID": "1.0850", "OFR": "1.0852", "UTM": "10:00:02"}
    assert update.content_type == "application/json"
    (other,) = session.on_frame("U,1,2,^2|10:00:03", T0 + 2).messages
    assert quote_of(other)["values"] == {"BID": None, "OFR": "", "UTM": "10:00:03"}


def test_a_new_session_needs_a_new_snapshot() -> None:
    venue = make_venue(settings())
    (plan,) = venue.plan()
    venue.session(plan).on_frame("U,1,1,1|2|3", T0)
    inbound = venue.session(plan).on_frame("U,1,1,||4", T0 + 1)
    assert inbound.messages == [] and inbound.malformed is not None


def test_probe_is_a_heartbeat() -> None:
    assert new_session().on_frame("PROBE\r\n", T0) == Inbound(heartbeat=True)


def test_loop_asks_for_a_new_connection() -> None:
    assert new_session().on_frame("LOOP,0", T0) == Inbound(reconnect=True)


def test_end_closes_the_connection_and_reports_why() -> None:
    inbound = new_session().on_frame("END,31,Destroy%20invoked%20by%20client", T0)
    assert inbound.reconnect and inbound.errors == ["session ended 31: Destroy invoked by client"]


def test_end_at_maximum_session_duration_is_a_plain_reconnect() -> None:
    assert new_session().on_frame("END,48,Maximum duration", T0) == Inbound(reconnect=True)


def test_conerr_is_an_error_and_ends_the_connection() -> None:
    inbound = new_session().on_frame("CONERR,1,User/password check failed", T0)
    assert inbound.errors == ["session refused 1: User/password check failed"]
    assert inbound.reconnect and inbound.retry_after_s is None


@pytest.mark.parametrize("code", sorted(ig.RETRY_LATER_CODES))
def test_conerr_for_a_full_or_busy_server_asks_to_wait(code: int) -> None:
    inbound = new_session().on_frame(f"CONERR,{code},Session count limit reached", T0)
    assert inbound.retry_after_s == ig.RETRY_LATER_S and inbound.reconnect


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("REQERR,1,21,Bad Item Group name", "request refused 21: Bad Item Group name"),
        ("ERROR,67,Malformed%2C request", "request refused 67: Malformed, request"),
    ],
)
def test_refused_subscription_is_an_error_and_ends_the_connection(line: str, error: str) -> None:
    inbound = new_session().on_frame(line, T0)
    assert inbound.errors == [error] and inbound.reconnect


@pytest.mark.parametrize("frame", ["WSOK", "REQOK,1", "SYNC,120", "NOOP,x", "EOS,1,1", "PROG,5"])
def test_informative_notifications_change_nothing(frame: str) -> None:
    assert new_session().on_frame(frame, T0) == Inbound()


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "\r\n",
        "HELLO",
        "BOGUS,1",
        "CONOK",
        "PROBE,1",
        "LOOP,soon",
        "END,x,y",
        "SUBOK,1,2",
        "U,1,1",
        "U,x,1,a|b|c",
        "U,1,٣,a|b|c",
        "U,2,1,a|b|c",  # not our subscription
        "U,1,0,a|b|c",
        "U,1,3,a|b|c",  # no third item
        "U,1,1,a|b",
        "OV,1,1,5",  # cannot happen with a filtered MERGE subscription
    ],
)
def test_malformed_lines_are_flagged_and_publish_nothing(frame: str) -> None:
    inbound = new_session().on_frame(frame, T0)
    assert inbound.malformed is not None
    assert inbound.messages == [] and inbound.replies == []


def test_a_bad_line_does_not_hide_the_good_ones_of_its_frame() -> None:
    inbound = new_session().on_frame("U,1,1,1|2|3\r\nU,1,9,1|2|3\r\nPROBE", T0)
    assert len(inbound.messages) == 1 and inbound.heartbeat
    assert inbound.malformed is not None and "item 9" in inbound.malformed


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("https://apd.marketdatasystems.com", "wss://apd.marketdatasystems.com/lightstreamer"),
        ("http://127.0.0.1:8080/", "ws://127.0.0.1:8080/lightstreamer"),
        ("wss://demo-apd.marketdatasystems.com/lightstreamer", None),
    ],
)
def test_stream_url_from_an_ig_endpoint(endpoint: str, url: str | None) -> None:
    assert ig.stream_url(endpoint) == (url or endpoint)


def test_make_reads_settings_and_keeps_the_password_out_of_reprs() -> None:
    venue = make_venue(
        settings(venue_url="https://demo-apd.marketdatasystems.com", stale_after_s=4)
    )
    assert (venue.provider, venue.stale_after_s) == ("ig", 4)
    url = "wss://demo-apd.marketdatasystems.com/lightstreamer"
    assert venue.plan() == [ConnectionPlan(url, EPICS, subprotocols=(ig.SUBPROTOCOL,))]
    session = venue.session(venue.plan()[0])
    assert "XST-def" not in repr(venue) and "XST-def" not in repr(session)
    assert "LS_password=CST-abc%7CXST-def" in session.on_open(T0)[1]


def test_make_defaults() -> None:
    venue = make_venue(settings())
    assert venue.plan()[0].url == ig.DEFAULT_URL
    assert venue.stale_after_s == ig.DEFAULT_STALE_AFTER_S


@pytest.mark.parametrize(
    "overrides",
    [{"instruments": ""}, {"ig_fields": " "}, {"ig_user": ""}, {"ig_password": ""}],
)
def test_make_refuses_incomplete_settings(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make_venue(settings(**overrides))


def encode_delta(previous: list[str | None] | None, values: list[str | None]) -> str:
    """A TLCP server's side of the value list: unchanged runs as '' or ^N, markers, and
    percent-encoded content."""
    tokens: list[str] = []
    run = 0
    for index, value in enumerate(values):
        if previous is not None and previous[index] == value:
            run += 1
            continue
        if run:
            tokens.extend([""] * run if run == 1 else [f"^{run}"])
            run = 0
        tokens.append("#" if value is None else "$" if value == "" else quote(value, safe=""))
    if run:
        tokens.extend([""] * run if run == 1 else [f"^{run}"])
    return "|".join(tokens)


field_values = st.lists(st.none() | st.text(), min_size=4, max_size=4)


@given(field_values, field_values)
def test_decoding_inverts_a_server_encoding(
    first: list[str | None], second: list[str | None]
) -> None:
    decoded_first = tlcp.decode_values(encode_delta(None, first), None, 4)
    assert decoded_first == first
    assert tlcp.decode_values(encode_delta(first, second), decoded_first, 4) == second


@given(st.text())
def test_any_text_yields_an_answer_never_an_exception(text: str) -> None:
    inbound = new_session().on_frame(text, T0)
    if inbound.malformed is not None:
        assert inbound.messages == [] or "\n" in text


@given(st.sampled_from(["U,1,1,", "U,1,2,", "SUBOK,", "CONERR,", "END,", "REQERR,"]), st.text())
def test_any_arguments_yield_an_answer_never_an_exception(tag: str, rest: str) -> None:
    session = new_session()
    session.on_frame("U,1,1,a|b|c", T0)
    inbound = session.on_frame(tag + rest, T0)
    if inbound.malformed is not None:
        assert inbound.messages == [] or "\n" in rest
