"""Stage `test`: the build backends the tests serve, then the suite, ruff, mypy and the import contracts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEST_WHEELS = PROJECT_ROOT / ".wheelwright" / "test-wheels"
BACKENDS = PROJECT_ROOT / "requirements" / "test-backends.txt"
RUNTIME = PROJECT_ROOT / "requirements" / "pipeline.txt"
COMMAND_WHEELS = PROJECT_ROOT / ".wheelwright" / "command-wheels"  # the command's own pins, to install it


def task_test_wheels() -> dict[str, Any]:
    """Download the pinned build backends the tests serve from their loopback index (hashes required),
    and the pipeline's own pins (the tests install the `wheelwright` command into a fresh venv from them,
    offline)."""
    python = sys.executable
    download = f"{python} -m pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps"
    return {
        "actions": [
            f"{download} --require-hashes --dest {TEST_WHEELS} -r {BACKENDS}",
            f"{download} --dest {COMMAND_WHEELS} -r {RUNTIME}",
        ],
        "file_dep": [str(BACKENDS), str(RUNTIME)],
        "targets": [str(TEST_WHEELS), str(COMMAND_WHEELS)],
        "verbosity": 1,
    }


def task_test() -> dict[str, Any]:
    """Run the test suite (pytest), then ruff, mypy and the import contracts (layers, no cycles).

    `unit=1`: the unit tests only (no ./doit run, no subprocess, no server; see tests/conftest.py),
    in seconds, and nothing else.
    """
    from tasks.inputs.variables import value

    python = sys.executable
    if value("unit") not in (None, "", "0"):
        return {
            "actions": [f"{python} -m pytest -q -p no:cacheprovider -m 'not e2e and not network'"],
            "verbosity": 2,
            "uptodate": [False],
        }
    return {
        "actions": [
            f"{python} -m pytest -q -p no:cacheprovider",
            f"{python} -m ruff check tasks tests bench dodo.py",
            f"{python} -m mypy",
            f"{Path(python).with_name('lint-imports')} --no-cache",
        ],
        "task_dep": ["test_wheels"],
        "verbosity": 2,
        "uptodate": [False],
    }
