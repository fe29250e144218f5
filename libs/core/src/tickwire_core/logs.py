"""Structured JSON logs on stdout, one object per line, safe to configure more than once."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

_HANDLER_NAME = "tickwire-json"


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines on `stream` (stdout, where services log; the CLI passes stderr)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root.addHandler(handler)
    root.setLevel(level)
