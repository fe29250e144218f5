"""A venue field no mapping reads reaches the status topic: normalize, run as the service runs,
counts it in its heartbeat under the provider and the field's path."""

import copy
import json

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, STATUS, TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_normalize.app import bootstrap
from tickwire_normalize.settings import NormalizeSettings
from tickwire_testing.fixtures import venue_fixture
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration


def test_a_new_deribit_field_is_counted_in_the_heartbeat(stack, topic_prefix) -> None:
    serde = AvroSerde()
    documented = venue_fixture("deribit")["messages"][0]
    changed = copy.deepcopy(documented)
    changed["params"]["data"]["new_field"] = 1
    received = documented["params"]["data"]["timestamp"] * 1000 + 5
    env = Envelope("deribit", "primary")
    raw = env.wrap("ticker", "BTC-PERPETUAL", json.dumps(changed).encode(), received)
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + RAW_TICKS,
        [(tick_key("deribit", "BTC-PERPETUAL"), serde.encode("raw_tick", raw))],
    )
    settings = NormalizeSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}norm",
        max_past_s=20 * 365 * 86_400.0,  # the documented example is from 2021
    )
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        read_topic(stack.kafka_bootstrap_servers, topic_prefix + TICKS, expect=1)
    beats = decode_all(
        serde,
        "heartbeat",
        read_topic(stack.kafka_bootstrap_servers, topic_prefix + STATUS, expect=2),
    )
    assert beats[-1]["service"] == "normalize"
    assert beats[-1]["unmapped_fields"] == {"deribit": {"params.data.new_field": 1}}
