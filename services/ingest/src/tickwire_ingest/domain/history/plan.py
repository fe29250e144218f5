"""What a backfill will fetch, decided before anything is fetched: per instrument (or one grouped
request) the dataset and the range [since, until), from the options and the stored watermarks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

INTERVALS = ("1d", "1h", "5m", "1m")
DEFAULT_INTERVAL = "1d"
TRADES = "trades"
ALL = "*"  # a grouped request for everything the vendor has


class PlanError(ValueError):
    """Options that cannot make a plan (the message says which and why)."""


@dataclass(frozen=True)
class Step:
    """One request to make: the dataset of one instrument (or of a group) over [since, until).
    `watermark` is what was stored before this run (None: never fetched); `since >= until`
    means there is nothing new to fetch."""

    source: str
    dataset: str
    instrument: str
    since: int  # UTC µs, inclusive
    until: int  # UTC µs, exclusive
    watermark: int | None

    @property
    def up_to_date(self) -> bool:
        return self.since >= self.until


def parse_time(value: str, option: str) -> int:
    """A command-line time as UTC µs: a date (2024-01-31, its midnight UTC) or an ISO 8601
    date-time (without an offset it is UTC)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise PlanError(f"{option} {value!r}: not a date (2024-01-31) or date-time") from None
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def choose_dataset(source: str, datasets: Sequence[str], interval: str | None, trades: bool) -> str:
    """The dataset the options name: trades, ohlcv:<interval>, or a source's only dataset."""
    if trades:
        wanted = TRADES
    elif interval is None and len(datasets) == 1:
        return datasets[0]
    else:
        wanted = f"ohlcv:{interval or DEFAULT_INTERVAL}"
    if wanted not in datasets:
        raise PlanError(f"{source} does not serve {wanted}; it serves {', '.join(datasets)}")
    return wanted


def group_name(instruments: Sequence[str]) -> str:
    """The instrument of a grouped request: `*` for all, else the sorted names comma-joined (so
    the same set always finds the same watermark)."""
    names = sorted(set(instruments))
    return ALL if not names or ALL in names else ",".join(names)


def make_plan(
    *,
    source: str,
    grouped: bool,
    dataset: str,
    instruments: Sequence[str],
    since: int | None,
    until: int | None,
    now: int,
    earliest: int,
    watermarks: Mapping[str, int],
    restart: bool = False,
) -> list[Step]:
    """start = max(since or the vendor's earliest, stored watermark), unless `restart`;
    until = min(until, now). A watermark never moves a start back: it only says what is done."""
    end = now if until is None else min(until, now)
    first = earliest if since is None else since
    names = [group_name(instruments)] if grouped else list(dict.fromkeys(instruments))
    if not names:
        raise PlanError("no instruments to backfill")
    steps = []
    for name in names:
        mark = watermarks.get(name)
        start = first if restart or mark is None else max(first, mark)
        steps.append(Step(source, dataset, name, start, end, mark))
    return steps


def read_instruments(text: str) -> list[str]:
    """Instrument names from a list: comma or line separated, `#` starts a comment."""
    names = []
    for line in text.splitlines():
        for name in line.split("#", 1)[0].split(","):
            if name.strip():
                names.append(name.strip())
    return names
