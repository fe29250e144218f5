"""What `tickwire status` shows of the venue fields no mapping reads: per provider, summed over the
normalize instances whose last heartbeat (in service_status) reported them, most frequent first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

# One row per (provider, field) over every instance's report; jsonb_each twice unnests
# provider -> {field: count}.
_QUERY = """
SELECT p.key AS provider, f.key AS field, sum(f.value::bigint) AS messages,
       count(DISTINCT s.instance) AS instances
FROM service_status s,
     jsonb_each(s.unmapped_fields) AS p,
     jsonb_each_text(p.value) AS f
WHERE s.service = 'normalize' AND s.unmapped_fields IS NOT NULL
GROUP BY p.key, f.key
ORDER BY p.key, messages DESC, f.key
"""


@dataclass(frozen=True)
class UnmappedFields:
    """One provider's venue fields that its mapping did not read, with the number of checked
    messages that carried each (normalize checks the first message and then one in a hundred)."""

    provider: str
    fields: dict[str, int]  # field path -> messages, most frequent first
    instances: int  # normalize instances that reported any of them

    @property
    def counts(self) -> str:
        """`params.data.new_field (12), ...`: what the status line shows for the provider."""
        return ", ".join(f"{path} ({count})" for path, count in self.fields.items())

    @property
    def line(self) -> str:
        return f"{self.provider}: {self.counts}"


def unmapped_fields(conn: psycopg.Connection[Any]) -> list[UnmappedFields]:
    """Per provider (by name), the unread venue fields normalize's instances last reported."""
    found: dict[str, tuple[dict[str, int], int]] = {}
    for provider, path, messages, instances in conn.execute(_QUERY):
        fields, seen = found.setdefault(provider, ({}, 0))
        fields[path] = int(messages)
        found[provider] = (fields, max(seen, int(instances)))
    return [
        UnmappedFields(provider, fields, instances)
        for provider, (fields, instances) in sorted(found.items())
    ]
