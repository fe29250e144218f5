"""Features as signal records, computed when bars close rather than per tick: the stream is sampled
once per finest bar (mid, spread, spread_bps, vwap) and once per bar of each interval (return,
SMAs and their cross, momentum, daily return). ts is the end of the bar the value holds at."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from itertools import islice

from tickwire_signals.domain.bars import OpenBar
from tickwire_signals.domain.config import DAY_US, US_PER_S, SignalsConfig
from tickwire_signals.domain.records import Record, signal
from tickwire_signals.domain.series import BarSeries
from tickwire_signals.domain.vwap import VwapWindow


def finest_bar_features(
    provider: str,
    instrument: str,
    interval: str,
    bar: OpenBar,
    end_ts: int,
    vwap: VwapWindow,
    vwap_window_us: int,
) -> list[Record]:
    """mid, spread and spread_bps of the bar's last quote (by event time); vwap of the used trades
    with exchange_ts in [end_ts - window, end_ts)."""
    out: list[Record] = []
    params = {"interval": interval}
    if bar.mid is not None:
        mid, spread = bar.mid.close, bar.ask - bar.bid
        out.append(signal(provider, instrument, end_ts, "mid", mid, params))
        out.append(signal(provider, instrument, end_ts, "spread", spread, params))
        out.append(signal(provider, instrument, end_ts, "spread_bps", spread / mid * 1e4, params))
    if bar.volume > 0.0:
        vwap.add(bar.start_ts, bar.notional, bar.volume)
    value = vwap.value_since(end_ts - vwap_window_us)
    if value is not None:
        window = {"interval": interval, "window": f"{vwap_window_us / US_PER_S:g}s"}
        out.append(signal(provider, instrument, end_ts, "vwap", value, window))
    return out


def bar_features(
    provider: str, instrument: str, series: BarSeries, bar: Record, config: SignalsConfig
) -> list[Record]:
    """return (log, close vs the previous bar's close), sma_<short>, sma_<long>, sma_cross (only
    where the sign of short - long flips), momentum and, on the first bar of a new UTC day,
    daily_return of the day before: ln(its last close / the last close of the previous day with
    bars), or / its first open when it is the first day seen."""
    out: list[Record] = []
    end_ts = bar["start_ts"] + series.length_us
    close = bar["close"]
    closes = series.closes
    daily = _daily_return(provider, instrument, series, bar)
    if daily is not None:
        out.append(daily)
    if closes and closes[-1] > 0.0 and close > 0.0:
        ret = math.log(close / closes[-1])
        out.append(signal(provider, instrument, end_ts, "return", ret, {"interval": series.name}))
        series.returns.append(ret)
        series.return_volumes.append(bar["volume"])
    closes.append(close)
    n, short, long = len(closes), config.sma_short, config.sma_long
    if n >= short:
        sma_short = math.fsum(islice(closes, n - short, n)) / short
        params = {"interval": series.name, "window": str(short)}
        out.append(signal(provider, instrument, end_ts, f"sma_{short}", sma_short, params))
    if n >= long:
        sma_long = math.fsum(islice(closes, n - long, n)) / long
        params = {"interval": series.name, "window": str(long)}
        out.append(signal(provider, instrument, end_ts, f"sma_{long}", sma_long, params))
        relation = (sma_short > sma_long) - (sma_short < sma_long)
        if relation and series.cross and relation != series.cross:
            params = {"interval": series.name, "short": str(short), "long": str(long)}
            out.append(signal(provider, instrument, end_ts, "sma_cross", float(relation), params))
        if relation:
            series.cross = relation
    if len(series.returns) == config.momentum_window:
        out.append(_momentum(provider, instrument, series, end_ts))
    return out


def _momentum(provider: str, instrument: str, series: BarSeries, end_ts: int) -> Record:
    # Mid bars carry no volume: their returns count equally.
    volume = math.fsum(series.return_volumes)
    if volume > 0.0:
        pairs = zip(series.returns, series.return_volumes, strict=True)
        value = math.fsum(r * v for r, v in pairs) / volume
        weighting = "volume"
    else:
        value = math.fsum(series.returns) / len(series.returns)
        weighting = "equal"
    params = {"interval": series.name, "window": str(series.returns.maxlen), "weighting": weighting}
    return signal(provider, instrument, end_ts, "momentum", value, params)


def _daily_return(provider: str, instrument: str, series: BarSeries, bar: Record) -> Record | None:
    day = bar["start_ts"] // DAY_US
    if series.day is None:
        series.day, series.day_first_open = day, bar["open"]
        return None
    if day == series.day:
        return None
    last_close = series.closes[-1]
    reference, kind = series.day_ref_close, "previous_close"
    if reference is None:
        reference, kind = series.day_first_open, "first_open"
    record = None
    if reference is not None and reference > 0.0 and last_close > 0.0:
        params = {
            "interval": series.name,
            "day": datetime.fromtimestamp(series.day * 86_400, UTC).date().isoformat(),
            "reference": kind,
        }
        ts = (series.day + 1) * DAY_US
        value = math.log(last_close / reference)
        record = signal(provider, instrument, ts, "daily_return", value, params)
    series.day_ref_close, series.day, series.day_first_open = last_close, day, bar["open"]
    return record
