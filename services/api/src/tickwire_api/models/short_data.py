"""Response models of /v1/short-volume and /v1/short-interest: FINRA's daily short-sale volume
and its short interest by settlement date, a page at a time."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import example, examples

NEXT_CURSOR = Field(
    description="Cursor of the next page (the `cursor` parameter); null on the last page."
)


class ShortVolume(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "finra",
                "instrument": "AAPL",
                "facility": "CNMS",
                "trade_date": "2024-05-31",
                "short_volume": 4242381.0,
                "short_exempt_volume": 25631.0,
                "total_volume": 9806823.0,
                "short_volume_ratio": 0.43259622,
                "market": "B,Q,N",
                "received_ts": "2024-06-01T00:05:12Z",
            }
        )
    )
    provider: str
    instrument: str = Field(description="The equity, named as the yahoo backfill names it.")
    facility: str = Field(description="The file's facility: CNMS for FINRA's consolidated file.")
    trade_date: date
    short_volume: float = Field(description="Shares sold short that day.")
    short_exempt_volume: float | None = Field(
        description="Of them, sold short exempt; null in older files, which lack the column."
    )
    total_volume: float = Field(description="All shares reported that day.")
    short_volume_ratio: float | None = Field(
        description="short_volume / total_volume; null when no volume was reported."
    )
    market: str = Field(description="The markets the row covers, as the file lists them.")
    received_ts: datetime = Field(description="When the backfill fetched the file.")


class ShortVolumePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "AAPL",
                "provider": None,
                "start": "2024-05-01",
                "end": "2024-06-01",
                "limit": 100,
                "count": 1,
                "short_volume": [example(ShortVolume)],
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
    short_volume: list[ShortVolume]
    next_cursor: str | None = NEXT_CURSOR


class ShortInterest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "finra",
                "instrument": "AAPL",
                "settlement_date": "2024-05-15",
                "short_interest": 94675201.0,
                "previous_short_interest": 101368483.0,
                "average_daily_volume": 60946317.0,
                "days_to_cover": 1.55,
                "market": "NNM",
                "received_ts": "2024-05-28T22:10:00Z",
            }
        )
    )
    provider: str
    instrument: str = Field(description="The equity, named as the yahoo backfill names it.")
    settlement_date: date = Field(description="The date the short positions are as of.")
    short_interest: float = Field(description="Shares held short at the settlement date.")
    previous_short_interest: float | None = Field(
        description="Shares held short at the previous settlement date."
    )
    average_daily_volume: float | None = Field(
        description="Average daily share volume over the period."
    )
    days_to_cover: float | None = Field(
        description="short_interest / average_daily_volume, as FINRA publishes it."
    )
    market: str = Field(description="FINRA's market class code of the issue.")
    received_ts: datetime = Field(description="When the backfill fetched it.")


class ShortInterestPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "AAPL",
                "provider": None,
                "start": "2024-01-01",
                "end": None,
                "limit": 100,
                "count": 1,
                "short_interest": [example(ShortInterest)],
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
    short_interest: list[ShortInterest]
    next_cursor: str | None = NEXT_CURSOR
