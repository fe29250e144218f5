"""Settings of the signals service (environment variables TICKWIRE_<FIELD>)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from tickwire_core.settings import KafkaServiceSettings
from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.settings_rules import config_from_rules


class SignalsSettings(KafkaServiceSettings):
    consumer_group: str = Field(
        "tickwire-signals",
        min_length=1,
        description="The faust app id: consumer group, and prefix of its table changelog topics.",
    )
    batch_size: int = Field(
        2000,
        ge=1,
        le=100_000,
        description="Ticks per batch at most (a batch is what one fetch brought, or part of it).",
    )
    table_replication_factor: int = Field(1, ge=1, description="Of the state changelog topic.")
    data_dir: str = Field(
        default_factory=lambda: str(Path(tempfile.gettempdir()) / "tickwire-signals"),
        description="faust's working directory (its table state lives in memory and in Kafka).",
    )
    rules: dict[str, Any] = Field(
        default_factory=dict,
        description="Rule and feature parameters as JSON (docs/signals.md), e.g. "
        '{"zscore": {"window": 200, "warn": 2.5}, "zscore_overrides": {"option": {"warn": 3}}, '
        '"bar_intervals": ["1s", "1m"], "allowed_lateness_s": 2}.',
    )

    @field_validator("rules")
    @classmethod
    def _rules_build(cls, value: dict[str, Any]) -> dict[str, Any]:
        config_from_rules(value)  # raises ValueError naming the key
        return value

    def signals_config(self) -> SignalsConfig:
        return config_from_rules(self.rules)
