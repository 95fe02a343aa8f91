"""Build environments, made apart from the builder: reused by resolved requirement set and interpreter.

    build-envs-v0/<digest of the resolved pins, platform, interpreter>/   a venv, `.complete` when made
    build-envs-v0/<…>/.requires-<digest of the requested requirements>    what was last resolved to it

Two builds (or two runs) that need the same backend share one environment. Requirements are
resolved by our resolver (wheels only), through the run's `Network`, and installed by our installer.
`CachedEnv` is what a `Builder` is handed (pypa/build's shape: an environment with `python` and
`install(requirements)`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from tasks.core import layout
from tasks.core.errors import BuildError, WheelwrightError
from tasks.core.http import Network
from tasks.core.lastuse import mark_used
from tasks.core.urls import digest
from tasks.envs.interpreter import Interpreter, in_venv
from tasks.inputs.config import Indexes


class CachedEnv:
    """A build environment from the cache: `install` moves it to the environment made for everything
    asked so far (made once, then reused)."""

    def __init__(
        self, interp: Interpreter, indexes: Indexes, cache: Path, net: Network, *, package: str
    ) -> None:
        self.interp, self.indexes, self.cache, self.package = interp, indexes, cache, package
        self.net = net
        self.requires: tuple[str, ...] = ()
        self.root: Path | None = None

    @property
    def python(self) -> str:
        if self.root is None:
            raise BuildError("the build environment has nothing installed yet", package=self.package)
        return str(self.root / "bin" / "python")

    def install(self, requirements: Sequence[str]) -> None:
        self.requires = (*self.requires, *requirements)
        self.root = build_env(
            self.requires, self.interp, self.indexes, self.cache, self.net, package=self.package
        )


def build_env(
    requires: Sequence[str], interp: Interpreter, indexes: Indexes, cache: Path, net: Network, *, package: str
) -> Path:
    """The root of a build environment with `requires` installed (made once, then reused).

    Offline (`net.offline`), the environment last made for the same requirements is used as it is
    (no index page is asked); without one, they are resolved and installed from the cache or the
    build fails.
    """
    from filelock import FileLock

    wanted = ".requires-" + digest(json.dumps([sorted(requires), interp.platform_key, interp.executable]))
    if net.offline and (made := _made_for(cache, wanted)) is not None:
        return made
    pins = _resolve_build_requires(requires, interp, indexes, cache, net, package)
    key = digest(json.dumps([sorted(pins), interp.platform_key, interp.executable]))
    root = cache / layout.BUILD_ENVS.name / key
    if not (root / layout.COMPLETE).exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root) + ".lock"):
            if not (root / layout.COMPLETE).exists():
                _make_env(root, pins, interp, indexes, cache, net, package)
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


# (requirements, interpreter, indexes, cache, network) → the pins they resolved to, in this process (one run):
# a source whose metadata and wheel are built in one run resolves its backend's requirements once, not twice.
_resolved: dict[tuple[object, ...], list[tuple[str, str]]] = {}
_resolving = threading.Lock()


def _resolve_build_requires(
    requires: Sequence[str], interp: Interpreter, indexes: Indexes, cache: Path, net: Network, package: str
) -> list[tuple[str, str]]:
    key = (tuple(sorted(requires)), interp.platform_key, interp.executable, indexes, str(cache), id(net))
    with _resolving:
        known = _resolved.get(key)
    if known is None:
        known = _resolve_now(requires, interp, indexes, cache, net, package)
        with _resolving:
            _resolved[key] = known
    return list(known)


def _resolve_now(
    requires: Sequence[str], interp: Interpreter, indexes: Indexes, cache: Path, net: Network, package: str
) -> list[tuple[str, str]]:
    from tasks.inputs.reqline import Origin, parse_requirement_line
    from tasks.lock.resolve import resolve

    origin = Origin(Path(f"<build requirements of {package}>"), 0)
    try:
        lines = [parse_requirement_line(text, origin) for text in requires]
        resolution = resolve(lines, interp=interp, indexes=indexes, cache=cache, allow_sdists=False, net=net)
    except WheelwrightError as exc:
        raise BuildError(f"build requirements {list(requires)}: {exc}", package=package) from None
    return sorted((name, pin.version) for name, pin in resolution.pins.items())


def _make_env(
    root: Path,
    pins: list[tuple[str, str]],
    interp: Interpreter,
    indexes: Indexes,
    cache: Path,
    net: Network,
    package: str,
) -> None:
    import shutil

    from tasks.envs.venv import ensure_venv
    from tasks.wheels.install import install_wheels
    from tasks.wheels.registry import fetch_registry_wheel

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
            net=net,
        )
        wheels.append((Path(fetched.unpacked), fetched.filename, None))
    env = in_venv(interp, root)
    install_wheels(wheels, env.scheme(), str(root / "bin" / "python"))
    (root / layout.COMPLETE).write_text(json.dumps(pins))
