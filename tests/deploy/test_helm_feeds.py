"""The chart's feeds: one release runs many, each a primary and a replica Deployment kept in
different zones (different nodes on a single-zone cluster), each connector with what it needs to
start; a wrong feed list is refused at install naming the value. More: test_k8s_*.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest
import yaml

from tests.deploy.k8s_env import STAND_INS, container_env, load
from tests.deploy.k8s_policies import allowed, kept_apart
from tests.deploy.k8s_render import (
    CHART,
    FEED,
    FEED_INSTANCE,
    FIVE_VENUES_VALUES,
    HOSTNAME,
    ZONE,
    Obj,
    Pod,
    helm_render,
    helm_template,
    pods,
    read_values,
    schema_problems,
)
from tickwire_core.localstack._process import REPO_ROOT
from tickwire_ingest.connectors import make_venue
from tickwire_ingest.settings import Connector, IngestSettings

FIVE_VENUES = ("-f", str(FIVE_VENUES_VALUES))


def _feeds(objects: tuple[Obj, ...]) -> dict[str, dict[str, Pod]]:
    """feed -> instance -> its pod template."""
    feeds: dict[str, dict[str, Pod]] = {}
    for pod in pods(objects):
        if pod.component == "ingest":
            feeds.setdefault(pod.labels[FEED], {})[pod.labels[FEED_INSTANCE]] = pod
    return feeds


def _settings(pod: Pod, objects: tuple[Obj, ...]) -> IngestSettings:
    settings: IngestSettings = load(
        IngestSettings, container_env(pod.containers()[0], objects, STAND_INS)
    )
    return settings


def _feed_list(*feeds: Obj) -> tuple[str, str]:
    return ("--set-json", f"ingest.feeds={json.dumps(list(feeds))}")


def test_the_five_venue_example_runs_each_venue_as_a_primary_and_a_replica() -> None:
    objects = helm_render(*FIVE_VENUES)
    wanted = read_values(FIVE_VENUES_VALUES)["ingest"]["feeds"]
    feeds = _feeds(objects)
    assert sorted(feeds) == sorted(feed["name"] for feed in wanted)
    assert len({feed["connector"] for feed in wanted}) == 5
    for feed in wanted:
        instances = feeds[feed["name"]]
        assert {pod.name for pod in instances.values()} == {
            f"tickwire-ingest-{feed['name']}-primary",
            f"tickwire-ingest-{feed['name']}-replica",
        }
        for instance, pod in instances.items():
            settings = _settings(pod, objects)
            assert settings.connector == feed["connector"]
            # Its heartbeats name the feed, so two feeds of one connector are not one instance.
            assert (settings.feed, settings.ingest_instance) == (feed["name"], instance)
            assert settings.venue_instruments() == tuple(feed["instruments"])
            for name, value in (feed.get("env") or {}).items():
                assert container_env(pod.containers()[0], objects, STAND_INS).values[name] == value
            # The connector is built as at start-up: instruments, and IG's login from its Secret.
            make_venue(settings)


def test_the_documented_five_venue_example_is_the_one_tested() -> None:
    docs = (REPO_ROOT / "docs" / "deploy" / "kubernetes.md").read_text()
    feeds = docs[docs.index("## Feeds") :]
    block = re.search(r"```yaml\n(ingest:\n.*?)```", feeds, re.DOTALL)
    assert block, "docs/deploy/kubernetes.md: no ingest values under Feeds"
    assert yaml.safe_load(block.group(1)) == {"ingest": read_values(FIVE_VENUES_VALUES)["ingest"]}


def test_the_replicas_anti_affinity_names_its_primary_and_another_zone() -> None:
    objects = helm_render(*FIVE_VENUES)
    for feed, instances in _feeds(objects).items():
        anti = instances["replica"].spec["affinity"]["podAntiAffinity"]
        [term] = anti["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == ZONE, feed
        assert term["labelSelector"]["matchLabels"][FEED] == feed
        assert term["labelSelector"]["matchExpressions"] == [
            {"key": FEED_INSTANCE, "operator": "In", "values": ["primary"]}
        ]
        assert "preferredDuringSchedulingIgnoredDuringExecution" not in anti, feed


def test_the_single_zone_fallback_keeps_them_on_different_nodes_and_prefers_zones() -> None:
    objects = helm_render(*FIVE_VENUES, "--set", "ingest.separateInstancesBy=hostname")
    assert schema_problems(objects) == []
    feeds = _feeds(objects)
    for feed, instances in feeds.items():
        primary, replica = instances["primary"], instances["replica"]
        assert kept_apart(primary, replica) == {HOSTNAME}, feed
        assert kept_apart(primary, replica, required=False) == {ZONE}, feed
    binance, kraken = feeds["binance"]["primary"], feeds["kraken"]["replica"]
    assert kept_apart(binance, kraken) == kept_apart(binance, kraken, required=False) == set()


def test_every_instance_of_a_feed_avoids_every_other_and_a_lone_one_is_free() -> None:
    objects = helm_render(
        *_feed_list(
            {"name": "sim", "connector": "simulator", "instances": ["a", "b", "c"]},
            {"name": "solo", "connector": "simulator", "instances": ["primary"]},
        )
    )
    assert schema_problems(objects) == []
    feeds = _feeds(objects)
    sim = list(feeds["sim"].values())
    assert len(sim) == 3
    for i, a in enumerate(sim):
        for b in sim[i + 1 :]:
            assert kept_apart(a, b) == {ZONE}, (a.name, b.name)
    assert "affinity" not in feeds["solo"]["primary"].spec


def test_the_default_is_the_simulator_feed_with_a_primary_and_a_replica() -> None:
    objects = helm_render()
    feeds = _feeds(objects)
    assert {feed: sorted(instances) for feed, instances in feeds.items()} == {
        "simulator": ["primary", "replica"]
    }
    for pod in feeds["simulator"].values():
        assert _settings(pod, objects).connector == "simulator"


def test_only_the_pods_of_venue_feeds_reach_the_venues() -> None:
    objects = helm_render(
        *_feed_list(
            {"name": "local", "connector": "simulator", "instruments": ["SIM-X:10:0.1"]},
            {"name": "binance", "connector": "binance", "instruments": ["BTCUSDT"]},
        )
    )
    feeds = _feeds(objects)
    local = _settings(feeds["local"]["primary"], objects)
    assert [spec.name for spec in local.sim_instrument_specs()] == ["SIM-X"]
    for feed, venue in (("local", False), ("binance", True)):
        for pod in feeds[feed].values():
            ports = {rule.port for rule in allowed(objects, pod.labels, "Egress")}
            assert (443 in ports) is venue, pod.name


def test_a_feeds_setting_change_restarts_that_feed_only(tmp_path: Path) -> None:
    values = read_values(FIVE_VENUES_VALUES)
    values["ingest"]["feeds"][2]["env"] = {"TICKWIRE_KRAKEN_CHANNELS": "trade"}
    changed_file = tmp_path / "values.yaml"
    changed_file.write_text(yaml.safe_dump(values))

    def checksums(objects: tuple[Obj, ...]) -> dict[str, str]:
        return {
            p.name: p.template["metadata"]["annotations"]["checksum/config"]
            for p in pods(objects)
            if p.long_running
        }

    before, after = (
        checksums(helm_render(*FIVE_VENUES)),
        checksums(helm_render("-f", str(changed_file))),
    )
    assert {name for name in after if after[name] != before[name]} == {
        "tickwire-ingest-kraken-primary",
        "tickwire-ingest-kraken-replica",
    }


def test_the_chart_offers_the_connectors_the_service_has_but_replay() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    offered = schema["definitions"]["feed"]["properties"]["connector"]["enum"]
    # replay reads a recorded file, which no pod of the chart has.
    assert set(offered) == set(get_args(Connector)) - {"replay"}


VENUE = {"name": "kraken", "connector": "kraken", "instruments": ["BTC/USD"]}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (_feed_list({**VENUE, "connector": "bitmex"}), "/ingest/feeds/0/connector"),
        (_feed_list({**VENUE, "connector": "replay"}), "value must be one of"),
        (_feed_list({"name": "kraken", "connector": "kraken"}), "'instruments'"),
        (_feed_list({"connector": "simulator"}), "'name'"),
        (_feed_list({**VENUE, "name": "Kraken_EU"}), "/ingest/feeds/0/name"),
        (_feed_list({**VENUE, "replicas": 2}), "'replicas' not allowed"),
        (
            _feed_list({**VENUE, "instruments": ["BTC/USD,ETH/USD"]}),
            "/ingest/feeds/0/instruments/0",
        ),
        (_feed_list({**VENUE, "instances": ["primary", "primary"]}), "/ingest/feeds/0/instances"),
        (_feed_list(), "/ingest/feeds"),
        (("--set", "ingest.separateInstancesBy=region"), "/ingest/separateInstancesBy"),
    ],
    ids=[
        "unknown-connector",
        "replay",
        "venue-without-instruments",
        "no-name",
        "name-not-a-dns-label",
        "unknown-key",
        "instruments-with-a-comma",
        "instance-twice",
        "no-feed",
        "unknown-separation",
    ],
)
def test_a_wrong_feed_fails_at_install(args: tuple[str, ...], says: str) -> None:
    done = helm_template(*args)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert says in done.stderr, done.stderr


LONG = "a-feed-name-of-24-chars1"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (_feed_list(VENUE, VENUE), "ingest.feeds[1] (kraken): another feed is named kraken"),
        (
            _feed_list({**VENUE, "env": {"TICKWIRE_INSTRUMENTS": "BTC/USD"}}),
            "ingest.feeds[0] (kraken): env.TICKWIRE_INSTRUMENTS is set by the feed's `instruments`",
        ),
        (
            ("--set", "ingest.env.TICKWIRE_CONNECTOR=binance"),
            "ingest.env.TICKWIRE_CONNECTOR: the connector and instruments are each feed's own now;"
            " move them into ingest.feeds",
        ),
        (
            _feed_list(
                {"name": "sim-eu", "connector": "simulator", "instances": ["primary"]},
                {"name": "sim", "connector": "simulator", "instances": ["eu-primary"]},
            ),
            "its instance eu-primary is named tickwire-ingest-sim-eu-primary like another feed's",
        ),
        (
            (*_feed_list({**VENUE, "name": LONG}), "--set", "fullnameOverride=" + "r" * 36),
            "is longer than 63 characters; shorten the feed's name",
        ),
    ],
    ids=["same-name-twice", "instruments-in-env", "old-single-connector", "same-object", "long"],
)
def test_a_feed_list_the_schema_cannot_judge_fails_naming_the_value(
    args: tuple[str, ...], says: str
) -> None:
    done = helm_template(*args)
    assert done.returncode != 0
    assert says in done.stderr, done.stderr
