"""PEP 517 builds with pyproject-hooks, in isolated build environments that are reused.

A build environment is named by its resolved requirement set and interpreter, so two builds
(or two runs) that need the same backend share one. Requirements are resolved by our resolver
(wheels only) and installed by our installer. Backend failures become one BuildError that
names the package and shows the tail of the backend's output; every hook's output goes to a log
file under `cache/build-logs-v0/` (nothing on the terminal unless `verbose=1`).
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
from typing import Any, TextIO

import tomllib
from packaging.utils import canonicalize_name

from tasks.core import layout
from tasks.core.coremeta import parse_core_metadata
from tasks.core.errors import BuildError, WheelwrightError
from tasks.core.events import Event, emit, is_verbose
from tasks.core.lastuse import mark_used
from tasks.core.urls import digest, scrub_text
from tasks.inputs.config import Indexes
from tasks.target.interpreter import Interpreter, in_venv

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


# --- build environments ---------------------------------------------------------------------


def build_env(
    requires: Sequence[str], interp: Interpreter, indexes: Indexes, cache: Path, *, package: str
) -> Path:
    """The root of a build environment with `requires` installed (made once, then reused).

    Offline, the environment last made for the same requirements is used as it is (no index page
    is asked); without one, they are resolved and installed from the cache or the build fails.
    """
    from filelock import FileLock

    from tasks.core.http import is_offline

    wanted = ".requires-" + digest(json.dumps([sorted(requires), interp.platform_key, interp.executable]))
    if is_offline() and (made := _made_for(cache, wanted)) is not None:
        return made
    pins = _resolve_build_requires(requires, interp, indexes, cache, package)
    key = digest(json.dumps([sorted(pins), interp.platform_key, interp.executable]))
    root = cache / layout.BUILD_ENVS.name / key
    if not (root / layout.COMPLETE).exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root) + ".lock"):
            if not (root / layout.COMPLETE).exists():
                _make_env(root, pins, interp, indexes, cache, package)
    mark_used(root / layout.COMPLETE)  # `./doit prune days=N` keeps what was used lately
    (root / wanted).touch()  # these requirements were last resolved to this environment
    return root


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _made_for(cache: Path, wanted: str) -> Path | None:
    """The complete build environment last made for these requirements (its `.requires-…` mark)."""
    for mark in sorted((cache / layout.BUILD_ENVS.name).glob(f"*/{wanted}"), key=_mtime, reverse=True):
        if (mark.parent / layout.COMPLETE).exists():
            mark_used(mark.parent / layout.COMPLETE)
            return mark.parent
    return None


def _resolve_build_requires(
    requires: Sequence[str], interp: Interpreter, indexes: Indexes, cache: Path, package: str
) -> list[tuple[str, str]]:
    from tasks.inputs.requirements import Origin, parse_requirement_line
    from tasks.lock.resolve import resolve

    origin = Origin(Path(f"<build requirements of {package}>"), 0)
    try:
        lines = [parse_requirement_line(text, origin) for text in requires]
        resolution = resolve(lines, interp=interp, indexes=indexes, cache=cache, allow_sdists=False)
    except WheelwrightError as exc:
        raise BuildError(f"build requirements {list(requires)}: {exc}", package=package) from None
    return sorted((name, pin.version) for name, pin in resolution.pins.items())


def _make_env(
    root: Path, pins: list[tuple[str, str]], interp: Interpreter, indexes: Indexes, cache: Path, package: str
) -> None:
    import shutil

    from tasks.target.venv import ensure_venv
    from tasks.wheels.fetch import fetch_registry_wheel
    from tasks.wheels.install import install_wheels

    shutil.rmtree(root, ignore_errors=True)
    ensure_venv(root, Path(interp.executable))
    wheels: list[tuple[Path, str, dict[str, Any] | None]] = []
    for name, version in pins:
        fetched = fetch_registry_wheel(
            name=canonicalize_name(name),
            version=version,
            hashes=frozenset(),
            indexes=indexes,
            interp=interp,
            cache=cache,
        )
        wheels.append((Path(fetched.unpacked), fetched.filename, None))
    env = in_venv(interp, root)
    install_wheels(wheels, env.scheme(), str(root / "bin" / "python"))
    (root / layout.COMPLETE).write_text(json.dumps(pins))


# --- hooks ----------------------------------------------------------------------------------


class _Runner:
    """pyproject-hooks runner: every hook's output (stdout, stderr, the warnings it raised) goes to the
    build's log file (and with verbose=1 to `output` events, line by line, which the console shows);
    the last lines are kept for the error message."""

    def __init__(self, log: Path, package: str) -> None:
        self.log, self.package, self.hook = log, package, ""
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.live = is_verbose()  # verbose=1: every line as an event too, for the console to stream
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
        self.tail.clear()
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"--- {self.hook}\n")
            code = self._run(cmd, cwd, env, out)
            self._warnings(Path(cmd[-1]) / "output.json", out)
        if code != 0:
            raise subprocess.CalledProcessError(code, cmd)

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
            emit(Event("output", package=self.package, message=text))


@functools.cache
def _quiet() -> None:
    """pyproject-hooks re-raises a hook's warnings in this process; the runner logged them already."""
    import warnings

    from pyproject_hooks import BuildBackendWarning

    warnings.filterwarnings("ignore", category=BuildBackendWarning)


@dataclass
class Builder:
    """Calls one source tree's backend hooks in its build environment."""

    tree: Path
    interp: Interpreter
    indexes: Indexes
    cache: Path
    package: str
    config_settings: Mapping[str, Any] | None = None  # PEP 517 config_settings, given to every hook
    last_log: Path | None = None  # the log of the hook called last (a `built` event names it)

    @property
    def _settings(self) -> dict[str, Any] | None:
        return dict(self.config_settings) if self.config_settings else None

    def log_path(self, build: str) -> Path:
        """Where a build's output goes: one file per tree and kind of build, the last build's."""
        return self.cache / layout.BUILD_LOGS.name / digest(str(self.tree)) / f"{build}.log"

    def _hooks(self, env: Path, system: BuildSystem, runner: _Runner) -> Any:
        from pyproject_hooks import BuildBackendHookCaller

        _quiet()
        return BuildBackendHookCaller(
            str(self.tree),
            system.backend,
            list(system.backend_path) or None,
            runner=runner,
            python_executable=str(env / "bin" / "python"),
        )

    def _env(self, hook: str, build: str) -> tuple[Any, _Runner]:
        """A hook caller in an environment with the backend's static and dynamic requirements."""
        system = build_system(self.tree, package=self.package)
        env = build_env(system.requires, self.interp, self.indexes, self.cache, package=self.package)
        self.last_log = self.log_path(build)
        runner = _Runner(self.last_log, self.package)
        hooks = self._hooks(env, system, runner)
        extra = self._call(lambda: getattr(hooks, f"get_requires_for_build_{hook}")(self._settings), runner)
        if extra:
            env = build_env(
                [*system.requires, *extra], self.interp, self.indexes, self.cache, package=self.package
            )
            hooks = self._hooks(env, system, runner)
        return hooks, runner

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
        hooks, runner = self._env(hook, f"{hook}-metadata")
        prepare = getattr(hooks, f"prepare_metadata_for_build_{hook}")
        with tempfile.TemporaryDirectory(prefix="ww-meta-") as out:
            name = self._call(lambda: prepare(out, self._settings, _allow_fallback=True), runner)
            text = (Path(out) / name / "METADATA").read_text(encoding="utf-8")
        return parse_core_metadata(text)

    def wheel(self, out_dir: Path, *, editable: bool = False) -> Path:
        """Build a wheel into `out_dir` (with PEP 660 build_editable when `editable`)."""
        hook = "editable" if editable else "wheel"
        hooks, runner = self._env(hook, hook)
        out_dir.mkdir(parents=True, exist_ok=True)
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
