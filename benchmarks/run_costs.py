"""What a latency run costs and how it is set up: each service's CPU from its readiness, the run
loops' batches from their /metrics, and the settings under trial given on the command line."""

from __future__ import annotations

import httpx
from proc_stats import cpu_seconds, family_cpu

from tickwire_core.localstack.pipeline import Pipeline, service_names


def cpu_now(pipeline: Pipeline, servers: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each service and of each server (`servers`: pids by name; a
    server's live children counted with it, so PostgreSQL's backends are)."""
    used = {name: cpu_seconds(svc.process.pid) for name, svc in pipeline.services.items()}
    used.update({name: sum(family_cpu(pid).values()) for name, pid in servers.items()})
    return used


def start_counting_cpu(pipeline: Pipeline, servers: dict[str, int]) -> dict[str, float]:
    """Start the services as Pipeline.start does, each one's CPU counted from its readiness
    (start-up's imports left out), the servers' from before the first start (the feed publishes
    from its own readiness on, while later services still start); the servers' figures so carry
    the services' start-up traffic too."""
    pipeline.prepare()
    cpu_from = {name: sum(family_cpu(pid).values()) for name, pid in servers.items()}
    for name in service_names(pipeline.replica):
        pipeline.spawn(name)
        pipeline.wait_ready(name)
        cpu_from[name] = cpu_seconds(pipeline.services[name].process.pid)
    return cpu_from


def batch_figures(
    urls: dict[str, str], services: tuple[str, ...]
) -> dict[str, tuple[float, float, float]]:
    """Per run-loop service, from its /metrics: batches, records consumed, seconds in batches."""
    figures = {}
    for name in services:
        text = httpx.get(f"{urls[name]}/metrics", timeout=5.0).text
        values: dict[str, float] = {}
        for line in text.splitlines():
            metric, _, value = line.rpartition(" ")
            if metric.startswith(("tickwire_batch_seconds_", "tickwire_records_consumed_total")):
                key = metric.split("{")[0]
                values[key] = values.get(key, 0.0) + float(value)
        figures[name] = (
            values.get("tickwire_batch_seconds_count", 0.0),
            values.get("tickwire_records_consumed_total", 0.0),
            values.get("tickwire_batch_seconds_sum", 0.0),
        )
    return figures


def service_settings(items: list[str]) -> dict[str, dict[str, str]]:
    """`SERVICE:VARIABLE=VALUE` items by service."""
    settings: dict[str, dict[str, str]] = {}
    for item in items:
        service, sep, assignment = item.partition(":")
        variable, eq, value = assignment.partition("=")
        if not (sep and eq and service and variable):
            raise SystemExit(f"--set {item!r}: expected SERVICE:VARIABLE=VALUE")
        settings.setdefault(service, {})[variable] = value
    return settings


def cost_lines(
    cpu_used: dict[str, float], ticks: int, batches: dict[str, tuple[float, float, float]]
) -> list[str]:
    """What the run printed of its costs: CPU per 1,000 ticks, and each run loop's batches."""
    lines = []
    if cpu_used:
        lines.append(
            # The servers' figures include this benchmark's own readers and probes.
            "  CPU seconds per 1,000 ticks, from ready to the last tick stored: "
            + ", ".join(f"{k} {1000 * v / ticks:.2f}" for k, v in cpu_used.items())
        )
    for name, (count, records, seconds) in batches.items():
        if count:
            lines.append(
                f"  {name}: {count:,.0f} batches, {records / count:,.0f} records and "
                f"{1000 * seconds / count:.1f} ms (handle, produce, commit) each on average"
            )
    return lines
