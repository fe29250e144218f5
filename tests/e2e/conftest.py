"""Services shared by the tests of one module: the history tests start normalize, sink and API
once a module on topics and a database of the module's own."""

from collections.abc import Iterator
from typing import Any

import pytest

from tickwire_testing.history import HistoryPipeline


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """The vendor server on 127.0.0.1: `localhost` first tries ::1, which costs seconds here."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="module")
def history(
    stack: Any,
    module_topic_prefix: str,
    module_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HistoryPipeline]:
    pipeline = HistoryPipeline(
        stack.kafka_bootstrap_servers,
        module_database_url,
        module_topic_prefix,
        tmp_path_factory.mktemp("history-services"),
    )
    try:
        yield pipeline.start()
    finally:
        codes = pipeline.stop()
    assert codes == {"api": 0, "normalize": 0, "sink": 0}
