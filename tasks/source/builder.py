"""PEP 517 builds with pyproject-hooks, in isolated build environments that are reused.

A build environment is named by its resolved requirement set and interpreter, so two builds
(or two runs) that need the same backend share one. Requirements are resolved by our resolver
(wheels only) and installed by our installer. Backend failures become one BuildError that
names the package and shows the tail of the backend's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
from packaging.utils import canonicalize_name

from tasks.core.coremeta import parse_core_metadata
from tasks.core.errors import BuildError, WheelwrightError
from tasks.core.urls import digest
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
    """The root of a build environment with `requires` installed (made once, then reused)."""
    from filelock import FileLock

    pins = _resolve_build_requires(requires, interp, indexes, cache, package)
    key = digest(json.dumps([sorted(pins), interp.platform_key, interp.executable]))
    root = cache / "build-envs-v0" / key
    if (root / ".complete").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not (root / ".complete").exists():
            _make_env(root, pins, interp, indexes, cache, package)
    return root


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
    (root / ".complete").write_text(json.dumps(pins))


# --- hooks ----------------------------------------------------------------------------------


class _Runner:
    """pyproject-hooks runner: output captured, kept for the error message."""

    def __init__(self) -> None:
        self.output = ""

    def __call__(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        env.update(extra_environ or {})
        env["PYTHONNOUSERSITE"] = "1"
        done = subprocess.run(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output = done.stdout or ""
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout)


@dataclass
class Builder:
    """Calls one source tree's backend hooks in its build environment."""

    tree: Path
    interp: Interpreter
    indexes: Indexes
    cache: Path
    package: str

    def _hooks(self, env: Path, system: BuildSystem, runner: _Runner) -> Any:
        from pyproject_hooks import BuildBackendHookCaller

        return BuildBackendHookCaller(
            str(self.tree),
            system.backend,
            list(system.backend_path) or None,
            runner=runner,
            python_executable=str(env / "bin" / "python"),
        )

    def _env(self, hook: str) -> tuple[Any, _Runner]:
        """A hook caller in an environment with the backend's static and dynamic requirements."""
        system = build_system(self.tree, package=self.package)
        env = build_env(system.requires, self.interp, self.indexes, self.cache, package=self.package)
        runner = _Runner()
        hooks = self._hooks(env, system, runner)
        extra = self._call(lambda: getattr(hooks, f"get_requires_for_build_{hook}")(), runner)
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
        except subprocess.CalledProcessError:
            raise BuildError(f"build backend failed:\n{_tail(runner.output)}", package=self.package) from None
        except (BackendUnavailable, HookMissing) as exc:
            raise BuildError(f"build backend unavailable: {exc}", package=self.package) from None

    def metadata(self) -> dict[str, Any]:
        """Core metadata, from prepare_metadata_for_build_wheel (a full build when it is missing)."""
        hooks, runner = self._env("wheel")
        with tempfile.TemporaryDirectory(prefix="ww-meta-") as out:
            name = self._call(
                lambda: hooks.prepare_metadata_for_build_wheel(out, _allow_fallback=True), runner
            )
            text = (Path(out) / name / "METADATA").read_text(encoding="utf-8")
        return parse_core_metadata(text)

    def wheel(self, out_dir: Path) -> Path:
        """Build a wheel into `out_dir`."""
        hooks, runner = self._env("wheel")
        out_dir.mkdir(parents=True, exist_ok=True)
        filename = str(self._call(lambda: hooks.build_wheel(str(out_dir)), runner))
        return out_dir / filename


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return "\n".join("    " + line for line in lines[-TAIL_LINES:]) or "    (no output)"
