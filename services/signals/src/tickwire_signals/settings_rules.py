"""The rules setting (TICKWIRE_RULES: numbers, strings, lists, nested mappings; durations in
seconds) turned into the domain's SignalsConfig, with a ValueError naming the key of any mistake."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tickwire_signals.domain.config import (
    INSTRUMENT_CLASSES,
    US_PER_S,
    BarInterval,
    SignalsConfig,
    ZScoreParams,
)

_ZSCORE_KEYS: dict[str, type] = {
    "method": str,
    "window": int,
    "min_points": int,
    "warn": float,
    "critical": float,
    "rebase_after": int,
}
_PLAIN_KEYS = {
    "gap_jump_warn_bps": ("gap_jump_warn_bps", float),
    "gap_jump_critical_bps": ("gap_jump_critical_bps", float),
    "sma_short": ("sma_short", int),
    "sma_long": ("sma_long", int),
    "momentum_window": ("momentum_window", int),
}
_SECONDS_KEYS = {
    "allowed_lateness_s": "allowed_lateness_us",
    "stale_quote_timeout_s": "stale_quote_timeout_us",
    "vwap_window_s": "vwap_window_us",
}
_OTHER_KEYS = {"bar_intervals", "zscore", "zscore_overrides"}
_DURATION = re.compile(r"([1-9][0-9]*)(ms|s|m|h)")
_UNIT_US = {"ms": 1_000, "s": US_PER_S, "m": 60 * US_PER_S, "h": 3_600 * US_PER_S}


def config_from_rules(values: Mapping[str, object]) -> SignalsConfig:
    """Every key is optional; an unknown key or a wrong value raises ValueError. Keys: zscore
    ({window, min_points, warn, critical, rebase_after}), zscore_overrides ({class: the same
    keys, each defaulting to zscore's}), bar_intervals ("1s,1m" or a list of such names),
    allowed_lateness_s, stale_quote_timeout_s, vwap_window_s, gap_jump_warn_bps,
    gap_jump_critical_bps, sma_short, sma_long, momentum_window."""
    unknown = set(values) - _OTHER_KEYS - set(_PLAIN_KEYS) - set(_SECONDS_KEYS)
    if unknown:
        raise ValueError(f"unknown signals settings: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for key, (name, kind) in _PLAIN_KEYS.items():
        if key in values:
            kwargs[name] = _number(key, values[key], kind)
    for key, name in _SECONDS_KEYS.items():
        if key in values:
            seconds = _number(key, values[key], float)
            kwargs[name] = round(seconds * US_PER_S)
    base = _mapping("zscore", values.get("zscore", {}))
    kwargs["zscore"] = _zscore("zscore.", base, ZScoreParams())
    if "zscore_overrides" in values:
        overrides = values["zscore_overrides"]
        if not isinstance(overrides, Mapping):
            raise ValueError("zscore_overrides must map an instrument class to z-score settings")
        unknown = {str(cls) for cls in overrides} - set(INSTRUMENT_CLASSES)
        if unknown:
            raise ValueError(
                f"zscore_overrides for unknown instrument classes {sorted(unknown)}; "
                f"the classes are {', '.join(INSTRUMENT_CLASSES)}"
            )
        kwargs["zscore_overrides"] = {
            str(cls): _zscore(
                f"zscore_overrides.{cls}.", _mapping(f"zscore_overrides.{cls}", v), kwargs["zscore"]
            )
            for cls, v in overrides.items()
        }
    if "bar_intervals" in values:
        kwargs["bar_intervals"] = bar_intervals(values["bar_intervals"])
    return SignalsConfig(**kwargs)


def bar_intervals(value: object) -> tuple[BarInterval, ...]:
    """ "1s,1m" or ["1s", "1m"] -> intervals named as written (units ms, s, m, h)."""
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, Sequence) and all(isinstance(part, str) for part in value):
        names = [str(part).strip() for part in value]
    else:
        raise ValueError(f"bar_intervals must be names like '1s,1m', got {value!r}")
    intervals = []
    for name in names:
        match = _DURATION.fullmatch(name)
        if match is None:
            raise ValueError(f"bar_intervals: {name!r} is not a duration like 1s, 500ms, 5m, 1h")
        intervals.append(BarInterval(name, int(match.group(1)) * _UNIT_US[match.group(2)]))
    return tuple(intervals)


def _zscore(prefix: str, values: Mapping[str, object], base: ZScoreParams) -> ZScoreParams:
    unknown = set(values) - set(_ZSCORE_KEYS)
    if unknown:
        raise ValueError(f"unknown z-score settings: {', '.join(prefix + k for k in unknown)}")
    method = base.method
    params = {
        "window": base.window,
        "min_points": base.min_points,
        "warn": base.warn,
        "critical": base.critical,
        "rebase_after": base.rebase_after,
    }
    for key, value in values.items():
        if key == "method":
            if not isinstance(value, str):
                raise ValueError(f"{prefix}method must be a string, got {value!r}")
            method = value
        else:
            params[key] = _number(prefix + key, value, _ZSCORE_KEYS[key])
    try:
        return ZScoreParams(
            method=method,
            window=int(params["window"]),
            min_points=int(params["min_points"]),
            warn=float(params["warn"]),
            critical=float(params["critical"]),
            rebase_after=int(params["rebase_after"]),
        )
    except ValueError as exc:
        raise ValueError(f"{prefix.rstrip('._')}: {exc}") from None


def _mapping(key: str, value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{key} must be a mapping of z-score settings")
    return {str(k): v for k, v in value.items()}


def _number(key: str, value: object, kind: type) -> int | float:
    # bool is an int to Python, but a "true" window is a settings mistake.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{key} must be a whole number, got {value!r}")
        return int(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{key} must be finite, got {value!r}")
    return float(value)
