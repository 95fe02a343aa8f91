"""PEP 517 builds with pyproject-hooks, in a build environment the builder is handed.

The builder asks its environment (`BuildEnvironment`: `python` and `install(requirements)`, pypa/
build's shape; `tasks.source.buildenv.CachedEnv` is ours) to install the backend's static, then
dynamic requirements, and calls the hooks with its `python`. Backend failures become one BuildError
that names the package and shows the tail of the backend's output; every hook's output goes to a
log file under `cache/build-logs-v0/` (nothing on the terminal unless `verbose=1`).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import tomllib

from tasks.core import layout
from tasks.core.coremeta import parse_core_metadata
from tasks.core.errors import BuildError
from tasks.core.eventkinds import BackendOutput
from tasks.core.events import emit, is_verbose
from tasks.core.urls import digest, scrub_text

LEGACY = ("setuptools.build_meta:__legacy__", ("setuptools>=40.8.0",))
TAIL_LINES = 15


@dataclass(frozen=True)
class BuildSystem:
    backend: str
    requires: tuple[str, ...]
    backend_path: tuple[str, ...] = ()


def build_system(tree: Path, *, package: str) -> BuildSystem:
    """pyproject.toml's [build-system], or the setuptools legacy backend when there is none."""
    pyproject = tree / "pyproject.toml"
    if not pyproject.is_file():
        return BuildSystem(LEGACY[0], LEGACY[1])
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"unreadable pyproject.toml: {exc}", package=package) from None
    if "build-backend" not in table:
        return BuildSystem(LEGACY[0], tuple(table.get("requires", LEGACY[1])))
    return BuildSystem(
        table["build-backend"], tuple(table.get("requires", ())), tuple(table.get("backend-path", ()))
    )


# --- hooks ----------------------------------------------------------------------------------


class _Runner:
    """pyproject-hooks runner: every hook's output (stdout, stderr, the warnings it raised) goes to the
    build's log file (and with verbose=1 to `output` events, line by line, which the console shows);
    the last lines are kept for the error message.

    `then` (a hook and its input): when pyproject-hooks asks for get_requires_for_build_*, the backend
    process runs that hook too if the answer is that nothing more is needed (tasks/source/hook_chain.py),
    and the later call of the same hook with the same input takes its answer instead of starting the
    backend again. A chain that fails runs nothing ahead: the hook is then run on its own, as ever."""

    def __init__(self, log: Path, package: str) -> None:
        self.log, self.package, self.hook = log, package, ""
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.live = is_verbose()  # verbose=1: every line as an event too, for the console to stream
        self.then: tuple[str, dict[str, Any]] | None = None
        self.ahead: dict[str, Path] = {}  # hook → the control directory of its answer, run ahead
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("", encoding="utf-8")  # one log per build: this build's output only

    def __call__(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        env.update(extra_environ or {})
        env["PYTHONNOUSERSITE"] = "1"
        env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleaved in the log as they were written
        self.hook = cmd[-2]  # pyproject-hooks calls: python _in_process.py <hook> <control dir>
        if self._answered_ahead(cmd):
            return
        self.tail.clear()
        chained = self._chained(cmd)
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"--- {self.hook}\n")
            code = self._run(chained or cmd, cwd, env, out)
            self._warnings(Path(cmd[-1]) / "output.json", out)
        if chained and not (Path(cmd[-1]) / "output.json").is_file():
            self.ahead.clear()
        elif chained and code != 0:
            self.ahead.clear()  # the first hook answered; the next one fails again on its own, and says so
            code = 0
        if code != 0:
            raise subprocess.CalledProcessError(code, cmd)

    def _chained(self, cmd: Sequence[str]) -> list[str] | None:
        """The command that runs `cmd`'s get_requires hook and the hook in `then` in one process."""
        import shutil

        if self.then is None or not self.hook.startswith("get_requires_for_build_"):
            return None
        hook, kwargs = self.then
        self.then = None
        control = self.log.with_name(f"{self.log.stem}.{hook}")  # beside the log: one per build and hook
        shutil.rmtree(control, ignore_errors=True)
        control.mkdir(parents=True)
        (control / "input.json").write_text(json.dumps({"kwargs": kwargs}), encoding="utf-8")
        self.ahead = {hook: control}
        return [cmd[0], str(Path(__file__).with_name("hook_chain.py")), *cmd[1:], hook, str(control)]

    def _answered_ahead(self, cmd: Sequence[str]) -> bool:
        """Hand over the answer of `cmd`'s hook, run ahead with the same input; False when there is none."""
        import shutil

        control = self.ahead.pop(self.hook, None)
        if control is None:
            return False
        try:
            ready = (control / "output.json").is_file()
            same = ready and _input(control) == _input(Path(cmd[-1]))
            if same:
                shutil.copyfile(control / "output.json", Path(cmd[-1]) / "output.json")
                with self.log.open("a", encoding="utf-8") as out:
                    self._warnings(control / "output.json", out)
            return same
        finally:
            shutil.rmtree(control, ignore_errors=True)

    def _run(self, cmd: Sequence[str], cwd: str | None, env: dict[str, str], out: TextIO) -> int:
        pipe = subprocess.PIPE
        with subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=pipe, stderr=subprocess.STDOUT, text=True, errors="replace"
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                self._line(line.rstrip("\n"), out)
        return proc.returncode

    def _warnings(self, output: Path, out: TextIO) -> None:
        """The UserWarnings the hook raised (pyproject-hooks would re-raise them here: see _quiet)."""
        try:
            found = json.loads(output.read_text(encoding="utf-8")).get("warnings", [])
        except (OSError, ValueError):
            return
        for w in found:
            self._line(f"{w.get('filename')}:{w.get('lineno')}: warning: {w.get('message')}", out)

    def _line(self, text: str, out: TextIO) -> None:
        text = scrub_text(text)
        out.write(text + "\n")
        if text.strip():
            self.tail.append(text)
        if self.live:
            emit(BackendOutput(package=self.package, message=text))


def _input(control: Path) -> Any:
    try:
        return json.loads((control / "input.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@functools.cache
def _quiet() -> None:
    """pyproject-hooks re-raises a hook's warnings in this process; the runner logged them already."""
    import warnings

    from pyproject_hooks import BuildBackendWarning

    warnings.filterwarnings("ignore", category=BuildBackendWarning)


class BuildEnvironment(Protocol):
    """What a builder needs of its build environment."""

    @property
    def python(self) -> str:
        """The environment's interpreter, where the hooks run."""
        ...

    def install(self, requirements: Sequence[str]) -> None:
        """Make `requirements` available too (the backend's static, then its dynamic ones)."""
        ...


# (tree, backend, hook, config_settings, python) → what get_requires_for_build_<hook> answered, in this
# process, for a tree in the cache (named by its revision: it never changes). Written and read by
# `Builder._dynamic_requires` only, so a source whose metadata and wheel are built in one run asks once.
_asked: dict[tuple[str, ...], list[str]] = {}


@dataclass
class Builder:
    """Calls one source tree's backend hooks in the build environment it is handed."""

    tree: Path
    env: BuildEnvironment
    cache: Path  # where the build logs go
    package: str
    config_settings: Mapping[str, Any] | None = None  # PEP 517 config_settings, given to every hook
    last_log: Path | None = None  # the log of the hook called last (a `built` event names it)

    @property
    def _settings(self) -> dict[str, Any] | None:
        return dict(self.config_settings) if self.config_settings else None

    def log_path(self, build: str) -> Path:
        """Where a build's output goes: one file per tree and kind of build, the last build's."""
        return self.cache / layout.BUILD_LOGS.name / digest(str(self.tree)) / f"{build}.log"

    def _hooks(self, system: BuildSystem, runner: _Runner) -> Any:
        from pyproject_hooks import BuildBackendHookCaller

        _quiet()
        return BuildBackendHookCaller(
            str(self.tree),
            system.backend,
            list(system.backend_path) or None,
            runner=runner,
            python_executable=self.env.python,
        )

    def _env(self, hook: str, build: str, then: tuple[str, dict[str, Any]]) -> tuple[Any, _Runner]:
        """A hook caller in the environment, with the backend's static and dynamic requirements installed.

        `then`: the hook (and its input) the build calls next, run ahead with get_requires (see _Runner)."""
        system = build_system(self.tree, package=self.package)
        self.env.install(system.requires)
        self.last_log = self.log_path(build)
        runner = _Runner(self.last_log, self.package)
        runner.then = then
        hooks = self._hooks(system, runner)
        extra = self._dynamic_requires(hooks, hook, system, runner)
        if extra:
            self.env.install(extra)
            hooks = self._hooks(system, runner)
        return hooks, runner

    def _dynamic_requires(self, hooks: Any, hook: str, system: BuildSystem, runner: _Runner) -> list[str]:
        """get_requires_for_build_<hook>, asked once per process for a tree in the cache: a tree there is
        named by its revision and never changes, so a sync that prepares its metadata and then builds its
        wheel starts the backend three times, not four. A tree outside the cache (a local project, which
        may change meanwhile) is asked every time."""
        settings = json.dumps(self._settings, sort_keys=True, default=str)
        key = (str(self.tree), system.backend, hook, settings, self.env.python)
        if (known := _asked.get(key)) is not None:
            return known
        ask = getattr(hooks, f"get_requires_for_build_{hook}")
        extra = list(self._call(lambda: ask(self._settings), runner))
        if self.tree.is_relative_to(self.cache):
            _asked[key] = extra
        return extra

    def _call(self, call: Any, runner: _Runner) -> Any:
        from pyproject_hooks import BackendUnavailable, HookMissing

        try:
            return call()
        except subprocess.CalledProcessError as exc:
            raise BuildError(_failure(runner, exc.returncode), package=self.package) from None
        except HookMissing as exc:
            if exc.hook_name == "build_editable":
                backend = build_system(self.tree, package=self.package).backend
                raise BuildError(NO_EDITABLE.format(backend), package=self.package) from None
            raise BuildError(f"build backend unavailable: {exc}", package=self.package) from None
        except BackendUnavailable as exc:
            raise BuildError(f"build backend unavailable: {exc}", package=self.package) from None

    def metadata(self, *, editable: bool = False) -> dict[str, Any]:
        """Core metadata from prepare_metadata_for_build_wheel (or _editable); a full build when missing."""
        hook = "editable" if editable else "wheel"
        with tempfile.TemporaryDirectory(prefix="ww-meta-") as out:
            kwargs = {"metadata_directory": os.path.abspath(out), "config_settings": self._settings}
            then = (f"prepare_metadata_for_build_{hook}", {**kwargs, "_allow_fallback": True})
            hooks, runner = self._env(hook, f"{hook}-metadata", then)
            prepare = getattr(hooks, f"prepare_metadata_for_build_{hook}")
            name = self._call(lambda: prepare(out, self._settings, _allow_fallback=True), runner)
            text = (Path(out) / name / "METADATA").read_text(encoding="utf-8")
        return parse_core_metadata(text)

    def wheel(self, out_dir: Path, *, editable: bool = False) -> Path:
        """Build a wheel into `out_dir` (with PEP 660 build_editable when `editable`)."""
        hook = "editable" if editable else "wheel"
        out_dir.mkdir(parents=True, exist_ok=True)
        kwargs = {"wheel_directory": os.path.abspath(out_dir), "config_settings": self._settings}
        hooks, runner = self._env(hook, hook, (f"build_{hook}", {**kwargs, "metadata_directory": None}))
        build = getattr(hooks, f"build_{hook}")
        filename = str(self._call(lambda: build(str(out_dir), self._settings), runner))
        return out_dir / filename


NO_EDITABLE = (
    "its build backend {} has no build_editable hook (PEP 660), so it cannot be installed editable; "
    "drop -e or use a backend that supports editable installs"
)


def _failure(runner: _Runner, code: int) -> str:
    """The error's text: which hook failed, the last lines of its output, and where the whole log is."""
    tail = "\n".join("    " + line for line in runner.tail) or "    (no output)"
    return f"build backend failed in {runner.hook} (exit status {code}):\n{tail}\n    full log: {runner.log}"
