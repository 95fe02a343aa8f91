"""pytest set-up: the shared fixtures of tests/support (loopback index, wheel maker, isolation), and
the `e2e` mark on every test that runs ./doit, a subprocess or a server (`-m "not e2e"`: the unit run).

Every run of the suite gets its own user cache directory (XDG_CACHE_HOME): a test that gives no
cache= (the default per-user cache, the outline memos) never writes the real user's cache.
"""

from __future__ import annotations

import os
import tempfile
import types
from typing import Any

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="wheelwright-test-xdg-cache-")
    os.environ.pop("VIRTUAL_ENV", None)  # the default environment would be the active one


# Fixtures that start a server or need one (the loopback index, the hostile index, moto's S3).
SERVER_FIXTURES = frozenset({"index", "hostile", "backends", "store", "fleet", "private", "repo"})
# What an end-to-end test (or a helper it calls) names: ./doit runs, processes, servers.
E2E_NAMES = frozenset(
    {"doit", "sync", "start_sync", "subprocess", "Popen", "socket", "IndexServer", "S3Store", "HostileServer"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        function = getattr(item, "function", None)
        uses_server = bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))
        if uses_server or (function is not None and _names_e2e(function, set())):
            item.add_marker(pytest.mark.e2e)


def _names_e2e(function: Any, seen: set[int]) -> bool:
    """Whether `function`, or a test-suite function it calls, names an end-to-end helper."""
    code = getattr(function, "__code__", None)
    if code is None or id(code) in seen:
        return False
    seen.add(id(code))
    names = set(_code_names(code))
    if names & E2E_NAMES:
        return True
    scope = getattr(function, "__globals__", {})
    callees = [scope[n] for n in names if isinstance(scope.get(n), types.FunctionType)]
    return any(_names_e2e(callee, seen) for callee in callees if callee.__module__.startswith("tests"))


def _code_names(code: types.CodeType) -> list[str]:
    nested = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return [*code.co_names, *(n for c in nested for n in _code_names(c))]
