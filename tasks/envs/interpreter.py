"""A target interpreter's facts (markers, tags, install paths), asked once and cached as JSON."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from tasks.core.errors import ConfigError
from tasks.core.files import atomic_write_text
from tasks.core.urls import digest

# Runs inside the target interpreter, with this project's `packaging` put on its path.
_PROBE = r"""
import json, os, platform, sys, sysconfig
sys.path.insert(0, sys.argv[1])
from packaging import tags
from packaging.markers import default_environment
print(json.dumps({
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "markers": default_environment(),
    "tags": [str(t) for t in tags.sys_tags()],
    "paths": sysconfig.get_paths(),
    "venv_paths": sysconfig.get_paths(
        scheme="venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix",
        vars={"base": "@VENV@", "platbase": "@VENV@"},
    ),
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """What a Python interpreter reports of itself."""

    executable: str
    prefix: str
    base_prefix: str
    version: str
    markers: dict[str, str]
    tags: tuple[str, ...]
    paths: dict[str, str]
    venv_paths: dict[str, str]

    @cached_property
    def tag_priority(self) -> dict[str, int]:
        """Tag → rank (lower is better), for choosing among wheels."""
        return {tag: rank for rank, tag in enumerate(self.tags)}

    @property
    def platform_key(self) -> str:
        """A short key that changes when the set of installable wheels would change."""
        return digest("\n".join(self.tags))

    def scheme(self) -> dict[str, str]:
        keys = ("purelib", "platlib", "scripts", "data", "include")
        scheme = {k: self.paths[k] for k in keys}
        scheme["headers"] = scheme.pop("include")
        return scheme


def _packaging_dir() -> str:
    import packaging

    return str(Path(packaging.__file__).resolve().parent.parent)


def _cache_key(python: Path) -> str:
    real = python.resolve()
    parts = [str(python), str(real), _stamp(real), "v1"]
    cfg = python.parent.parent / "pyvenv.cfg"
    if cfg.exists():
        parts.append(_stamp(cfg))
    return digest("\n".join(parts))


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def probe(python: Path, cache_dir: Path) -> Interpreter:
    """The interpreter's facts, from `cache_dir` when its binary and pyvenv.cfg are unchanged."""
    if not python.exists():
        raise ConfigError(f"interpreter {python} does not exist")
    cached = cache_dir / f"{_cache_key(python)}.json"
    try:
        return _from_json(json.loads(cached.read_text()))
    except (OSError, ValueError, KeyError):
        pass
    data = _run_probe(python)
    with contextlib.suppress(OSError):  # a read-only cache: the facts are asked again next time
        atomic_write_text(cached, json.dumps(data))
    return _from_json(data)


def _run_probe(python: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        out = subprocess.run(
            [str(python), "-I", "-c", _PROBE, _packaging_dir()],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=60,
        ).stdout
    except subprocess.CalledProcessError as exc:
        from tasks.envs.discovery import one_line

        tail = one_line(exc.stderr or "") or f"exit status {exc.returncode}"  # a pyenv shim's words in full
        raise ConfigError(f"cannot run interpreter {python}: {tail}") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"cannot run interpreter {python}: {exc}") from None
    data: dict[str, object] = json.loads(out)
    return data


def _from_json(data: dict[str, object]) -> Interpreter:
    return Interpreter(
        executable=str(data["executable"]),
        prefix=str(data["prefix"]),
        base_prefix=str(data["base_prefix"]),
        version=str(data["version"]),
        markers=dict(data["markers"]),  # type: ignore[call-overload]
        tags=tuple(data["tags"]),  # type: ignore[arg-type]
        paths=dict(data["paths"]),  # type: ignore[call-overload]
        venv_paths=dict(data["venv_paths"]),  # type: ignore[call-overload]
    )


def in_venv(base: Interpreter, venv: Path) -> Interpreter:
    """The interpreter of a virtual environment made from `base`: same tags, its own paths."""
    paths = {k: v.replace("@VENV@", str(venv)) for k, v in base.venv_paths.items()}
    return replace(base, executable=str(venv / "bin" / "python"), prefix=str(venv), paths=paths)


def venv_base(venv: Path) -> Path | None:
    """The interpreter a virtual environment was made from, as its pyvenv.cfg says."""
    try:
        lines = (venv / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        return None
    cfg = {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in lines)}
    if cfg.get("executable"):
        return Path(cfg["executable"])
    home = cfg.get("home")
    return Path(home) / "python3" if home else None


def probe_env(venv: Path, fallback: str, cache_dir: Path) -> Interpreter:
    """The target's facts: from the venv's base interpreter when it exists, else from `fallback`."""
    base = venv_base(venv)
    if base is not None and base.exists():
        return in_venv(probe(base, cache_dir), venv)
    return probe(find_python(fallback), cache_dir)


def find_python(spec: str) -> Path:
    """`python=` as given: a path, a command on PATH, or a version (`3.12`, `python3.12`, `cpython@3.12`).

    A version is looked for on PATH, under pyenv and among uv's interpreters (tasks.envs.discovery).
    """
    import shutil

    from tasks.envs.discovery import find_by_version, parse_request

    if os.sep in spec:
        return Path(spec).expanduser().absolute()
    request = parse_request(spec)
    if request is not None and len(request.version) > 1:  # python3.12 on PATH is the first candidate
        return find_by_version(spec, request)
    found = shutil.which(spec)  # a command: `python3` is what PATH says, as ever
    if found:
        return Path(found)
    if request is None:
        raise ConfigError(f"interpreter {spec!r} not found on PATH")
    return find_by_version(spec, request)
