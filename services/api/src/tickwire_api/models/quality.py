"""Response models of /v1/quality: the daily quality report of each provider and instrument
(docs/quality.md explains every field), a page at a time."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import example, examples


class GapsOfReason(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"gaps": 2, "seconds": 184.5, "lost": 0}))
    gaps: int = Field(description="Gap events of this reason that started on the day.")
    seconds: float = Field(description="Their length, start to end, each counted whole.")
    lost: int = Field(description="Messages they say were lost, where they know.")


class BarAgreement(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"bars": 1437, "mean_abs_rel_diff": 0.0000012, "max_abs_rel_diff": 0.000041}
        )
    )
    bars: int = Field(description="Vendor bars with a computed bar of the same start.")
    mean_abs_rel_diff: float = Field(description="Mean of |computed - vendor| / vendor close.")
    max_abs_rel_diff: float = Field(description="Largest |computed - vendor| / vendor close.")


class QualityDay(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "binance",
                "instrument": "BTC-USDT",
                "day": "2026-12-05",
                "calendar": "24/7",
                "session_minutes": 1440,
                "covered_minutes": 1437,
                "coverage": 0.99791667,
                "ticks": 2841907,
                "quotes": 2101443,
                "trades": 740464,
                "tickers": 0,
                "first_tick": "2026-12-05T00:00:00.012Z",
                "last_tick": "2026-12-05T23:59:59.981Z",
                "gaps": 2,
                "gap_seconds": 184.5,
                "gap_lost": 0,
                "gaps_by_reason": {"disconnect": example(GapsOfReason)},
                "duplicates": 2807,
                "duplicate_rate": 0.00098678,
                "rejects": 3,
                "rejects_by_reason": {"non_positive_price": 3},
                "late_ticks": 12,
                "anomalies": 19,
                "anomalies_by_rule": {
                    "late_tick": {"warning": 12},
                    "zscore": {"critical": 1, "warning": 6},
                },
                "vendor_source": "binance",
                "vendor_close": 97012.5,
                "computed_close": 97013.1,
                "close_rel_diff": 0.00000618,
                "bar_agreement": {"binance": {"1m": example(BarAgreement)}},
                "computed_at": "2026-12-06T00:20:03.117Z",
                "tickwire_version": "0.1.0",
            }
        )
    )
    provider: str = Field(description="The provider; '*' for rejects that named none.")
    instrument: str = Field(description="The instrument; '*' for rejects that named none.")
    day: date = Field(description="The UTC day.")
    calendar: str | None = Field(
        description="What coverage is measured against: 24/7 or an exchange's code (XNYS); "
        "null for the row of rejects that named no instrument."
    )
    session_minutes: int = Field(description="Minutes of the day in the calendar's session.")
    covered_minutes: int = Field(description="Of them, minutes with at least one tick.")
    coverage: float | None = Field(
        description="covered_minutes / session_minutes; null on a day without a session."
    )
    ticks: int = Field(description="Ticks stored (quotes, trades and tickers; gaps apart).")
    quotes: int
    trades: int
    tickers: int
    first_tick: datetime | None = Field(description="exchange_ts of the day's first tick.")
    last_tick: datetime | None = Field(description="exchange_ts of the day's last tick.")
    gaps: int = Field(description="Gap events that started on the day.")
    gap_seconds: float = Field(description="Their length in seconds, each counted whole.")
    gap_lost: int = Field(description="Messages they say were lost, where they know.")
    gaps_by_reason: dict[str, GapsOfReason]
    duplicates: int = Field(description="Copies normalize dropped (replica, replay, reconnect).")
    duplicate_rate: float | None = Field(
        description="duplicates / (duplicates + ticks); null when both are 0."
    )
    rejects: int = Field(description="Dead letters about the day.")
    rejects_by_reason: dict[str, int]
    late_ticks: int = Field(description="late_tick anomalies: ticks for a bar already closed.")
    anomalies: int = Field(description="Anomalies of every rule.")
    anomalies_by_rule: dict[str, dict[str, int]] = Field(description="rule -> severity -> count.")
    vendor_source: str | None = Field(description="The vendor whose daily bar is compared.")
    vendor_close: float | None = Field(description="The vendor's daily close.")
    computed_close: float | None = Field(description="The close of the day's last computed bar.")
    close_rel_diff: float | None = Field(
        description="(computed_close - vendor_close) / vendor_close."
    )
    bar_agreement: dict[str, dict[str, BarAgreement]] = Field(
        description="vendor -> interval -> how its intraday bars agree with the computed ones."
    )
    computed_at: datetime = Field(description="When the row was computed.")
    tickwire_version: str = Field(description="The tickwire that computed it.")


class QualityPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "BTC-USDT",
                "provider": None,
                "start": "2026-12-01",
                "end": "2026-12-06",
                "limit": 100,
                "count": 1,
                "quality": [example(QualityDay)],
                "next_cursor": None,
            }
        )
    )
    instrument: str | None
    provider: str | None
    start: date | None
    end: date | None
    limit: int
    count: int
    quality: list[QualityDay]
    next_cursor: str | None = Field(
        description="Cursor of the next page (the `cursor` parameter); null on the last page."
    )
