"""Where a simulated venue stands, kept in a file, so that a restarted ingest finds the venue where
it left it (its sequence, its books, its random streams) instead of starting the market again."""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

from tickwire_ingest.domain.simulator import Simulator

logger = logging.getLogger(__name__)


@dataclass
class VenuePosition:
    simulator: Simulator
    started_wall_s: float  # when the venue started sending, epoch seconds
    updates: int  # updates generated since then
    # Saved while stepping to the raw topic's sequences (sending nothing): a restart steps on.
    # A file written before this field existed reads it as False, the class's default.
    stepping: bool = False


def save(path: Path, position: VenuePosition) -> None:
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_bytes(pickle.dumps(position))
    partial.replace(path)  # whole or not at all: a kill -9 mid-write leaves the last one


def load(path: Path, simulator: Simulator) -> VenuePosition | None:
    """The position saved at `path` if it is of a venue configured as `simulator` is; else None
    (a fresh venue). The file is the service's own, in its own state folder: a pickle is the
    whole simulator, random streams included, in one line."""
    try:
        position = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
        logger.warning("simulator state %s unreadable (%s); the venue starts afresh", path, exc)
        return None
    if not isinstance(position, VenuePosition) or position.simulator.config != simulator.config:
        logger.warning("simulator state %s is of another venue; the venue starts afresh", path)
        return None
    return position
