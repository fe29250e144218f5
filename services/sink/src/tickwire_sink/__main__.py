"""python -m tickwire_sink: ticks from Kafka into TimescaleDB, idempotently. The sink applies the
schema migrations at start-up; `tickwire migrate` applies them ahead of it (a deploy's job)."""

import sys

from tickwire_core.service import main
from tickwire_sink.app import bootstrap
from tickwire_sink.settings import SinkSettings

if sys.argv[1:]:
    # An argument is a mistake (a job still running `... migrate`), never a reason to start.
    print(
        f"usage: python -m tickwire_sink (no arguments); got {' '.join(sys.argv[1:])}; "
        "migrations alone: tickwire migrate",
        file=sys.stderr,
    )
    raise SystemExit(2)
raise SystemExit(main("sink", SinkSettings, bootstrap))
