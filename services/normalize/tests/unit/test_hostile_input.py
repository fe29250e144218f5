"""Whatever a venue sends, normalize() ends in ticks that pass validation and encode in the tick
schema, or in a RejectedRecord with a reason; nothing else escapes, for every registered venue."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tickwire_core.errors import RejectedRecord
from tickwire_core.serde import AvroSerde
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.normalize import Normalized, normalize
from tickwire_normalize.domain.reads import UnmappedFields, recorded
from tickwire_normalize.domain.validate import Limits, validate
from tickwire_normalize.domain.venues import MAPPINGS
from tickwire_testing.fixtures import VENUE_FIXTURES

FIXTURES = VENUE_FIXTURES
NOW = 1_700_000_000_000_000
# Long enough for the venues' years-old examples, so unharmed messages still make ticks.
LIMITS = Limits(max_past_s=20 * 365 * 86_400.0)
PROVIDERS = sorted(MAPPINGS)
REASONS = {value for name, value in vars(reasons).items() if name.isupper()}
SERDE = AvroSerde()
SCHEMA_FIELDS = {field["name"] for field in SERDE.schema("tick")["fields"]}
HOSTILE = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _examples() -> list[tuple[str, str, Any]]:
    """(provider, feed, message): the venues' documented messages, an IG and a simulator one."""
    feeds = {
        "deribit": ["ticker"],
        "binance": ["bookTicker", "aggTrade"],
        "coinbase": ["ticker", "market_trades"],
        "kraken": ["ticker", "trade"],
    }
    found = []
    for venue, venue_feeds in feeds.items():
        messages = json.loads((FIXTURES / f"{venue}.json").read_text())["messages"]
        found += [
            (venue, feed, message) for feed, message in zip(venue_feeds, messages, strict=True)
        ]
    ig_values = {"BID": "1.08501", "OFR": "1.08512", "LTV": None, "UTM": "1699999999123"}
    ig_values |= {"DAY_OPEN_MID": "1.083", "DAY_HIGH": "1.0862", "DAY_LOW": "1.0821"}
    found.append(("ig", "quotes", {"item": "MARKET:CS.D.EURUSD.TODAY.IP", "values": ig_values}))
    simulated = {"type": "quote", "instrument": "SIM-BTC-USD", "ts": NOW - 1, "seq": 3}
    simulated |= {"bid": "65000.5", "bid_size": "1", "ask": "65001", "ask_size": "2"}
    found.append(("simulator", "quotes", simulated))
    assert {provider for provider, _, _ in found} == set(PROVIDERS), "a venue without examples"
    return found


EXAMPLES = _examples()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=16,
)
# Values venues never send where numbers, names, times or objects belong.
hostile_values = st.sampled_from(
    [
        None, True, False, 0, -1, 1.5, -1e-300, 1e308, 10**30, -(10**30), 2**63, 2**64, 10**400,
        float("nan"), float("inf"), float("-inf"), "", " ", "NaN", "-Infinity", "inf", "1e999",
        "-1", "0", "abc", "1_000", "0x1f", "\u0661\u0662", " 7 ", "2023-13-01T00:00:00Z",
        "2023-02-09T20:30:37.1Z", "9" * 400, "\ud800", "BTC\udfff", [], {}, [1, 2], {"a": None},
    ]
) | json_values  # fmt: skip
feeds = st.sampled_from(
    ["ticker", "bookTicker", "aggTrade", "market_trades", "trade", "quotes", "trades", "", "gap"]
) | st.text(max_size=12)


def record(provider: str, feed: str, payload: bytes) -> dict[str, Any]:
    return {
        "provider": provider,
        "feed": feed,
        "ingest_instance": "primary",
        "instrument": "",
        "received_ts": NOW,
        "ingest_seq": 1,
        "content_type": "application/json",
        "payload": payload,
    }


def assert_ends_well(raw: dict[str, Any]) -> None:
    """Ticks that pass validation and encode in the tick schema, or a reasoned reject; and the
    look at unread fields ends well too, mapping exactly as the mapping alone does."""
    assert_fields_checked_well(raw)
    try:
        out = normalize(raw, LIMITS)
    except RejectedRecord as exc:
        assert exc.reason in REASONS and exc.message
        event(f"rejected: {exc.reason}")
        return
    assert isinstance(out, Normalized)
    event("ticks" if out.ticks else "no ticks")
    for reject in out.rejects:
        assert reject.reason in REASONS and reject.message
    for tick in out.ticks:
        validate(tick, raw["received_ts"], LIMITS)
        assert set(tick) <= SCHEMA_FIELDS, set(tick) - SCHEMA_FIELDS
        decoded = SERDE.decode("tick", SERDE.encode("tick", tick))
        assert {name: decoded[name] for name in tick} == tick


def assert_fields_checked_well(raw: dict[str, Any]) -> None:
    mapping = MAPPINGS[raw["provider"]].map
    fields = UnmappedFields({raw["provider"]: mapping}, every=1)
    found = fields.observe(raw["provider"], raw["feed"], raw["payload"], raw["received_ts"])
    assert all(isinstance(path, str) for path in found)
    try:
        message = json.loads(raw["payload"])
        plain = mapping(raw["feed"], copy.deepcopy(message), raw["received_ts"])
    except (ValueError, UnicodeDecodeError, RecursionError, RejectedRecord):
        return
    read: set[str] = set()
    assert mapping(raw["feed"], recorded(message, "", read), raw["received_ts"]) == plain


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value a mutation can hit: dict keys and list indexes."""
    found: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in items:
        found.append((*prefix, key))
        found += paths(child, (*prefix, key))
    return found


def mutate(message: Any, path: tuple[Any, ...], replacement: Any, delete: bool) -> Any:
    mutated = copy.deepcopy(message)
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return mutated


@HOSTILE
@given(provider=st.sampled_from(PROVIDERS), feed=feeds, message=json_values)
def test_any_json_value_ends_well(provider: str, feed: str, message: Any) -> None:
    assert_ends_well(record(provider, feed, json.dumps(message).encode()))


@HOSTILE
@given(provider=st.sampled_from(PROVIDERS), feed=feeds, payload=st.binary(max_size=200))
def test_any_bytes_end_well(provider: str, feed: str, payload: bytes) -> None:
    assert_ends_well(record(provider, feed, payload))


@HOSTILE
@given(data=st.data())
def test_mutated_venue_messages_end_well(data: st.DataObject) -> None:
    provider, feed, message = data.draw(st.sampled_from(EXAMPLES))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        places = paths(message)
        if not places:
            break
        path = data.draw(st.sampled_from(places))
        message = mutate(message, path, data.draw(hostile_values), data.draw(st.booleans()))
    # Now and then the message reaches the wrong feed or the wrong venue's mapping.
    if data.draw(st.integers(min_value=0, max_value=3)) == 0:
        feed = data.draw(feeds)
    if data.draw(st.integers(min_value=0, max_value=3)) == 0:
        provider = data.draw(st.sampled_from(PROVIDERS))
    assert_ends_well(record(provider, feed, json.dumps(message).encode()))


def test_unharmed_examples_make_ticks() -> None:
    # The mutation test starts from these; were they rejected, it would test rejects alone.
    for provider, feed, message in EXAMPLES:
        out = normalize(record(provider, feed, json.dumps(message).encode()), LIMITS)
        assert out.ticks and not out.rejects, (provider, feed, out.rejects)
