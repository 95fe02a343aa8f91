"""doit `uptodate` checks: callables doit runs only for the tasks it was asked to consider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.run.current import current_revisions


def revision_unchanged(name: str) -> Any:
    """doit `uptodate`: the source's revision is the one the task last ran for."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        current = current_revisions().get(name)
        return current is not None and values.get("revision") == current

    return check


def path_exists(key: str) -> Any:
    """doit `uptodate`: the path the last run saved under `key` still exists."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        path = values.get(key)
        return isinstance(path, str) and Path(path).exists()

    return check


def still_cached(task: Any, values: dict[str, Any]) -> bool:
    """doit `uptodate`: the wheel the last run fetched is still unpacked in the cache."""
    from tasks.wheels.unpacked import MARKER

    unpacked = values.get("unpacked")
    return isinstance(unpacked, str) and (Path(unpacked) / MARKER).is_file()
