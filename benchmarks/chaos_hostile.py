"""Hostile raw records for the chaos run: what a broken or malicious feed could put on the raw
topic, each one normalize must refuse with a reason. Pure: the same seed, the same records."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tickwire_normalize.domain.validate import MAX_NAME_BYTES

# Their ingest identity: no ingest instance of the run is called this, so a stored tick carrying
# it can only come from a hostile record.
INSTANCE = "hostile"
_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class Hostile:
    seq: int  # its ingest_seq, 1 upwards: names the record in a failed check
    kind: str
    instrument: str
    value: dict[str, Any] | bytes  # a raw_tick record, or bytes that are no Avro record at all


def _quote(instrument: str, exchange_ts: int, number: int, **override: Any) -> dict[str, Any]:
    body = {
        "type": "quote",
        "instrument": instrument,
        "ts": exchange_ts,
        "seq": number,
        "bid": "100.00",
        "bid_size": "1.5",
        "ask": "100.02",
        "ask_size": "2.0",
    }
    body.update(override)
    return body


def _trade(instrument: str, exchange_ts: int, number: int, **override: Any) -> dict[str, Any]:
    body = {
        "type": "trade",
        "instrument": instrument,
        "ts": exchange_ts,
        "seq": number,
        "trade_id": f"{instrument}-{number}",
        "price": "100.01",
        "size": "0.5",
        "side": "buy",
    }
    body.update(override)
    return body


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def _too_long(r: random.Random) -> str:
    # From just past normalize's limit to 4 kB: the longer ones are past what an index row of the
    # sink's tables can hold (about 2.7 kB of letters), which is what that limit guards.
    return "".join(r.choices(string.ascii_letters, k=r.randrange(MAX_NAME_BYTES + 1, 4_096)))


def _name_too_long(r: random.Random, i: str, t: int, s: int) -> bytes:
    # On the quotes feed like the rest: normalize's live path does not read the feed.
    if r.random() < 0.5:
        return _json(_quote(_too_long(r), t, s))
    return _json(_trade(i, t, s, trade_id=_too_long(r)))


# kind -> payload(rng, instrument, now_us, seq); each would pass were it not for its one defect.
_Payload = Callable[[random.Random, str, int, int], bytes]
PAYLOADS: dict[str, _Payload] = {
    "malformed JSON": lambda r, i, t, s: b'{"type": "quote", "instrument": ' + i.encode() + b",}",
    "truncated JSON": lambda r, i, t, s: (full := _json(_quote(i, t, s)))[
        : r.randrange(1, len(full) - 1)
    ],
    "wrong types": lambda r, i, t, s: _json(
        _quote(
            i, t, s, **r.choice([{"bid": [1]}, {"ts": "noon"}, {"seq": {"n": 1}}, {"ask": True}])
        )
    ),
    "NaN": lambda r, i, t, s: _json(_quote(i, t, s, bid=float("nan"))),
    "infinity": lambda r, i, t, s: _json(_quote(i, t, s, ask=r.choice(["inf", float("-inf")]))),
    "negative size": lambda r, i, t, s: _json(_quote(i, t, s, ask_size="-3")),
    "crossed book": lambda r, i, t, s: _json(_quote(i, t, s, bid="101.00", ask="99.00")),
    "far past": lambda r, i, t, s: _json(_quote(i, t - 400 * _DAY_US, s)),
    "far future": lambda r, i, t, s: _json(_quote(i, t + 30 * _DAY_US, s)),
    # 300 kB: far above any venue message, yet under the broker's 1 MB record limit.
    "huge frame": lambda r, i, t, s: b"[" + b"0," * 150_000 + b"0]",
    "deep nesting": lambda r, i, t, s: b"[" * 50_000 + b"]" * 50_000,
    "unicode edge": lambda r, i, t, s: r.choice(
        [
            b"\xef\xbb\xbf\xff\xfe" + _json(_quote(i, t, s)),  # a BOM, then bytes no UTF-8 has
            _json(_quote(i, t, s))[:-1] + b', "x": "\xc0\xaf"}',  # an overlong '/'
            '{"type": "quote\u202e", "instrument": "\u0000"}'.encode(),  # RTL override, NUL
        ]
    ),
    "unknown provider": lambda r, i, t, s: _json(_quote(i, t, s)),
    "name too long": _name_too_long,  # an instrument or a trade id
    "garbage in a valid envelope": lambda r, i, t, s: r.randbytes(r.randrange(1, 512)),
    "not a record": lambda r, i, t, s: b"",  # no Avro at all: the value itself is garbage
}
KINDS = tuple(PAYLOADS)


def hostile_records(seed: int, count: int, now_us: int, instruments: list[str]) -> list[Hostile]:
    """`count` records, the kinds in turn, about the run's own instruments (so they share the
    partitions of real ticks) at receipt time `now_us`."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        instrument = instruments[n % len(instruments)]
        seq = n + 1
        payload = PAYLOADS[kind](rng, instrument, now_us, seq)
        value: dict[str, Any] | bytes
        if kind == "not a record":
            value = rng.randbytes(rng.randrange(1, 64)) + b"\x00\xff"
        else:
            value = {
                "provider": "nowhere-exchange" if kind == "unknown provider" else "simulator",
                "feed": "quotes",
                "ingest_instance": INSTANCE,
                "instrument": instrument,
                "received_ts": now_us,
                "ingest_seq": seq,
                "content_type": "application/json",
                "payload": payload,
                "history": False,
            }
        out.append(Hostile(seq, kind, instrument, value))
    return out
