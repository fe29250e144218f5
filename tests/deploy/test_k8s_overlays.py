"""The kustomize overlays: what dev and prod change over the base (namespace, image tags, replicas,
the feed, anonymous API access in dev only), and the single-zone component. What every rendering
must satisfy is in test_k8s_consistency.py and test_k8s_isolation.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.deploy.k8s_env import STAND_INS, container_env, load
from tests.deploy.k8s_policies import allowed, kept_apart
from tests.deploy.k8s_render import (
    DEPLOY,
    FEED_INSTANCE,
    HOSTNAME,
    SCALABLE,
    ZONE,
    kustomize_build,
    of_kind,
    parse,
    pods,
    run_tool,
    schema_problems,
)
from tickwire_api.settings import ApiSettings
from tickwire_core.localstack._process import versions

# Everything but the API keys: dev must start without them, prod must not.
WITHOUT_KEYS = {ref: value for ref, value in STAND_INS.items() if ref[0] != "tickwire-api-keys"}


def test_the_pinned_kustomize_builds_and_reports_its_version() -> None:
    done = run_tool("kustomize", "version")
    assert done.stdout.strip() == versions()["KUSTOMIZE_VERSION"]


def test_only_dev_serves_the_api_without_a_key() -> None:
    dev = kustomize_build("dev")
    api = next(p for p in pods(dev) if p.component == "api").containers()[0]
    settings = load(ApiSettings, container_env(api, dev, WITHOUT_KEYS))
    assert settings.allow_anonymous is True
    assert settings.key_hashes() == frozenset()

    prod = kustomize_build("prod")
    api = next(p for p in pods(prod) if p.component == "api").containers()[0]
    with pytest.raises(AssertionError, match="no stand-in for secret"):
        container_env(api, prod, WITHOUT_KEYS)  # the key Secret is not optional
    settings = load(ApiSettings, container_env(api, prod, STAND_INS))
    assert settings.allow_anonymous is False


def test_each_overlay_has_its_namespace_and_image_tag() -> None:
    for overlay, namespace, tag in (("dev", "tickwire-dev", "dev"), ("prod", "tickwire", "0.1.0")):
        objects = kustomize_build(overlay)
        assert {o["metadata"]["namespace"] for o in objects} == {namespace}
        for pod in pods(objects):
            for container in pod.containers():
                assert container["image"].endswith(f":{tag}"), (overlay, pod.name)


def test_prod_runs_every_scalable_service_twice_at_least_and_dev_once() -> None:
    for overlay, least in (("dev", 1), ("prod", 2)):
        objects = kustomize_build(overlay)
        workloads = {p.component: p.owner for p in pods(objects) if p.long_running}
        autoscalers = {
            h["spec"]["scaleTargetRef"]["name"]: h
            for h in of_kind(objects, "HorizontalPodAutoscaler")
        }
        for component in SCALABLE:
            workload = workloads[component]
            assert workload["spec"]["replicas"] >= least, (overlay, component)
            hpa = autoscalers[workload["metadata"]["name"]]
            assert hpa["spec"]["minReplicas"] >= least, (overlay, component)
            if overlay == "dev":
                assert workload["spec"]["replicas"] == 1, component


def test_only_a_venue_feed_may_leave_the_cluster() -> None:
    for overlay, connector, venue_egress in (
        ("dev", "simulator", False),
        ("prod", "binance", True),
    ):
        objects = kustomize_build(overlay)
        ingest = next(p for p in pods(objects) if p.component == "ingest")
        env = container_env(ingest.containers()[0], objects, STAND_INS).values
        assert env["TICKWIRE_CONNECTOR"] == connector
        ports = {r.port for r in allowed(objects, ingest.labels, "Egress")}
        assert (443 in ports) is venue_egress, overlay


def test_the_single_zone_component_keeps_the_instances_on_different_nodes(tmp_path: Path) -> None:
    prod = {
        p.labels[FEED_INSTANCE]: p for p in pods(kustomize_build("prod")) if p.component == "ingest"
    }
    # Without it: zones required, and different nodes preferred where nodes have no zone label.
    assert kept_apart(prod["primary"], prod["replica"]) == {ZONE}
    assert kept_apart(prod["primary"], prod["replica"], required=False) == {HOSTNAME}
    # kustomize takes relative paths only.
    deploy = os.path.relpath(DEPLOY, tmp_path)
    kustomization = {
        "resources": [f"{deploy}/overlays/prod"],
        "components": [f"{deploy}/components/single-zone"],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    done = run_tool("kustomize", "build", str(tmp_path))
    assert done.returncode == 0, done.stderr
    objects = tuple(parse(done.stdout))
    assert schema_problems(objects) == []
    ingest = {p.labels[FEED_INSTANCE]: p for p in pods(objects) if p.component == "ingest"}
    assert kept_apart(ingest["primary"], ingest["replica"]) == {HOSTNAME}
    assert kept_apart(ingest["primary"], ingest["replica"], required=False) == {ZONE}
