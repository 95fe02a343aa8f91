"""Shared pytest fixtures: isolation from the user's pip configuration, a wheelhouse, an index."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index_server import IndexServer


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pip or uv configuration of the machine or the user leaks into a test."""
    for key in list(os.environ):
        if key.startswith(("PIP_", "UV_")) or key == "WHEELWRIGHT_CACHE":
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    path = tmp_path / "wheelhouse"
    path.mkdir()
    return path


@pytest.fixture
def index(wheelhouse: Path) -> Iterator[IndexServer]:
    with IndexServer(wheelhouse) as server:
        yield server
