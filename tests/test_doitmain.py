"""doit as wheelwright starts it (`tasks.stages.doitmain`): no plugin look-up, generators in doit's order."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import doit.plugin
import pytest

from tasks.stages import build, cache, fetch, lock, sync, wheelhouse
from tasks.stages.doitmain import PipelineLoader, _LinesFromCode, doit_main


def _decorated(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@_decorated
def task_wrapped() -> dict[str, Any]:
    return {"actions": []}


class _Creator:
    def create_doit_tasks(self) -> dict[str, Any]:
        return {"actions": []}


GENERATORS = [
    build.task_build_meta,
    build.task_build_wheel,
    cache.task_cache,
    cache.task_prune,
    fetch.task_fetch,
    lock.task_lock,
    sync.task_sync,
    wheelhouse.task_wheelhouse,
    task_wrapped,
    _Creator().create_doit_tasks,
]


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda g: g.__name__)
def test_a_generator_line_is_the_one_doit_reads_from_its_source(generator: Callable[..., Any]) -> None:
    assert _LinesFromCode.getsourcelines(generator)[1] == inspect.getsourcelines(generator)[1]


def test_doit_looks_up_no_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doit.plugin, "entry_points_impl", doit.plugin.entry_points_impl)  # restored after

    def refuse(**kwargs: Any) -> None:
        raise AssertionError(f"entry points looked up: {kwargs}")

    monkeypatch.setattr(doit.plugin, "entry_points", refuse)  # what doit's own look-up calls
    main = doit_main(PipelineLoader(dict, lambda: None), "wheelwright", {"BACKEND": {"x": "m:C"}})
    commands = main.get_cmds()
    assert {"run", "list", "forget"} <= set(commands)
    backends = doit.plugin.PluginDict()
    backends.add_plugins(main.config, "BACKEND")
    assert list(backends) == ["x"]  # the configured backend, and nothing looked up
