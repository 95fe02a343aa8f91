"""The suite is hermetic by construction: what a developer's shell exports never reaches a test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.fixtures import isolate

EXPORTED = {
    "WHEELWRIGHT_CACHE": "/nonexistent/cache",
    "WHEELWRIGHT_REMOTE_CACHE": "s3://a-real-bucket/ci",
    "WHEELWRIGHT_EVENTS": "/nonexistent/events.jsonl",
    "WHEELWRIGHT_HOME": "/nonexistent/home",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_PROFILE": "production",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "*",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/extra",
    "UV_INDEX_URL": "http://127.0.0.1:9/uv",
}


def test_exported_settings_do_not_reach_a_test(tmp_path: Path) -> None:
    """The autouse fixture's work (`isolate`) over a shell that exported all of EXPORTED."""
    with pytest.MonkeyPatch.context() as shell:
        for key, value in EXPORTED.items():
            shell.setenv(key, value)
        with pytest.MonkeyPatch.context() as test:
            isolate(tmp_path, test)
            assert [k for k in EXPORTED if k in os.environ and k != "WHEELWRIGHT_HOME"] == []
            assert os.environ["WHEELWRIGHT_HOME"] == str(tmp_path / "wheelwright-home")
            assert os.environ["HOME"] == str(tmp_path / "home")
            assert os.environ["PIP_CONFIG_FILE"] == os.devnull
