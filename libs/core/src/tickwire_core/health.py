"""/livez, /readyz and Prometheus /metrics for every service, on a small HTTP server thread.
Live means the main loop still turns; ready means every named readiness check passes now."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

logger = logging.getLogger(__name__)

Check = Callable[[], bool]


class Health:
    """Liveness heartbeat and readiness checks of one service."""

    def __init__(self, live_timeout_s: float = 60.0) -> None:
        self.live_timeout_s = live_timeout_s
        self._last_beat = time.monotonic()
        self._checks: dict[str, Check] = {}

    def beat(self) -> None:
        self._last_beat = time.monotonic()

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def live(self) -> tuple[bool, dict[str, object]]:
        age = time.monotonic() - self._last_beat
        return age <= self.live_timeout_s, {"loop_age_s": round(age, 3)}

    def ready(self) -> tuple[bool, dict[str, object]]:
        results: dict[str, object] = {}
        for name, check in self._checks.items():
            try:
                results[name] = bool(check())
            except Exception as exc:  # a failing check is an answer, not a crash
                results[name] = f"error: {type(exc).__name__}: {exc}"
        ok = bool(self._checks) and all(v is True for v in results.values())
        return ok, results


class HealthServer:
    def __init__(self, health: Health, host: str, port: int) -> None:
        self.health = health
        handler = _handler_for(health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        logger.info("health endpoints on port %d", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/livez":
                self._json(*health.live())
            elif self.path == "/readyz":
                self._json(*health.ready())
            elif self.path == "/metrics":
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b"not found\n", "text/plain")

        def _json(self, ok: bool, detail: dict[str, object]) -> None:
            body = json.dumps({"status": "ok" if ok else "fail", **detail}).encode()
            self._send(200 if ok else 503, body, "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # probes would flood the log
            pass

    return Handler
