"""The query of derived records refuses filters that are not exactly the table's own, so a route
cannot drop one of its parameters unnoticed (it fails before any database is asked)."""

import pytest

from tickwire_api.adapters.events import ANOMALIES, SIGNALS, EventTable, newest


@pytest.mark.parametrize(
    ("table", "filters"),
    [
        (ANOMALIES, {"rule": "zscore"}),
        (ANOMALIES, {"severity": None, "rule": None, "name": None}),
        (SIGNALS, {"severity": "critical", "rule": None}),
    ],
)
def test_filters_other_than_the_tables_own_are_refused(
    table: EventTable, filters: dict[str, str | None]
) -> None:
    with pytest.raises(ValueError, match=f"{table.name} filters by"):
        newest(
            None,  # type: ignore[arg-type]
            table,
            instrument=None,
            provider=None,
            filters=filters,
            start=None,
            end=None,
            limit=1,
        )
