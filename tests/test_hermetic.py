"""The suite is hermetic by construction: what a developer's shell exports never reaches a test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e import ROOT
from tests.support.fixtures import is_cleared

EXPORTED = {
    "WHEELWRIGHT_CACHE": "/nonexistent/cache",
    "WHEELWRIGHT_REMOTE_CACHE": "s3://a-real-bucket/ci",
    "WHEELWRIGHT_EVENTS": "/nonexistent/events.jsonl",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_PROFILE": "production",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "*",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/extra",
    "UV_INDEX_URL": "http://127.0.0.1:9/uv",
}


def test_inside_a_test_nothing_exported_is_seen() -> None:
    """Run by the test below with EXPORTED in its environment (and on its own, vacuously)."""
    assert [k for k in EXPORTED if k in os.environ] == []
    set_by_the_fixture = {"PIP_CONFIG_FILE", "WHEELWRIGHT_HOME"}
    assert sorted(k for k in os.environ if is_cleared(k) and k not in set_by_the_fixture) == []
    home = os.environ["HOME"]  # tmp_path/home
    assert os.environ["WHEELWRIGHT_HOME"] == home.rsplit("/", 1)[0] + "/wheelwright-home"
    assert os.environ["PIP_CONFIG_FILE"] == os.devnull


@pytest.mark.e2e
def test_exported_settings_do_not_reach_the_tests() -> None:
    env = {**os.environ, **EXPORTED}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{__file__}::test_inside_a_test_nothing_exported_is_seen"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
