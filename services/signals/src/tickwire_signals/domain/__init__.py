"""The pure signals domain: normalized ticks (dicts of schemas/tick.avsc) in; anomaly, bar and
signal records (dicts of their schemas) out, through a per-instrument state. No I/O here."""

from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.domain.records import Emitted
from tickwire_signals.domain.state import InstrumentState

__all__ = ["Emitted", "InstrumentState", "SignalEngine", "SignalsConfig"]
