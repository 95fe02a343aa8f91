"""Real, valid wheels and sdists built from Python data (no build backend, no network)."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

_EPOCH = (2020, 1, 1, 0, 0, 0)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def wheel_filename(name: str, version: str, tag: str = "py3-none-any", build_tag: str | None = None) -> str:
    build = f"-{build_tag}" if build_tag else ""
    return f"{normalize(name)}-{version}{build}-{tag}.whl"


def metadata_text(
    name: str,
    version: str,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    provides_extra: Sequence[str] = (),
) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Python: {requires_python}"] if requires_python else []
    lines += [f"Provides-Extra: {extra}" for extra in provides_extra]
    lines += [f"Requires-Dist: {req}" for req in requires_dist]
    return "\n".join(lines) + "\n\n"


def _record_row(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(
    dest: Path,
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    provides_extra: Sequence[str] = (),
    files: Mapping[str, str | bytes] | None = None,
    console_scripts: Mapping[str, str] | None = None,
    tag: str = "py3-none-any",
    data_scripts: Mapping[str, str] | None = None,
    build_tag: str | None = None,
) -> Path:
    """Write a wheel into `dest` and return its path; the same inputs give the same bytes."""
    dest.mkdir(parents=True, exist_ok=True)
    module = normalize(name)
    dist_info = f"{module}-{version}.dist-info"
    members: dict[str, bytes] = {}
    for path, content in (files or {f"{module}/__init__.py": f'__version__ = "{version}"\n'}).items():
        members[path] = content.encode() if isinstance(content, str) else content
    for script, body in (data_scripts or {}).items():
        members[f"{module}-{version}.data/scripts/{script}"] = f"#!python\n{body}".encode()
    members[f"{dist_info}/METADATA"] = metadata_text(
        name, version, requires_dist, requires_python, provides_extra
    ).encode()
    purelib = "true" if tag.endswith("none-any") else "false"
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests.support\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    ).encode()
    if console_scripts:
        entries = "".join(f"{k} = {v}\n" for k, v in console_scripts.items())
        members[f"{dist_info}/entry_points.txt"] = f"[console_scripts]\n{entries}".encode()
    rows = [_record_row(path, data) for path, data in members.items()]
    members[f"{dist_info}/RECORD"] = ("\n".join([*rows, f"{dist_info}/RECORD,,"]) + "\n").encode()
    target = dest / wheel_filename(name, version, tag, build_tag)
    _write_zip(target, members, executable={p for p in members if "/scripts/" in p})
    return target


def _write_zip(target: Path, members: Mapping[str, bytes], executable: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in members.items():
            info = zipfile.ZipInfo(path, _EPOCH)
            info.external_attr = (0o755 if path in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    target.write_bytes(buffer.getvalue())


_BACKENDS = {
    "setuptools": ('["setuptools"]', "setuptools.build_meta"),
    "flit": ('["flit_core>=3.2,<5"]', "flit_core.buildapi"),
    "hatchling": ('["hatchling"]', "hatchling.build"),
}


def sdist_tree(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    backend: str = "setuptools",
    files: Mapping[str, str] | None = None,
    ext_module: bool = False,
    requires_python: str | None = None,
) -> dict[str, str]:
    """The files of a buildable project (pyproject.toml, PKG-INFO, the package)."""
    module = normalize(name)
    requires, build_backend = _BACKENDS[backend]
    deps = ", ".join(f'"{r}"' for r in requires_dist)
    tree = {
        "pyproject.toml": (
            f'[build-system]\nrequires = {requires}\nbuild-backend = "{build_backend}"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "test"\n'
            f"dependencies = [{deps}]\n"
            + (f'requires-python = "{requires_python}"\n' if requires_python else "")
        ),
        "PKG-INFO": metadata_text(name, version, requires_dist, requires_python),
        f"{module}/__init__.py": f'"""{name}."""\n__version__ = "{version}"\n',
    }
    if ext_module:
        assert backend == "setuptools", "extension modules need setuptools"
        tree[f"{module}/_speed.c"] = _EXT_SOURCE.replace("@NAME@", "_speed")
        tree["setup.py"] = (
            "from setuptools import Extension, setup\n"
            f"setup(ext_modules=[Extension('{module}._speed', ['{module}/_speed.c'])])\n"
        )
    tree.update(files or {})
    return tree


_EXT_SOURCE = """#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "@NAME@", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_@NAME@(void) { return PyModule_Create(&def); }
"""


def make_sdist(dest: Path, name: str, version: str, **options: object) -> Path:
    """Write `<name>-<version>.tar.gz` into `dest` (see sdist_tree for the options)."""
    dest.mkdir(parents=True, exist_ok=True)
    root = f"{normalize(name)}-{version}"
    target = dest / f"{root}.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        for path, text in sdist_tree(name, version, **options).items():  # type: ignore[arg-type]
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
            tar.addfile(info, io.BytesIO(data))
    return target


def make_sdist_dir(dest: Path, name: str, version: str, **options: object) -> Path:
    """Write the same project unpacked into `dest` (a local-path project)."""
    for path, text in sdist_tree(name, version, **options).items():  # type: ignore[arg-type]
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return dest
