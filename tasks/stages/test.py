"""Stage `test`: the whole suite (pytest), then ruff and mypy."""

from __future__ import annotations

import sys
from typing import Any


def task_test() -> dict[str, Any]:
    """Run the test suite (pytest), then ruff and mypy."""
    python = sys.executable
    return {
        "actions": [
            f"{python} -m pytest -q -p no:cacheprovider",
            f"{python} -m ruff check tasks tests bench dodo.py",
            f"{python} -m mypy",
        ],
        "verbosity": 2,
        "uptodate": [False],
    }
