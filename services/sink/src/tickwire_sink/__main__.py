"""python -m tickwire_sink: ticks from Kafka into TimescaleDB, idempotently.
python -m tickwire_sink migrate: apply the schema migrations and exit (a deploy's migration job;
the sink also applies them at start-up, so running both is safe)."""

import sys

from tickwire_core.service import main
from tickwire_sink.app import bootstrap
from tickwire_sink.migrate import migrate_main
from tickwire_sink.settings import SinkSettings

if sys.argv[1:] == ["migrate"]:
    raise SystemExit(migrate_main())
if sys.argv[1:]:
    print(
        f"usage: python -m tickwire_sink [migrate]; got {' '.join(sys.argv[1:])}", file=sys.stderr
    )
    raise SystemExit(2)
raise SystemExit(main("sink", SinkSettings, bootstrap))
