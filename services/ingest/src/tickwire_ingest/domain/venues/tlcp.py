"""Lightstreamer's TLCP text protocol, the parts a WebSocket MERGE client needs: request
encoding, notification lines, and the delta-encoded field values of real-time updates."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote, unquote

CR_LF = "\r\n"

# Arguments per notification tag; the last one may itself contain commas.
ARGUMENTS = {
    "CONOK": 4,
    "CONERR": 2,
    "END": 2,
    "LOOP": 1,
    "PROBE": 0,
    "WSOK": 0,
    "SYNC": 1,
    "CONS": 1,
    "SERVNAME": 1,
    "CLIENTIP": 1,
    "NOOP": 1,
    "PROG": 1,
    "REQOK": 1,
    "REQERR": 3,
    "ERROR": 2,
    "SUBOK": 3,
    "SUBCMD": 5,
    "UNSUB": 1,
    "CONF": 3,
    "EOS": 2,
    "CS": 2,
    "OV": 3,
    "U": 3,
    "MSGDONE": 3,
    "MSGFAIL": 4,
}

_LINE_BREAK = re.compile(r"\r?\n")
_DIGITS = re.compile(r"[0-9]{1,18}")


class TlcpError(ValueError):
    """A line or value that does not follow the protocol."""


def request(name: str, params: Mapping[str, str] | None = None) -> str:
    """One request, to be sent as one WebSocket text message. Without params (wsok) the
    parameter line is left out altogether, as the protocol asks."""
    if params is None:
        return name
    line = "&".join(f"{key}={encode(value)}" for key, value in params.items())
    return f"{name}{CR_LF}{line}"


def encode(value: str) -> str:
    """Percent-encodes a parameter value. TLCP only requires CR, LF, &, =, % and + to be
    encoded but accepts any UTF-8 percent-encoding; ':' stays readable in item names."""
    return quote(value, safe=":")


def lines(frame: str) -> list[str]:
    """The notification lines of one WebSocket message (CR-LF separated; blank lines dropped)."""
    return [line for line in _LINE_BREAK.split(frame) if line]


def parse(line: str) -> tuple[str, list[str]]:
    """(tag, arguments) of a known tag with exactly its number of arguments; the arguments are
    left encoded, since numeric ones and the value list of `U` must not be percent-decoded."""
    tag, _, rest = line.partition(",")
    count = ARGUMENTS.get(tag)
    if count is None:
        raise TlcpError(f"unknown tag {tag[:16]!r}")
    if count == 0:
        if rest or "," in line:
            raise TlcpError(f"{tag} takes no arguments")
        return tag, []
    if "," not in line:
        raise TlcpError(f"{tag} without arguments")
    arguments = rest.split(",", count - 1)
    if len(arguments) != count:
        raise TlcpError(f"{tag} needs {count} arguments, got {len(arguments)}")
    return tag, arguments


def number(text: str) -> int:
    """A non-negative decimal argument (ASCII digits only)."""
    if not _DIGITS.fullmatch(text):
        raise TlcpError(f"not a number: {text[:16]!r}")
    return int(text)


def text_argument(text: str) -> str:
    """A non-numeric argument, percent-decoded."""
    return unquote(text, errors="replace")


def decode_values(
    encoded: str, previous: Sequence[str | None] | None, width: int
) -> list[str | None]:
    """The full field values of an item from the value list of a `U` line and the item's
    previous values (None before its first update). Each `|`-separated token is: empty for
    unchanged, `#` for null, `$` for the empty string, `^N` for N unchanged fields, or actual
    content, percent-encoded. Diff tokens (`^` then a letter) are not part of the subset."""
    values: list[str | None] = []
    for token in encoded.split("|"):
        if len(values) >= width:
            raise TlcpError(f"more values than the {width} fields")
        if token == "":
            values.append(_unchanged(previous, len(values)))
        elif token == "#":
            values.append(None)
        elif token == "$":
            values.append("")
        elif token.startswith("^"):
            if token[1:2].isalpha():
                raise TlcpError(f"diff-encoded value ({token[:2]}) is not supported")
            count = number(token[1:])
            if count < 1 or len(values) + count > width:
                raise TlcpError(f"{token[:16]} skips past the {width} fields")
            start = len(values)
            values.extend([_unchanged(previous, start + i) for i in range(count)])
        else:
            try:
                values.append(unquote(token, errors="strict"))
            except UnicodeDecodeError as exc:
                raise TlcpError(f"bad percent-encoding in {token[:16]!r}") from exc
    if len(values) != width:
        raise TlcpError(f"{len(values)} values for {width} fields")
    return values


def _unchanged(previous: Sequence[str | None] | None, index: int) -> str | None:
    if previous is None:
        raise TlcpError("an unchanged value before the item's first update")
    return previous[index]
