"""docs/deploy/settings.md is what the settings models generate, and names every setting of every
service once per table it belongs in."""

from __future__ import annotations

import re

from tickwire_core import settings_doc
from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.settings import env_name


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = (REPO_ROOT / settings_doc.OUTPUT).read_text()
    assert committed == settings_doc.render(), (
        "docs/deploy/settings.md is stale: run `python -m tickwire_core.settings_doc --write`"
    )


def test_every_setting_of_every_service_is_in_a_table_that_service_reads() -> None:
    text = settings_doc.render()
    sections = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    shared = re.findall(r"^\| `([A-Z0-9_]+)`", sections["Every service"], re.M)
    kafka_title = next(title for title in sections if title.startswith("Every Kafka service"))
    kafka = re.findall(r"^\| `([A-Z0-9_]+)`", sections[kafka_title], re.M)
    for service, spec in settings_doc.SERVICES:
        model = settings_doc.load_model(spec)
        own = re.findall(r"^\| `([A-Z0-9_]+)`", sections[service], re.M)
        readable = set(shared) | set(own)
        if service in kafka_title:
            readable |= set(kafka)
        expected = {env_name(model, field) for field in model.model_fields}
        assert readable == expected, service
        assert len(own) == len(set(own)), service


def test_every_setting_has_a_description() -> None:
    for row in re.findall(r"^\| `[A-Z0-9_]+` .*$", settings_doc.render(), re.M):
        description = row.rstrip(" |").rsplit(" | ", 1)[1]
        assert description.strip(), row


def test_fallback_descriptions_stand_in_only_where_a_model_has_none() -> None:
    lacking: set[str] = set()
    for _, spec in settings_doc.SERVICES:
        model = settings_doc.load_model(spec)
        lacking |= {name for name, info in model.model_fields.items() if not info.description}
    assert set(settings_doc.FALLBACK_DESCRIPTIONS) <= lacking, (
        "a model now describes these itself; drop them from FALLBACK_DESCRIPTIONS: "
        f"{sorted(set(settings_doc.FALLBACK_DESCRIPTIONS) - lacking)}"
    )
