"""What became of a backfill's published records: stored, already present, rejected (a dead
letter names the record's position) or still pending. Pure counting; the reads are adapters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Position = tuple[str, int, int]  # topic, partition, offset of a published raw record
Key = tuple[Any, ...]  # a target row's natural key, its kind first: ("bar", provider, ...)


@dataclass(frozen=True)
class Expected:
    """One published raw record and the target rows it is to become. `refused` names the reason
    when the mapping already refuses it here: the pipeline will dead-letter it."""

    position: Position
    keys: tuple[Key, ...]
    refused: str | None = None


@dataclass
class Tally:
    """Counts of one instrument's run. stored, already_present and repeated count target rows;
    published, rejected and pending count raw records."""

    fetched: int = 0
    published: int = 0
    stored: int = 0  # rows that did not exist before the run and exist now
    already_present: int = 0  # rows that existed before the run published them
    repeated: int = 0  # rows the same run had published before (the vendor sent them twice)
    rejected: Counter[str] = field(default_factory=Counter)  # records by dead-letter reason
    pending: int = 0  # records neither stored whole nor dead-lettered (yet)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "published": self.published,
            "stored": self.stored,
            "already_present": self.already_present,
            "repeated": self.repeated,
            "rejected": dict(sorted(self.rejected.items())),
            "pending": self.pending,
        }


class Ledger:
    """The run's record of what it published and which target rows existed before each page
    went out. `new_keys` gives the keys of a page that the run has not published before: those
    are the ones to look up in the tables before the page is published."""

    def __init__(self) -> None:
        self.records: list[Expected] = []
        self.before: set[Key] = set()
        self._seen: set[Key] = set()
        self._repeats: Counter[Key] = Counter()

    def new_keys(self, keys: Iterable[Key]) -> list[Key]:
        fresh = []
        for key in keys:
            if key in self._seen:
                self._repeats[key] += 1
            else:
                self._seen.add(key)
                fresh.append(key)
        return fresh

    def existed(self, keys: Iterable[Key]) -> None:
        self.before.update(keys)

    def published(self, records: Iterable[Expected]) -> None:
        self.records.extend(records)

    def awaited(self) -> list[Key]:
        """Keys still to look for: new to the run and not there before it."""
        return [k for k in self._seen if k not in self.before]

    def positions(self) -> list[Position]:
        return [r.position for r in self.records]

    def tally(
        self, present_now: set[Key], rejects: Mapping[Position, Sequence[str]], fetched: int
    ) -> Tally:
        return settle(self.records, self.before, present_now, rejects, fetched, self._repeats)


def settle(
    records: Sequence[Expected],
    before: set[Key],
    present_now: set[Key],
    rejects: Mapping[Position, Sequence[str]],
    fetched: int,
    repeats: Mapping[Key, int] | None = None,
) -> Tally:
    """A record is dealt with when a dead letter names its position, or when every row it is to
    become exists (and it was not refused). Each row is counted once, by its first record."""
    tally = Tally(fetched=fetched, published=len(records))
    counted: set[Key] = set()
    for record in records:
        reasons = sorted(set(rejects.get(record.position, ())))
        if reasons:
            tally.rejected[reasons[0]] += 1
        missing = False
        for key in record.keys:
            if key in counted:
                continue
            counted.add(key)
            if key in before:
                tally.already_present += 1
            elif key in present_now:
                tally.stored += 1
            else:
                missing = True
        if not reasons and (missing or record.refused is not None):
            tally.pending += 1
    tally.repeated = sum((repeats or {}).values())
    return tally
