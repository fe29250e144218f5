import json
import time
import urllib.error
import urllib.request

import pytest

from tickwire_core.health import Health, HealthServer


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def served():
    health = Health(live_timeout_s=60)
    server = HealthServer(health, "127.0.0.1", 0).start()
    yield health, server.port
    server.stop()


def test_ready_only_when_every_check_passes(served) -> None:
    health, port = served
    assert get(port, "/readyz")[0] == 503  # no checks registered: nothing is known to work
    state = {"db": False}
    health.add_check("partitions", lambda: True)
    health.add_check("db", lambda: state["db"])
    status, body = get(port, "/readyz")
    assert status == 503 and json.loads(body) == {"status": "fail", "partitions": True, "db": False}
    state["db"] = True
    assert get(port, "/readyz")[0] == 200


def test_a_check_that_raises_is_not_ready_and_says_why(served) -> None:
    health, port = served

    def broken() -> bool:
        raise ConnectionError("refused")

    health.add_check("db", broken)
    status, body = get(port, "/readyz")
    assert status == 503 and json.loads(body)["db"] == "error: ConnectionError: refused"


def test_live_while_the_loop_beats() -> None:
    health = Health(live_timeout_s=0.05)
    health.beat()
    assert health.live()[0]
    time.sleep(0.1)
    assert not health.live()[0]
    health.beat()
    assert health.live()[0]


def test_metrics_and_unknown_paths(served) -> None:
    _health, port = served
    status, body = get(port, "/metrics")
    assert status == 200 and b"python_info" in body
    assert get(port, "/nope")[0] == 404
