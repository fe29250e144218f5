"""What a rendered release's network policies let through, which pods its anti-affinity keeps
apart, and which Secrets its workloads reference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from tests.deploy.k8s_render import Obj, Pod, of_kind, pods

# --- network policies ---------------------------------------------------------------------------


def selects(selector: Obj, labels: Mapping[str, str]) -> bool:
    """A LabelSelector's verdict on `labels` (an empty selector selects everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Rule:
    """One port a policy rule opens, and to or from whom ('any' when the rule names no peers)."""

    protocol: str
    port: int | str
    peers: str


def policies_for(objects: tuple[Obj, ...], labels: Mapping[str, str]) -> list[Obj]:
    return [
        p for p in of_kind(objects, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)
    ]


def allowed(objects: tuple[Obj, ...], labels: Mapping[str, str], direction: str) -> set[Rule]:
    """direction: 'Ingress' or 'Egress'. Rules without ports open every port ('*')."""
    rules: set[Rule] = set()
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in policies_for(objects, labels):
        if direction not in policy["spec"].get("policyTypes", []):
            continue
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            who = yaml.safe_dump(peers, sort_keys=True).strip() if peers else "any"
            for port in rule.get("ports") or [{"protocol": "*", "port": "*"}]:
                rules.add(Rule(port.get("protocol", "TCP"), port["port"], who))
    return rules


def kept_apart(a: Pod, b: Pod, *, required: bool = True) -> set[str]:
    """The topology keys over which the scheduler keeps pods `a` and `b` apart: the pod
    anti-affinity terms of either that select the other (a required term binds both ways), the
    preferred ones with required=False. Both are assumed in one namespace."""
    keys: set[str] = set()
    for pod, other in ((a, b), (b, a)):
        anti = pod.spec.get("affinity", {}).get("podAntiAffinity", {})
        if required:
            terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        else:
            preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []
            terms = [t["podAffinityTerm"] for t in preferred]
        for term in terms:
            if selects(term["labelSelector"], other.labels):
                keys.add(term["topologyKey"])
    return keys


def isolated(objects: tuple[Obj, ...], labels: Mapping[str, str]) -> bool:
    """A policy selects the pod for both directions: whatever no rule allows is denied."""
    types: set[str] = set()
    for policy in policies_for(objects, labels):
        types |= set(policy["spec"].get("policyTypes", []))
    return {"Ingress", "Egress"} <= types


def secret_references(objects: tuple[Obj, ...]) -> set[tuple[str, str | None]]:
    """(secret, key) of every secretKeyRef, and (secret, None) of every secret volume."""
    refs: set[tuple[str, str | None]] = set()
    for pod in pods(objects):
        for container in pod.containers():
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
        for volume in pod.spec.get("volumes", []):
            if "secret" in volume:
                refs.add((volume["secret"]["secretName"], None))
    return refs
