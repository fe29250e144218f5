"""What the backfill's count expects of a vendor row: normalize's own history mapping, given the
row as normalize will see it, and the natural key of each table it lands in."""

from __future__ import annotations

import pytest

from tickwire_cli.settlement import normalize_mapper, target_key
from tickwire_core.errors import RejectedRecord
from tickwire_ingest.domain.history.pages import VendorRow
from tickwire_normalize.domain.history import BAR, HistoryRow, Mapped
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS


def test_the_mapping_sees_the_row_as_normalize_does(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[HistoryRow] = []

    def mapping(row: HistoryRow) -> list[Mapped]:
        seen.append(row)
        return [Mapped(BAR, {"instrument": "X"})]

    monkeypatch.setitem(HISTORY_MAPPINGS, "vendor", mapping)
    mapper = normalize_mapper()
    assert mapper is not None
    json_row = VendorRow("vendor", "ohlcv:1d", "x", b'{"c": 1.5}', 0)
    text_row = VendorRow("vendor", "regsho", "*", b"A|B", 0, content_type="text/plain")
    assert mapper(json_row, 7) == [("bar", {"instrument": "X"})]
    mapper(text_row, 8)
    assert seen == [
        HistoryRow("vendor", "ohlcv:1d", "x", 7, {"c": 1.5}),
        HistoryRow("vendor", "regsho", "*", 8, "A|B"),
    ]
    with pytest.raises(RejectedRecord, match="no history mapping for 'other'"):
        mapper(VendorRow("other", "ohlcv:1d", "x", b"{}", 0), 9)
    with pytest.raises(RejectedRecord) as bad:
        mapper(VendorRow("vendor", "ohlcv:1d", "x", b"{not json", 0), 9)
    assert bad.value.reason == "undecodable_payload"  # normalize's own reason, as it dead-letters


def test_natural_keys_of_each_kind() -> None:
    bar = {"provider": "yahoo", "instrument": "AAPL", "interval": "1d", "source": "yahoo",
           "start_ts": 5, "open": 1.0}  # fmt: skip
    assert target_key("bar", "yahoo", bar) == ("bar", "yahoo", "AAPL", "1d", "yahoo", 5)
    trade = {"venue_instrument": "BTCUSDT", "exchange_ts": 9, "trade_id": 123, "side": "buy"}
    assert target_key("tick", "binance", trade) == ("tick", "binance", "BTCUSDT", "trade", "123", 9)
    volume = {"provider": "finra", "instrument": "BRK-B", "facility": "N", "trade_date": 3}
    assert target_key("short_volume", "finra", volume) == (
        "short_volume", "finra", "BRK-B", "N", 3,
    )  # fmt: skip
    interest = {"provider": "finra", "instrument": "BRK-B", "settlement_date": 4}
    assert target_key("short_interest", "finra", interest) == (
        "short_interest", "finra", "BRK-B", 4,
    )  # fmt: skip
    with pytest.raises(KeyError):
        target_key("bar", "yahoo", {"provider": "yahoo"})
