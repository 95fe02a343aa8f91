"""Shared pytest fixtures: isolation from the user's pip configuration, a wheelhouse, an index."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer

# What a developer's shell may export that would change where a test's runs go or what they do:
# our own settings (a cache, a remote store, events, the memo's home), a real object store's
# credentials and endpoint, pip's and uv's configuration (another index), and proxies.
CLEARED_PREFIXES = ("WHEELWRIGHT_", "AWS_", "PIP_", "UV_", "BOTO_")
PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


def is_cleared(key: str) -> bool:
    return key.startswith(CLEARED_PREFIXES) or key.lower() in PROXIES


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration of the machine or the user leaks into a test (autouse: every test)."""
    isolate(tmp_path, monkeypatch)


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear what a shell may export (see CLEARED_PREFIXES, PROXIES); a home and pip config of our own."""
    for key in list(os.environ):
        if is_cleared(key):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("WHEELWRIGHT_HOME", str(tmp_path / "wheelwright-home"))


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    path = tmp_path / "wheelhouse"
    path.mkdir()
    return path


@pytest.fixture
def index(wheelhouse: Path) -> Iterator[IndexServer]:
    with IndexServer(wheelhouse) as server:
        yield server
