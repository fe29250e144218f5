"""Test support shared by every service's tests: the pytest plugin that hands tests the real
broker and database, and fakes of the I/O ports for unit tests of pure logic."""
