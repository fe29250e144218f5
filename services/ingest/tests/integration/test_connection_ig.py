"""The connection manager with IG's Lightstreamer session against a loopback venue speaking the TLCP
subset: handshake, subscription, delta updates published whole, reconnects, errors, PROBE."""

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tickwire_ingest.adapters.connection import PlanConnection
from tickwire_ingest.domain.events import DISCONNECT, STALE
from tickwire_ingest.domain.protocol import ConnectionPlan
from tickwire_ingest.domain.venues.ig import IgVenue
from tickwire_testing.ingest.harness import FAST, VenueAt, play
from tickwire_testing.ingest.loopback import Await, Close, Drop, LoopbackVenue, Send, Silence, Step
from tickwire_testing.ingest.recording import RecordingSink
from tickwire_testing.ingest.running import eventually, running

TLCP = "TLCP-2.2.0.lightstreamer.com"
EPICS = ("CS.D.EURUSD.CFD.IP", "IX.D.FTSE.DAILY.IP")
FIELDS = ("BID", "OFR", "UTM", "MARKET_STATE")
USER, PASSWORD = "ABC123", "CST-abc|XST-def"

# --- the server side of the TLCP subset ---

_session_ids = itertools.count(1)


def request_params(request: str) -> dict[str, str]:
    """The decoded parameters of a request: its name on the first line, then key=value&..."""
    _, _, line = request.partition("\r\n")
    return dict(parse_qsl(line, keep_blank_values=True, strict_parsing=True))


def session_created(request: str) -> list[str]:
    """CONOK (session id, request limit, keep-alive, control link) and the head notifications,
    as one message of several lines."""
    session = f"S{next(_session_ids):04x}T0001"
    lines = [f"CONOK,{session},50000,5000,*", "SERVNAME,Lightstreamer HTTP Server",
             "CLIENTIP,127.0.0.1", "CONS,unlimited"]  # fmt: skip
    return ["\r\n".join(lines) + "\r\n"]


def subscribed(request: str) -> list[str]:
    """REQOK for the control request, then SUBOK with the items and fields it asked for."""
    params = request_params(request)
    items, fields = len(params["LS_group"].split(" ")), len(params["LS_schema"].split(" "))
    sub = params["LS_subId"]
    confirmed = f"SUBOK,{sub},{items},{fields}\r\nCONF,{sub},unlimited,filtered\r\n"
    return [f"REQOK,{params['LS_reqId']}", confirmed]


def handshake(on_create: Callable[[str], list[str]] = session_created) -> list[Step]:
    return [Await("wsok", lambda _: ["WSOK"]), Await("create_session", on_create)]


SUBSCRIBE = Await("control", subscribed)


def session(then: Sequence[Step] = ()) -> list[Step]:
    """A connection that creates a session and subscribes, then plays `then`."""
    return [*handshake(), SUBSCRIBE, *then]


def update(item: int, values: str) -> str:
    return f"U,1,{item},{values}"


# First updates carry every field; later ones only what changed.
SNAPSHOT = "\r\n".join(
    [update(1, "1.10500|1.10510|10:00:00|TRADEABLE"), update(2, "7500.5|7501.5|10:00:00|TRADEABLE")]
)
SNAPSHOT_VALUES = [
    (EPICS[0], ["1.10500", "1.10510", "10:00:00", "TRADEABLE"]),
    (EPICS[1], ["7500.5", "7501.5", "10:00:00", "TRADEABLE"]),
]
# Each on a frame of its own: unchanged fields empty, ^N for N unchanged ones, # null, $ empty.
DELTAS = [
    update(1, "1.10502||10:00:01|"),
    update(2, "^2|10:00:02|EDIT"),
    update(1, "#|#|10:00:03|$"),
    update(1, "1.10504|1.10514|^2"),
]
DELTA_VALUES: list[tuple[str, list[str | None]]] = [
    (EPICS[0], ["1.10502", "1.10510", "10:00:01", "TRADEABLE"]),
    (EPICS[1], ["7500.5", "7501.5", "10:00:02", "EDIT"]),
    (EPICS[0], [None, None, "10:00:03", ""]),
    (EPICS[0], ["1.10504", "1.10514", "10:00:03", ""]),
]


def quote(epic: str, values: Sequence[str | None]) -> dict[str, Any]:
    """The full snapshot published for an item."""
    return {"item": f"MARKET:{epic}", "values": dict(zip(FIELDS, values, strict=True))}


def quotes(sink: RecordingSink) -> Iterator[dict[str, Any]]:
    return (json.loads(message.payload) for message in sink.messages)


# --- running it ---


def ig(stale_after_s: float = 20.0) -> VenueAt:
    """IG's venue at the loopback venue, whose Lightstreamer endpoint is /lightstreamer."""
    return lambda url: IgVenue(
        f"{url}/lightstreamer", EPICS, FIELDS, USER, PASSWORD, stale_after_s=stale_after_s
    )


def run(
    scripts: Sequence[Sequence[Step]], venue: VenueAt, until: int
) -> tuple[RecordingSink, PlanConnection, LoopbackVenue]:
    """Play the scripts on a loopback venue that speaks TLCP only, as Lightstreamer does."""
    return play(scripts, venue, until=until, subprotocols=[TLCP])


# --- the tests ---


def test_the_session_is_created_and_subscribed_as_tlcp_asks() -> None:
    _, conn, server = run([session([Send([SNAPSHOT])])], ig(), until=2)
    assert server.offered == [(TLCP,)] and server.negotiated == [TLCP]
    assert server.paths == ["/lightstreamer"]
    wsok, create, control = server.received[0]
    assert wsok == "wsok"
    assert create.startswith("create_session\r\n")
    assert request_params(create) == {
        "LS_user": USER,
        "LS_password": PASSWORD,
        "LS_adapter_set": "DEFAULT",
        "LS_cid": "mgQkwtwdysogQz2BJ4Ji kOj2Bg",  # TLCP's identifier of custom clients
        "LS_keepalive_millis": "5000",
    }
    assert control.startswith("control\r\n")
    assert request_params(control) == {
        "LS_reqId": "1",
        "LS_op": "add",
        "LS_subId": "1",
        "LS_mode": "MERGE",
        "LS_group": "MARKET:CS.D.EURUSD.CFD.IP MARKET:IX.D.FTSE.DAILY.IP",
        "LS_schema": "BID OFR UTM MARKET_STATE",
        "LS_snapshot": "true",
    }
    assert conn.stats["errors.venue"] == 0 and conn.stats["malformed"] == 0


def test_a_client_that_offers_no_subprotocol_is_refused_by_the_venue() -> None:
    # The loopback venue behaves as Lightstreamer does; the IG plan must not be left without one.
    async def go() -> None:
        async with LoopbackVenue([session()], subprotocols=[TLCP]) as server:
            venue = IgVenue(server.url, EPICS, FIELDS, USER, PASSWORD)
            bare = PlanConnection(venue, ConnectionPlan(venue.url, EPICS), RecordingSink(), FAST)
            async with running(bare):
                await eventually(lambda: bare.stats["errors.connect"] >= 1)
            assert server.connections == 0 and server.offered[0] == ()

    asyncio.run(go())


def test_delta_encoded_updates_are_published_as_full_snapshots_in_order() -> None:
    sink, conn, server = run([session([Send([SNAPSHOT, *DELTAS])])], ig(), until=6)
    assert list(quotes(sink)) == [quote(*item) for item in SNAPSHOT_VALUES + DELTA_VALUES]
    assert [(m.feed, m.instrument) for m in sink.messages] == [
        ("quotes", epic) for epic, _ in SNAPSHOT_VALUES + DELTA_VALUES
    ]
    # The two snapshot lines came in one frame, the deltas in one frame each.
    assert sink.messages[0].received_ts == sink.messages[1].received_ts
    assert len({m.received_ts for m in sink.messages[1:]}) == 5
    assert sink.gaps == [] and server.connections == 1
    assert conn.stats["malformed"] == 0 and conn.stats["errors.venue"] == 0


def test_a_drop_mid_stream_creates_a_new_session_and_reports_exactly_the_missed_stretch() -> None:
    # The new session starts again with full snapshots: nothing carries over from the old one.
    after = [update(2, "7510.0|7511.0|10:05:00|TRADEABLE"), update(1, "1.106|1.107|10:05:00|EDIT"),
             update(2, "|7511.5|10:05:01|")]  # fmt: skip
    scripts = [session([Send([SNAPSHOT, DELTAS[0]]), Drop()]), session([Send(after)])]
    sink, conn, server = run(scripts, ig(), until=6)
    assert list(quotes(sink))[3:] == [
        quote(EPICS[1], ["7510.0", "7511.0", "10:05:00", "TRADEABLE"]),
        quote(EPICS[0], ["1.106", "1.107", "10:05:00", "EDIT"]),
        quote(EPICS[1], ["7510.0", "7511.5", "10:05:01", "TRADEABLE"]),
    ]
    assert len(sink.messages) == 6  # none lost, none twice
    assert server.connections == 2 and server.negotiated == [TLCP, TLCP]
    assert [f.partition("\r\n")[0] for f in server.received[1]] == [
        "wsok",
        "create_session",
        "control",
    ]
    assert server.received[1][2] == server.received[0][2]
    last_before, first_after = sink.messages[2], sink.messages[3]
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(e, DISCONNECT) for e in EPICS]
    for gap in sink.gaps:
        assert (gap.start_ts, gap.end_ts) == (last_before.received_ts, first_after.received_ts)
    assert sink.events.index(sink.gaps[-1]) < sink.events.index(first_after)
    assert conn.stats["reconnects.disconnect"] == 1


def test_malformed_lines_are_counted_and_skipped() -> None:
    bad = [
        "",  # an empty message
        update(3, "1|2|3|4"),  # no third item was subscribed
        update(1, "1|2|3"),  # a field short
        update(1, "^Pabc|||"),  # a diff format outside the subset
        "BOGUS,1",
        DELTAS[1] + "\r\nNOPE",  # a good line with a bad one: the good one still counts
    ]
    sink, conn, server = run([session([Send([SNAPSHOT, *bad, DELTAS[0]])])], ig(), until=4)
    assert list(quotes(sink)) == [
        quote(*SNAPSHOT_VALUES[0]),
        quote(*SNAPSHOT_VALUES[1]),
        quote(*DELTA_VALUES[1]),
        quote(*DELTA_VALUES[0]),
    ]
    assert conn.stats["malformed"] == len(bad)
    assert sink.gaps == [] and server.connections == 1


@pytest.mark.parametrize("then", [[], [Close()]], ids=["left-open", "closed"])
def test_a_session_refused_with_conerr_is_reported_and_created_again(then: list[Step]) -> None:
    def refused(request: str) -> list[str]:
        return ["CONERR,1,User/password check failed"]

    scripts = [[*handshake(refused), *then], session([Send([SNAPSHOT])])]
    sink, conn, server = run(scripts, ig(), until=2)
    assert conn.stats["errors.venue"] == 1
    assert server.connections == 2
    assert [f.partition("\r\n")[0] for f in server.received[0]] == ["wsok", "create_session"]
    assert list(quotes(sink)) == [quote(*values) for values in SNAPSHOT_VALUES]
    assert sink.gaps == []  # nothing had flowed yet


def test_a_subscription_refused_with_reqerr_is_reported_and_tried_on_a_new_session() -> None:
    def refused(request: str) -> list[str]:
        return [f"REQERR,{request_params(request)['LS_reqId']},21,Bad Group name"]

    scripts = [[*handshake(), Await("control", refused)], session([Send([SNAPSHOT])])]
    sink, conn, server = run(scripts, ig(), until=2)
    assert conn.stats["errors.venue"] == 1
    assert server.connections == 2 and len(sink.messages) == 2


def test_silence_beyond_the_stale_timeout_recycles_the_connection() -> None:
    scripts = [session([Send([SNAPSHOT]), Silence(10)]), session([Send([SNAPSHOT])])]
    sink, conn, server = run(scripts, ig(stale_after_s=0.3), until=4)
    assert server.connections == 2 and conn.stats["reconnects.stale"] == 1
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(e, STALE) for e in EPICS]
    assert {(g.start_ts, g.end_ts) for g in sink.gaps} == {
        (sink.messages[1].received_ts, sink.messages[2].received_ts)
    }


def test_probes_keep_a_quiet_connection_alive() -> None:
    # The keep-alive asked for in create_session: PROBE alone, for over three stale timeouts.
    then = [Send([SNAPSHOT]), Send(["PROBE\r\n"] * 8, interval_s=0.1), Send([DELTAS[0]])]
    sink, conn, server = run([session(then)], ig(stale_after_s=0.25), until=3)
    assert server.connections == 1
    assert sink.gaps == [] and conn.stats["reconnects.stale"] == 0
    assert conn.stats["malformed"] == 0
