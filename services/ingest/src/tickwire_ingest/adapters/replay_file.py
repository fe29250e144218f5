"""Replay files on disk: streamed line by line (plain or gzip, told apart by the magic bytes) into
venue messages and gap events, and written, so recordings and test fixtures can be made."""

from __future__ import annotations

import gzip
import io
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import cast

from tickwire_ingest.domain.replay import BadLine, Replayed, format_line, parse_line

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
_SKIP_CHUNK = 1 << 20

BadLineHandler = Callable[[int, str], None]  # (line number from 1, reason)


class ReplayFile:
    """Each iteration opens the file afresh and streams it: memory stays the same whatever the
    file's size. Bad lines go to `on_bad_line` (default: a warning in the log) and are skipped; a
    compressed stream that is corrupt or cut short is reported once and ends the iteration, since
    nothing after that point can be read. Blank lines are skipped silently."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        on_bad_line: BadLineHandler | None = None,
        *,
        max_line_bytes: int = 16 << 20,
    ) -> None:
        self.path = Path(path)
        self.on_bad_line = on_bad_line or self._log_bad_line
        # A file without newlines (a wrong file, a binary) must not be read into memory whole.
        self.max_line_bytes = max_line_bytes
        self.lines = 0  # lines read so far, bad ones included
        self.bad_lines = 0
        self.position = 0  # bytes of the file (compressed, if it is) read so far: for progress

    @property
    def compressed(self) -> bool:
        with self.path.open("rb") as raw:
            return raw.read(2) == GZIP_MAGIC

    def __iter__(self) -> Iterator[Replayed]:
        with _open(self.path, "rb", compress=self.compressed) as stream:
            number = 0
            while True:
                try:
                    line = stream.readline(self.max_line_bytes + 1)
                    self.position = _position(stream)
                    too_long = len(line) > self.max_line_bytes and not line.endswith(b"\n")
                    if too_long:
                        _skip_rest_of_line(stream)
                except (EOFError, OSError, zlib.error) as exc:
                    self._bad(number + 1, f"the file cannot be read from here on: {exc}")
                    return
                if not line:
                    return
                number += 1
                self.lines += 1
                if too_long:
                    self._bad(number, f"longer than {self.max_line_bytes} bytes")
                    continue
                if number == 1 and line.startswith(_UTF8_BOM):
                    line = line[len(_UTF8_BOM) :]
                if not line.strip():
                    continue
                try:
                    item = parse_line(line)
                except BadLine as exc:
                    self._bad(number, str(exc))
                    continue
                yield item

    def _bad(self, number: int, reason: str) -> None:
        self.bad_lines += 1
        self.on_bad_line(number, reason)

    def _log_bad_line(self, number: int, reason: str) -> None:
        logger.warning("replay file %s line %d skipped: %s", self.path, number, reason)


class ReplayWriter:
    """Writes replay lines, gzip-compressed when asked to or when the name ends in .gz. Use it as a
    context manager: a gzip file is complete only once closed. Appending to a gzip file adds a
    member, which readers (this one, zcat) read as one stream."""

    def __init__(
        self, path: str | os.PathLike[str], *, compress: bool | None = None, append: bool = False
    ) -> None:
        self.path = Path(path)
        if compress is None:
            compress = self.path.suffix == ".gz"
        self._stream = _open(self.path, "ab" if append else "wb", compress=compress)
        self.written = 0

    def write(self, item: Replayed) -> None:
        self._stream.write(format_line(item))
        self.written += 1

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> ReplayWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _open(path: Path, mode: str, *, compress: bool) -> io.BufferedIOBase:
    if compress:
        return gzip.GzipFile(path, mode, compresslevel=6)
    raw = io.FileIO(path, mode[0])
    return io.BufferedReader(raw) if mode[0] == "r" else io.BufferedWriter(raw)


def _position(stream: io.BufferedIOBase) -> int:
    # A gzip stream's own position counts uncompressed bytes; the file's size does not.
    if isinstance(stream, gzip.GzipFile):
        return cast(io.IOBase, stream.fileobj).tell()
    return stream.tell()


def _skip_rest_of_line(stream: io.BufferedIOBase) -> None:
    while True:
        chunk = stream.readline(_SKIP_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return
