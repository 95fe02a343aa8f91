"""What decides an editable install's metadata: the files whose change rebuilds it (nothing else does).

An editable install points into the project, so editing a module needs no rebuild; only a change
to what the backend reads to write the metadata does: `pyproject.toml`, `setup.cfg`, `setup.py`,
the readme `[project]` names, and the files a backend is told to read dynamic fields from
(`[tool.setuptools.dynamic]` `file`/`attr`, `[tool.hatch.version] path`, flit's module for a
dynamic version or description).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomllib

FIXED = ("pyproject.toml", "setup.cfg", "setup.py")


def metadata_inputs(root: Path) -> list[Path]:
    """The files below `root` that decide its metadata (those that exist), sorted."""
    table = _pyproject(root)
    named = {*FIXED, *_readme(table), *_setuptools_dynamic(table), *_hatch_version(table)}
    named |= set(_flit(table))
    found = {root / name for name in named if name and (root / name).is_file()}
    return sorted(path for path in found if _inside(path, root))


def editable_revision(root: Path) -> str:
    """A digest of the names and contents of `metadata_inputs(root)`: an editable's revision."""
    digest = hashlib.sha256(b"editable\0")
    for path in metadata_inputs(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _pyproject(root: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # missing or broken: the file itself is still digested, and the build says what is wrong


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _readme(table: dict[str, Any]) -> Iterator[str]:
    readme = table.get("project", {}).get("readme")
    if isinstance(readme, str):
        yield readme
    elif isinstance(readme, dict) and isinstance(readme.get("file"), str):
        yield readme["file"]


def _setuptools_dynamic(table: dict[str, Any]) -> Iterator[str]:
    dynamic = table.get("tool", {}).get("setuptools", {}).get("dynamic", {})
    package_dir = table.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    base = package_dir.get("", "") if isinstance(package_dir, dict) else ""
    for spec in dynamic.values() if isinstance(dynamic, dict) else ():
        if not isinstance(spec, dict):
            continue
        files = spec.get("file", [])
        yield from [f for f in ([files] if isinstance(files, str) else files) if isinstance(f, str)]
        if isinstance(spec.get("attr"), str):
            yield from _module_files(base, spec["attr"].rsplit(".", 1)[0])


def _module_files(base: str, module: str) -> Iterator[str]:
    """Where `module` may live (a package's __init__.py or a module file, flat or under `base`)."""
    path = module.replace(".", "/")
    for prefix in dict.fromkeys([f"{base}/" if base else "", "src/", ""]):
        yield f"{prefix}{path}/__init__.py"
        yield f"{prefix}{path}.py"


def _hatch_version(table: dict[str, Any]) -> Iterator[str]:
    path = table.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    if isinstance(path, str):
        yield path


def _flit(table: dict[str, Any]) -> Iterator[str]:
    """flit reads a dynamic version and description from the module itself."""
    project = table.get("project", {})
    if not set(project.get("dynamic", ())) & {"version", "description"}:
        return
    module = table.get("tool", {}).get("flit", {}).get("module", {}).get("name") or project.get("name", "")
    yield from _module_files("", str(module).replace("-", "_"))
