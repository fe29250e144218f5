"""python -m tickwire_normalize: raw ticks in, unified ticks and dead letters out."""

from tickwire_core.service import main
from tickwire_normalize.app import bootstrap
from tickwire_normalize.settings import NormalizeSettings

raise SystemExit(main("normalize", NormalizeSettings, bootstrap))
