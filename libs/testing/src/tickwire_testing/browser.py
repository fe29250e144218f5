"""The dashboard's tests' browser: Debian's Chromium, headless, driven by selenium through
Debian's chromedriver (scripts/install-chromium.sh installs both), and the API it looks at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.support.wait import WebDriverWait

from tickwire_testing.processes import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Headless as root; without the background-networking flags the closed network makes it slow.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1120",
]


@contextmanager
def headless_chromium(profile: Path, log_dir: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = ChromeService(
        executable_path=CHROMEDRIVER, log_output=str(log_dir / "chromedriver.log")
    )
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: webdriver.Chrome, condition: Any, what: str, timeout: float = 15) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, what)


@contextmanager
def api_server(log_dir: Path, database_url: str) -> Iterator[Callable[..., str]]:
    """`serve(**env)` starts the API as its own process, with the environment the test names,
    on a database with the sink's tables (which the API's readiness needs); its base URL."""
    from tickwire_sink.adapters.migrations import migrate

    with psycopg.connect(database_url) as conn:
        migrate(conn)
    started: list[Service] = []

    def serve(**env: str) -> str:
        api = Service("tickwire_api", "api", log_dir, {"DATABASE_URL": database_url, **env})
        # The API answers /readyz on its own port: the one Service polls.
        api.env.update(TICKWIRE_API_HOST="127.0.0.1", TICKWIRE_API_PORT=str(api.port))
        started.append(api)
        api.start(timeout=30)
        return f"http://127.0.0.1:{api.port}"

    try:
        yield serve
    finally:
        for api in started:
            api.stop()
