"""python -m tickwire_ingest: run the configured feed connector."""

from tickwire_core.service import main
from tickwire_ingest.app import bootstrap
from tickwire_ingest.settings import IngestSettings

raise SystemExit(main("ingest", IngestSettings, bootstrap))
