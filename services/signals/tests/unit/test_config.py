"""SignalsConfig: instrument classes from unified names, z-score overrides per class, and building
it from plain settings values with errors that name what is wrong."""

from __future__ import annotations

import re

import pytest

from tickwire_signals.domain import SignalEngine, SignalsConfig
from tickwire_signals.domain.config import BarInterval, ZScoreParams, instrument_class
from tickwire_signals.settings_rules import config_from_rules

S = 1_000_000


@pytest.mark.parametrize(
    ("instrument", "expected"),
    [
        ("BTC-USD", "spot"),
        ("BTC-USDT-PERP", "perp"),
        ("BTC-USD-20241227", "future"),
        ("BTC-USD-20241227-60000-C", "option"),
        ("XRP-USDC-20230630-0.625-P", "option"),
        ("CS.D.EURUSD.MINI.IP", "spot"),  # a venue name kept as it is
        ("BTC-USD-2024122", "spot"),
    ],
)
def test_instrument_class_comes_from_the_unified_name(instrument: str, expected: str) -> None:
    assert instrument_class(instrument) == expected


def test_defaults() -> None:
    config = SignalsConfig()
    assert config.zscore == ZScoreParams(window=200, min_points=30, warn=2.5, critical=4.0)
    assert config.bar_intervals == (BarInterval("1s", S), BarInterval("1m", 60 * S))
    assert (config.allowed_lateness_us, config.stale_quote_timeout_us) == (2 * S, 10 * S)
    assert (config.gap_jump_warn_bps, config.gap_jump_critical_bps) == (50.0, 200.0)
    assert (config.sma_short, config.sma_long, config.momentum_window) == (20, 50, 20)
    assert config.vwap_window_us == 300 * S


def test_a_class_override_applies_to_that_class_only() -> None:
    options = ZScoreParams(window=50, min_points=10, warn=3.0, critical=6.0)
    engine = SignalEngine(SignalsConfig(zscore_overrides={"option": options}))
    assert engine.config.zscore_for("BTC-USD-20241227-60000-C") == options
    assert engine.config.zscore_for("BTC-USD-PERP") == ZScoreParams()
    assert engine.new_state("deribit", "BTC-USD-20241227-60000-C").zscore.prices.maxlen == 50
    assert engine.new_state("deribit", "BTC-USD-PERP").zscore.prices.maxlen == 200


def test_rules_setting_reads_plain_values() -> None:
    config = config_from_rules(
        {
            "zscore": {"window": 100, "warn": 3},
            "zscore_overrides": {
                "perp": {"critical": 5.5},
                "option": {"window": 40, "method": "level"},
            },
            "bar_intervals": "1s, 5m",
            "allowed_lateness_s": 0.5,
            "stale_quote_timeout_s": 30,
            "vwap_window_s": 60,
            "gap_jump_warn_bps": 25,
            "sma_short": 5,
            "sma_long": 10,
            "momentum_window": 8,
        }
    )
    base = ZScoreParams(window=100, warn=3.0)
    assert config == SignalsConfig(
        zscore=base,
        zscore_overrides={
            "perp": ZScoreParams(window=100, warn=3.0, critical=5.5),
            "option": ZScoreParams(window=40, warn=3.0, method="level"),
        },
        bar_intervals=(BarInterval("1s", S), BarInterval("5m", 300 * S)),
        allowed_lateness_us=500_000,
        stale_quote_timeout_us=30 * S,
        vwap_window_us=60 * S,
        gap_jump_warn_bps=25.0,
        sma_short=5,
        sma_long=10,
        momentum_window=8,
    )
    assert config_from_rules({}) == SignalsConfig()
    listed = config_from_rules({"bar_intervals": ["1m", "500ms"], "vwap_window_s": 1})
    assert [i.name for i in listed.bar_intervals] == ["500ms", "1m"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"zscore_window": 10}, "unknown signals settings: zscore_window"),
        ({"zscore": {"window": True}}, "zscore.window must be a number"),
        ({"zscore": {"window": 20.5}}, "zscore.window must be a whole number"),
        ({"zscore": {"window": "200"}}, "zscore.window must be a number"),
        ({"zscore": {"warn": float("nan")}}, "zscore.warn must be finite"),
        ({"zscore": {"min_points": 300}}, "zscore: z-score min_points must be between 2"),
        ({"zscore": {"warn": 5, "critical": 4}}, "0 < warn <= critical"),
        ({"zscore": [200]}, "zscore must be a mapping"),
        ({"zscore": {"method": 1}}, "zscore.method must be a string"),
        ({"zscore": {"method": "mad"}}, "zscore: z-score method must be one of return, level"),
        ({"zscore": {"windw": 10}}, "unknown z-score settings: zscore.windw"),
        ({"zscore_overrides": {"bond": {"window": 10}}}, "unknown instrument classes"),
        ({"zscore_overrides": {"perp": 3}}, "zscore_overrides.perp must be a mapping"),
        ({"zscore_overrides": {"perp": {"windw": 10}}}, "zscore_overrides.perp.windw"),
        ({"zscore_overrides": {"perp": {"min_points": 1}}}, "zscore_overrides.perp"),
        ({"bar_intervals": "1s,fast"}, "'fast' is not a duration"),
        ({"bar_intervals": "7s"}, "must divide a day"),
        ({"bar_intervals": "2s,3s"}, "multiple of the finest"),
        ({"bar_intervals": "60s,1m"}, "differ in name and length"),
        ({"bar_intervals": ""}, "at least one bar interval"),
        ({"vwap_window_s": 1.5}, "VWAP window must be a positive multiple"),
        ({"allowed_lateness_s": -1}, "lateness must not be negative"),
        ({"stale_quote_timeout_s": 0}, "timeout must be positive"),
        ({"gap_jump_warn_bps": 300}, "gap-jump thresholds"),
        ({"sma_short": 50}, "SMA windows"),
        ({"momentum_window": 0}, "momentum window"),
    ],
)
def test_rules_setting_names_wrong_values(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        config_from_rules(values)
