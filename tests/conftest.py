"""pytest set-up: the shared fixtures of tests/support (loopback index, wheel maker, isolation).

Every run of the suite gets its own user cache directory (XDG_CACHE_HOME): a test that gives no
cache= (the default per-user cache, the outline memos) never writes the real user's cache.
"""

import os
import tempfile

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="wheelwright-test-xdg-cache-")
    os.environ.pop("VIRTUAL_ENV", None)  # the default environment would be the active one
