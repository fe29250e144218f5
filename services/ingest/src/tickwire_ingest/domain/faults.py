"""The simulator's fault model: which kinds of bad data it injects, at which rates, and how many
of each it injected, so every downstream defence can be exercised on demand, deterministically."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, fields
from typing import Any

CROSSED = "crossed"  # a quote whose bid is above its ask
SPIKE = "spike"  # one update priced off the mid times `spike_factor` (or a drawn size)
DUPLICATE = "duplicate"  # the same message sent twice in a row
OUT_OF_ORDER = "out_of_order"  # held back and sent after the instrument's next message
MALFORMED = "malformed"  # truncated JSON, or a price field of the wrong JSON type
SILENCE = "silence"  # the instrument sends nothing for `silence_s` of simulated time
GAP = "gap"  # the instrument's sequence number skips `gap_size` numbers: messages lost
# The instrument's feed disconnects for `jump_s` (a gap event of reason disconnect) and its price
# comes back moved by one of `jump_sizes`: a real move across a gap, which is no bad tick.
JUMP = "jump"

KINDS = (CROSSED, SPIKE, DUPLICATE, OUT_OF_ORDER, MALFORMED, SILENCE, GAP, JUMP)


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities per message (0 = never). `crossed` applies to quotes only, since a trade has
    no bid and ask; the other kinds apply to every update of an instrument."""

    crossed: float = 0.0
    spike: float = 0.0
    spike_factor: float = 1.2
    # Where given, each spike instead displaces the mid by one of these log sizes, drawn with a
    # random sign: spikes of several sizes in one run, each labelled with its own.
    spike_sizes: tuple[float, ...] = ()
    duplicate: float = 0.0
    out_of_order: float = 0.0
    malformed: float = 0.0
    silence: float = 0.0
    silence_s: float = 5.0
    # Where > 0, a silence lasts this many of the venue's updates instead of silence_s of exchange
    # time: two instances of one seed, each on its own clock, then fall silent and speak again at
    # the same update, so they stay copies of each other (a primary and its replica).
    silence_updates: int = 0
    gap: float = 0.0
    gap_size: int = 10
    jump: float = 0.0
    jump_sizes: tuple[float, ...] = (0.01,)  # log moves, each drawn with a random sign
    jump_s: float = 2.0
    jump_updates: int = 0  # where > 0, the disconnect's length in updates, as silence_updates

    def __post_init__(self) -> None:
        for kind in KINDS:
            rate = getattr(self, kind)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {kind}={rate!r} is not a probability in [0, 1]")
        if not (self.spike_factor > 0 and math.isfinite(self.spike_factor)):
            raise ValueError(f"spike_factor={self.spike_factor!r} must be a positive number")
        for name in ("spike_sizes", "jump_sizes"):
            sizes = getattr(self, name)
            if not all(size > 0 and math.isfinite(size) for size in sizes):
                raise ValueError(f"{name}={sizes!r} must be positive numbers")
        if not self.jump_sizes:
            raise ValueError("jump_sizes must name at least one size")
        for name in ("silence_s", "jump_s"):
            length = getattr(self, name)
            if not (length >= 0 and math.isfinite(length)):
                raise ValueError(f"{name}={length!r} must be a non-negative number")
        for name in ("silence_updates", "jump_updates"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must not be negative")
        if self.gap_size < 1:
            raise ValueError(f"gap_size={self.gap_size!r} must skip at least one message")

    @property
    def enabled(self) -> bool:
        return any(getattr(self, kind) > 0 for kind in KINDS)


@dataclass
class FaultCounts:
    """Faults injected so far, by kind (what a service exposes as a counter labelled by kind)."""

    crossed: int = 0
    spike: int = 0
    duplicate: int = 0
    out_of_order: int = 0
    malformed: int = 0
    silence: int = 0
    gap: int = 0
    jump: int = 0

    def add(self, kind: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())


class FaultDice:
    """Decides which faults hit, on a random stream of its own: the market the simulator draws
    stays the same whatever the fault rates, so a faulty run differs from a clean one only where a
    fault was injected. Only enabled kinds draw, so zero rates cost nothing."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self.rng = random.Random(f"tickwire-faults-{seed}")

    def hits(self, kind: str) -> bool:
        rate: float = getattr(self.config, kind)
        return rate > 0 and self.rng.random() < rate


def spike_displacement(config: FaultConfig, rng: random.Random) -> float:
    """The log displacement of one spike: the configured factor's, or a drawn size and sign."""
    if not config.spike_sizes:
        return math.log(config.spike_factor)
    return rng.choice(config.spike_sizes) * rng.choice((-1.0, 1.0))


def jump_move(config: FaultConfig, rng: random.Random) -> float:
    """The log move of the price across one injected disconnect: a drawn size and sign."""
    return rng.choice(config.jump_sizes) * rng.choice((-1.0, 1.0))


def parse_spike_sizes_bps(spec: str, what: str = "spike") -> tuple[float, ...]:
    """'12,20,40' (basis points) -> log displacements (0.0012, 0.002, 0.004); '' -> ()."""
    sizes = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        try:
            bps = float(item)
        except ValueError:
            raise ValueError(f"{what} size {item!r} is not a number of basis points") from None
        if not (bps > 0 and math.isfinite(bps)):
            raise ValueError(f"{what} size {item!r} must be a positive number of basis points")
        sizes.append(bps / 1e4)
    return tuple(sizes)


def cross(body: dict[str, Any]) -> None:
    """Swap the quote's prices (sizes stay with their sides): the bid ends above the ask."""
    body["bid"], body["ask"] = body["ask"], body["bid"]


def malform(body: dict[str, Any], payload: bytes, rng: random.Random) -> bytes:
    """Half the time a frame cut short (no proper prefix of a JSON object is valid JSON), half the
    time valid JSON whose price is an array, which a decoder must reject rather than coerce."""
    if rng.random() < 0.5:
        return payload[: rng.randrange(1, len(payload))]
    price_field = "bid" if body.get("type") == "quote" else "price"
    wrong = {**body, price_field: [body[price_field]]}
    return json.dumps(wrong, separators=(",", ":")).encode()
