"""python -m tickwire_sink: ticks from Kafka into TimescaleDB, idempotently."""

from tickwire_core.service import main
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings

raise SystemExit(main("sink", SinkSettings, bootstrap))
