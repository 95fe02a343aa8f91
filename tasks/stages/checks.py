"""doit `uptodate` checks: callables doit runs only for the tasks it was asked to consider."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.run.context import asked_for, cache_root, current_revisions, flag, outline
from tasks.run.values import saved_path, saved_revision, saved_source

if TYPE_CHECKING:
    from tasks.run.outline import PinOutline


def revision_unchanged(name: str) -> Any:
    """doit `uptodate`: the source's revision is the one the task last ran for."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        current = current_revisions().get(name)
        if current is None and flag("offline") and saved_revision(values):
            from tasks.run.offline import skipped_check

            skipped_check(name, saved_source(values))
            return True  # offline: the revision built last time is the one there is
        return current is not None and saved_revision(values) == current

    return check


def path_exists(key: str) -> Any:
    """doit `uptodate`: the path the last run saved under `key` still exists."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        path = saved_path(values, key)
        return path is not None and path.exists()

    return check


def still_cached(task: Any, values: dict[str, Any]) -> bool:
    """doit `uptodate`: the wheel the last run fetched is still unpacked in the cache, or, pruned
    since, already installed in every environment that syncs it (unless `fetch:` itself is asked for).

    So a sync whose environment matches its lock downloads nothing after a prune; one that does need
    the wheel finds its entry missing and fetches it itself (`tasks.run.sync_env`, as a damaged entry).
    """
    from tasks.wheels.unpacked import MARKER

    unpacked = saved_path(values, "unpacked")
    if unpacked is not None and (unpacked / MARKER).is_file():
        return True
    return not asked_for(task.name) and _installed_everywhere(task.name, values.get("filename"))


def _installed_everywhere(task: str, filename: object) -> bool:
    """The wheel `filename` is installed (its RECORD in place) in each environment that syncs `task`."""
    if not isinstance(filename, str) or not filename.endswith(".whl"):
        return False
    dist_info = "-".join(filename.split("-")[:2]) + ".dist-info"
    envs = [env for env in outline().envs if task in env.pins]
    return bool(envs) and all(
        any((Path(s) / dist_info / "RECORD").is_file() for s in env.sites) for env in envs
    )


def sdist_unchanged(pin: PinOutline) -> Any:
    """doit `uptodate` of an index sdist: its sha256, as the fetch recorded it, is the one last built
    (no request, no lock parsed)."""

    def check(task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        from tasks.run.pinkind import recorded_sha256

        current = recorded_sha256(cache_root(), pin, "sdist")
        return current is not None and saved_revision(values) == current

    return check


def wheel_or(pin: PinOutline, checks: list[Any]) -> Any:
    """doit `uptodate` of an index pin's build task: nothing to do when the pin resolved to a wheel,
    else every one of `checks` (all are asked, so each can register what it saves)."""
    return _WheelOr(pin, checks)


class _WheelOr:
    def __init__(self, pin: PinOutline, checks: list[Any]) -> None:
        self.pin, self.checks = pin, checks

    def configure_task(self, task: Any) -> None:  # doit's hook: config_changed saves its digest through it
        for check in self.checks:
            if hasattr(check, "configure_task"):
                check.configure_task(task)

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:  # doit passes these two by name
        from tasks.run.pinkind import kind_of

        if kind_of(cache_root(), self.pin) == "wheel":
            return True
        return all([check(task, values) for check in self.checks])
