"""What the API's integration tests share: a headless Chromium for the dashboard's pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tickwire_testing.browser import headless_chromium


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A browser of its own per test: a fresh profile, so no page state leaks between tests."""
    with headless_chromium(tmp_path / "profile", tmp_path) as driver:
        yield driver
