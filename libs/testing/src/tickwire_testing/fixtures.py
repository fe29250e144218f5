"""Recorded venue messages for connector and mapping tests (tests/fixtures/venues/<venue>.json:
the public example messages of each venue's documentation, with their source and notes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tickwire_core.localstack._process import REPO_ROOT

VENUE_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "venues"


def venue_fixture_path(venue: str) -> Path:
    return VENUE_FIXTURES / f"{venue}.json"


def venue_fixture(venue: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(venue_fixture_path(venue).read_text())
    return data
