"""Test support for every suite of the workspace, kept out of the runtime packages: the pytest
plugin that hands tests the real broker and database, fakes of the I/O ports, builders and helpers.

Development only: a dev dependency of the workspace, never a dependency of a service, so no image
holds it; tests/unit/test_test_support_stays_out.py keeps runtime modules from importing it."""
