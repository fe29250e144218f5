"""Replay files as data: one recorded raw message per JSON line (format in docs/replay.md), and the
pacing that plays them back at recorded speed, a multiple of it, or as fast as possible."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from tickwire_ingest.domain.events import GAP_CONTENT_TYPE, GAP_FEED, Gap, VenueMessage

JSON = "application/json"
BINARY = "application/octet-stream"  # the content type a payload_b64 line defaults to

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))",
    re.ASCII,
)
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


class BadLine(ValueError):
    """A line that is not a replay record; the message says why."""


@dataclass(frozen=True, slots=True)
class RecordedGap:
    """A gap event found in a replay file: replayed as a gap, not as a venue message."""

    provider: str
    received_ts: int
    gap: Gap


Replayed = VenueMessage | RecordedGap


def parse_line(line: bytes) -> Replayed:
    """One line of a replay file (without or with its newline) -> what it recorded. The result
    keeps the received_ts it was recorded with, not the time of the replay: that is what lets a
    replay reproduce an incident tick for tick and load history with its true times."""
    try:
        record = json.loads(line.decode())
    except UnicodeDecodeError:
        raise BadLine("not UTF-8") from None
    except ValueError as exc:
        raise BadLine(f"not JSON: {exc}") from None
    except RecursionError:
        raise BadLine("JSON nested too deeply") from None
    if not isinstance(record, dict):
        raise BadLine("not a JSON object")
    provider = _text(record, "provider")
    feed = _text(record, "feed")
    instrument = _text(record, "instrument")
    received_ts = parse_timestamp(record.get("received_ts"))
    payload = _payload(record)
    content_type = record.get("content_type", BINARY if "payload_b64" in record else JSON)
    if not isinstance(content_type, str) or not content_type:
        raise BadLine("content_type is not a non-empty string")
    _utf8(content_type, "content_type")
    if content_type == GAP_CONTENT_TYPE:
        return RecordedGap(provider, received_ts, _gap(payload, instrument))
    return VenueMessage(feed, instrument, payload, received_ts, provider, content_type)


def format_line(item: Replayed) -> bytes:
    """The replay-file line of a message or gap, newline included. Payloads that are UTF-8 are
    written as a JSON string holding their exact text, anything else as base64."""
    if isinstance(item, RecordedGap):
        message = VenueMessage(
            GAP_FEED,
            item.gap.instrument,
            item.gap.payload(),
            item.received_ts,
            item.provider,
            GAP_CONTENT_TYPE,
        )
    else:
        message = item
    if not message.provider:
        raise ValueError(f"message of {message.instrument!r} names no provider")
    record: dict[str, Any] = {
        "provider": message.provider,
        "feed": message.feed,
        "instrument": message.instrument,
        "received_ts": message.received_ts,
    }
    try:
        text: str | None = message.payload.decode()
    except UnicodeDecodeError:
        text = None
    if message.content_type != (JSON if text is not None else BINARY):
        record["content_type"] = message.content_type
    if text is not None:
        record["payload"] = text
    else:
        record["payload_b64"] = base64.b64encode(message.payload).decode("ascii")
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def parse_timestamp(value: object) -> int:
    """UTC microseconds from an integer, or from an RFC 3339 string with its offset (digits
    beyond microseconds are cut off, as the pipeline carries microseconds)."""
    if _is_int(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise BadLine(f"received_ts {value} is beyond a 64-bit integer")
    if not isinstance(value, str):
        raise BadLine("received_ts is neither integer microseconds nor an RFC 3339 string")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise BadLine(f"received_ts {value!r} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, off_h, off_m = match.groups()[6:]
    try:
        moment = datetime(year, month, day, hour, minute, second)  # validates the calendar
    except ValueError as exc:
        raise BadLine(f"received_ts {value!r}: {exc}") from None
    if not zulu and (int(off_h) > 23 or int(off_m) > 59):
        raise BadLine(f"received_ts {value!r}: offset out of range")
    offset_s = 0 if zulu else (1 if sign == "+" else -1) * (int(off_h) * 3600 + int(off_m) * 60)
    days = moment.toordinal() - _EPOCH_ORDINAL
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s
    micros = int((fraction or "").ljust(6, "0")[:6])
    return seconds * 1_000_000 + micros


@dataclass
class Pacer:
    """How long to wait before each record so that records come out at `speed` times the pace
    they were received at (0 = no waiting). The schedule is anchored at the first record and the
    clock reading it was asked with, so waiting too long once (a slow sink) is caught up rather
    than added to every later record. A record stamped earlier than one before it (recorded time
    going backwards, e.g. partitions merged into one file) is due at once: never a negative wait.
    Clock readings are microseconds of any clock that does not jump (time.monotonic)."""

    speed: float = 1.0
    _anchor: tuple[int, int] | None = None  # (received_ts, clock) of the first record

    def __post_init__(self) -> None:
        if not (self.speed >= 0 and math.isfinite(self.speed)):
            raise ValueError(f"replay speed {self.speed!r} must be a finite number >= 0")

    def wait_us(self, received_ts: int, now_us: int) -> int:
        """Microseconds to wait, from `now_us`, before sending the record of `received_ts`."""
        if self._anchor is None:
            self._anchor = (received_ts, now_us)
            return 0
        if self.speed == 0:
            return 0
        first_ts, started = self._anchor
        due = started + math.ceil((received_ts - first_ts) / self.speed)
        return max(0, due - now_us)


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value:
        raise BadLine(f"{name} is missing or not a non-empty string")
    _utf8(value, name)
    return value


def _payload(record: dict[str, Any]) -> bytes:
    if "payload" in record and "payload_b64" in record:
        raise BadLine("both payload and payload_b64")
    if "payload_b64" in record:
        encoded = record["payload_b64"]
        if not isinstance(encoded, str):
            raise BadLine("payload_b64 is not a string")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadLine(f"payload_b64 is not base64: {exc}") from None
    if "payload" not in record or record["payload"] is None:
        raise BadLine("no payload")
    payload = record["payload"]
    if isinstance(payload, str):
        return _utf8(payload, "payload")
    # A JSON value written inline (by hand, or by a tool that parsed the message): compact form.
    return _utf8(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), "payload")


def _utf8(text: str, name: str) -> bytes:
    # JSON escapes can spell lone surrogates ("\ud800"), which no UTF-8 text can hold.
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise BadLine(f"{name} holds an unpaired surrogate escape, not text") from None


def _gap(payload: bytes, instrument: str) -> Gap:
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise BadLine(f"gap event is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadLine("gap event is not a JSON object")
    start, end = body.get("start_ts"), body.get("end_ts")
    if not (_is_int(start) and _is_int(end) and end >= start):
        raise BadLine("gap event without a start_ts <= end_ts in integer microseconds")
    expected, received, lost = (body.get(k) for k in ("expected_seq", "received_seq", "lost"))
    if not (_int_or_none(expected) and _int_or_none(received) and _int_or_none(lost)):
        raise BadLine("gap event with a non-integer expected_seq, received_seq or lost")
    reason, detail = body.get("reason"), body.get("detail", "")
    gap_instrument = body.get("instrument") or instrument
    if not (
        isinstance(reason, str) and isinstance(detail, str) and isinstance(gap_instrument, str)
    ):
        raise BadLine("gap event whose reason, detail or instrument is not a string")
    _utf8(gap_instrument, "gap instrument")
    return Gap(
        instrument=gap_instrument,
        reason=reason,
        start_ts=start,
        end_ts=end,
        expected_seq=expected,
        received_seq=received,
        lost=lost,
        detail=detail,
    )


def _is_int(value: object) -> TypeGuard[int]:
    """An integer that fits the records' 64-bit fields (JSON integers have no limit)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _int_or_none(value: object) -> TypeGuard[int | None]:
    return value is None or _is_int(value)
