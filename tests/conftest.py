"""pytest set-up: the shared fixtures of tests/support (loopback index, wheel maker, isolation)."""

pytest_plugins = ["tests.support.fixtures"]
