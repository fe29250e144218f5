import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tickwire_ingest.adapters.replay_file import GZIP_MAGIC, ReplayFile, ReplayWriter
from tickwire_ingest.domain.events import DISCONNECT, GAP_CONTENT_TYPE, SEQUENCE, Gap, VenueMessage
from tickwire_ingest.domain.replay import RecordedGap, Replayed

T0 = 1_700_000_000_123_456

RECORDED: list[Replayed] = [
    VenueMessage(
        "bookTicker",
        "BTCUSDT",
        b'{"u":400900217,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000"}',
        T0,
        "binance",
    ),
    # Spacing and key order are the venue's: kept byte for byte.
    VenueMessage("ticker", "XBT/USD", b'{ "price" : 1.10,\n "pair": "XBT/USD" }', T0 + 1, "kraken"),
    VenueMessage("quotes", "SIM-€-USD", '{"i":"€ ünïcode"}'.encode(), T0 + 2, "simulator"),
    VenueMessage("depth", "ES", b"\x00\xff\xfe binary", T0 + 3, "ig", "application/x-proto"),
    VenueMessage("ticker", "ETH-USD", b"not json, but text", T0 + 4, "coinbase", "text/plain"),
    RecordedGap(
        "deribit",
        T0 + 5,
        Gap("BTC-PERPETUAL", SEQUENCE, T0, T0 + 5, expected_seq=7, received_seq=9, lost=2),
    ),
    RecordedGap("binance", T0 + 6, Gap("BTCUSDT", DISCONNECT, T0 + 1, T0 + 6, detail="reset")),
]


def write(path: Path, items: Sequence[Replayed], **options: bool) -> None:
    with ReplayWriter(path, **options) as writer:
        for item in items:
            writer.write(item)


def read(path: Path, **options: int) -> tuple[list[Replayed], list[tuple[int, str]]]:
    bad: list[tuple[int, str]] = []
    items = list(ReplayFile(path, lambda number, reason: bad.append((number, reason)), **options))
    return items, bad


@pytest.mark.parametrize("name", ["ticks.jsonl", "ticks.jsonl.gz"])
def test_writer_and_reader_round_trip_plain_and_gzip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write(path, RECORDED)
    assert path.read_bytes().startswith(GZIP_MAGIC) == name.endswith(".gz")
    items, bad = read(path)
    assert items == RECORDED and bad == []


def test_compression_is_told_by_the_magic_bytes_not_the_name(tmp_path: Path) -> None:
    disguised, misnamed = tmp_path / "ticks.jsonl", tmp_path / "ticks.gz"
    write(disguised, RECORDED, compress=True)
    write(misnamed, RECORDED, compress=False)
    assert ReplayFile(disguised).compressed and not ReplayFile(misnamed).compressed
    assert read(disguised)[0] == RECORDED
    assert read(misnamed)[0] == RECORDED


def test_appending_to_a_gzip_file_reads_as_one_stream(tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl.gz"
    write(path, RECORDED[:3])
    write(path, RECORDED[3:], append=True)
    assert read(path)[0] == RECORDED
    assert gzip.decompress(path.read_bytes()).count(b"\n") == len(RECORDED)


def test_lines_are_one_json_object_each_with_the_payload_as_text(tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl"
    write(path, RECORDED[:1] + RECORDED[3:4] + RECORDED[5:6])
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert lines[0] == {
        "provider": "binance",
        "feed": "bookTicker",
        "instrument": "BTCUSDT",
        "received_ts": T0,
        "payload": '{"u":400900217,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000"}',
    }
    assert lines[1]["payload_b64"] == "AP/+IGJpbmFyeQ=="
    assert lines[1]["content_type"] == "application/x-proto"
    assert lines[2]["feed"] == "gap" and lines[2]["content_type"] == GAP_CONTENT_TYPE


def test_hand_written_lines_accept_json_values_and_rfc3339_times(tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl"
    path.write_text(
        '{"provider":"binance","feed":"aggTrade","instrument":"BTCUSDT",'
        '"received_ts":"2023-11-14T22:13:20.123456Z","payload":{"e":"aggTrade", "p": "1.5"}}\n'
        '{"provider":"kraken","feed":"trade","instrument":"XBT/USD",'
        '"received_ts":"2023-11-14T23:13:20.5+01:00","payload":[1, "x", null]}\n'
    )
    items, bad = read(path)
    assert bad == []
    assert items == [
        VenueMessage(
            "aggTrade", "BTCUSDT", b'{"e":"aggTrade","p":"1.5"}', 1_700_000_000_123_456, "binance"
        ),
        VenueMessage("trade", "XBT/USD", b'[1,"x",null]', 1_700_000_000_500_000, "kraken"),
    ]


def test_bad_lines_are_reported_with_their_number_and_skipped(tmp_path: Path) -> None:
    good = '{"provider":"p","feed":"f","instrument":"I","received_ts":%d,"payload":"{}"}'
    lines = [
        good % 1,
        "not json at all",
        "[1, 2]",
        '{"feed":"f","instrument":"I","received_ts":1,"payload":"{}"}',
        '{"provider":"p","feed":"f","instrument":"I","received_ts":"yesterday","payload":"{}"}',
        '{"provider":"p","feed":"f","instrument":"I","received_ts":true,"payload":"{}"}',
        '{"provider":"p","feed":"f","instrument":"I","received_ts":1}',
        '{"provider":"p","feed":"f","instrument":"I","received_ts":1,"payload_b64":"%%%"}',
        '{"provider":"p","feed":"f","instrument":"I","received_ts":1,"payload":"{}",'
        '"payload_b64":"e30="}',
        '{"provider":"p","feed":"gap","instrument":"I","received_ts":1,"payload":"{}",'
        f'"content_type":"{GAP_CONTENT_TYPE}"}}',
        "",  # blank lines are not records, and not errors either
        good % 2,
        "x" * 300,
        good % 3,
    ]
    path = tmp_path / "ticks.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe{}\n" + (good % 4).encode())
    items, bad = read(path, max_line_bytes=200)
    assert [item.received_ts for item in items] == [1, 2, 3, 4]
    assert [number for number, _ in bad] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 15]
    reasons = dict(bad)
    assert reasons[2].startswith("not JSON")
    assert reasons[3] == "not a JSON object"
    assert "provider" in reasons[4]
    assert "RFC 3339" in reasons[5] and "received_ts" in reasons[6]
    assert reasons[7] == "no payload"
    assert "base64" in reasons[8] and "both" in reasons[9]
    assert "gap event" in reasons[10]
    assert reasons[13] == "longer than 200 bytes"
    assert reasons[15] == "not UTF-8"


def test_a_gzip_file_cut_short_yields_what_it_holds_then_reports_once(tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl.gz"
    many = [
        VenueMessage("f", "I", b'{"n":%d}' % i, T0 + i, "p") for i in range(5000)
    ]  # a few compressed blocks, so a cut leaves whole lines before it
    write(path, many)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    items, bad = read(path)
    assert 0 < len(items) < len(many)
    assert items == many[: len(items)]
    assert len(bad) == 1 and bad[0][0] == len(items) + 1
    assert "cannot be read" in bad[0][1]


def test_counts_of_lines_and_bad_lines_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl"
    write(path, RECORDED)
    with path.open("a") as f:
        f.write("garbage\n")
    replay = ReplayFile(path, lambda number, reason: None)
    assert len(list(replay)) == len(RECORDED)
    assert (replay.lines, replay.bad_lines) == (len(RECORDED) + 1, 1)


def test_the_default_report_is_a_warning_naming_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ticks.jsonl"
    path.write_text("{}\n")
    assert list(ReplayFile(path)) == []
    assert [r.getMessage() for r in caplog.records] == [
        f"replay file {path} line 1 skipped: provider is missing or not a non-empty string"
    ]


def test_a_message_without_a_provider_cannot_be_written(tmp_path: Path) -> None:
    with ReplayWriter(tmp_path / "x.jsonl") as writer, pytest.raises(ValueError, match="provider"):
        writer.write(VenueMessage("f", "I", b"{}", T0))
