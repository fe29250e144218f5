"""The `tickwire` command: the one front door to run, watch and repair the pipeline."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tickwire-cli")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
