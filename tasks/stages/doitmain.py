"""doit as wheelwright starts it: the pipeline's task loader and doit's main, without doit's per-run look-ups.

wheelwright's doit is fixed: its commands are doit's own, its backend and reporter are named in the
configuration handed to `DoitMain` (no doit.cfg or pyproject.toml is read). So two things doit does at
every start are skipped, each a few milliseconds of a small lock's start:

- the plugin look-up: for its commands, backends and reporters doit asks `importlib.metadata` for the
  `doit.*` entry points, and that reads the metadata of every distribution installed beside it, three
  times a run; a doit plugin installed there is not wheelwright's (`doit.plugin.entry_points_impl`,
  doit's own seam for that look-up, answers none);
- the generators' source: doit sorts the task generators by the line they are defined on, and gets it
  with `inspect.getsourcelines`, which reads and tokenizes each generator's module; the line is read
  from the function's code instead (the same number: `getsourcelines` starts at that line too).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import doit.loader
import doit.plugin
from doit.cmd_base import NamespaceTaskLoader
from doit.doit_cmd import DoitMain


def _no_entry_points(group: str) -> tuple[()]:
    return ()


def _no_plugin_look_up() -> Callable[..., tuple[()]]:
    return _no_entry_points


class _LinesFromCode:
    """`inspect` for doit's loader, except that a function's line comes from its code (no source read)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def getsourcelines(ref: Any) -> tuple[list[str], int]:
        code = getattr(inspect.unwrap(getattr(ref, "__func__", ref)), "__code__", None)
        return ([], code.co_firstlineno) if code is not None else inspect.getsourcelines(ref)


@contextmanager
def _generators_by_code() -> Iterator[None]:
    loader_module: Any = doit.loader
    original = loader_module.inspect
    loader_module.inspect = _LinesFromCode()
    try:
        yield
    finally:
        loader_module.inspect = original


class PipelineLoader(NamespaceTaskLoader):  # type: ignore[misc]  # doit is untyped
    """The pipeline from `pipeline()` (tasks/dodo.py's members, not a dodo.py in the current directory);
    `on_tasks` runs once doit has made its tasks."""

    def __init__(self, pipeline: Callable[[], dict[str, Any]], on_tasks: Callable[[], None]) -> None:
        super().__init__()
        self.pipeline, self.on_tasks = pipeline, on_tasks

    def setup(self, opt_values: dict[str, Any]) -> None:
        self.namespace = self.pipeline()

    def load_tasks(self, cmd: Any, pos_args: list[str]) -> list[Any]:
        with _generators_by_code():
            tasks = super().load_tasks(cmd, pos_args)
        self.on_tasks()
        return tasks  # type: ignore[no-any-return]


def doit_main(loader: PipelineLoader, bin_name: str, extra_config: dict[str, Any]) -> Any:
    """doit's main for this process: no configuration file read, no plugin looked up."""
    doit.plugin.entry_points_impl = _no_plugin_look_up

    class Main(DoitMain):  # type: ignore[misc]
        BIN_NAME = bin_name  # in doit's own messages ("Type wheelwright list ...")

    return Main(loader, config_filenames=(), extra_config=extra_config)
