from tickwire_core.serde import AvroSerde
from tickwire_sink.domain.rows import tick_columns


def test_columns_follow_the_tick_schema_without_the_time_columns() -> None:
    fields = [f["name"] for f in AvroSerde().schema("tick")["fields"]]
    columns = tick_columns(fields)
    assert columns[:3] == ["provider", "instrument", "kind"]
    assert "exchange_ts" not in columns and "received_ts" not in columns
    assert "dedup_key" not in columns  # staged first, from the tick or computed
    assert len(columns) == len(fields) - 3
