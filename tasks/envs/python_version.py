"""A target Python named by version only (`python-version=3.9`): markers, tags and Requires-Python
for that version, derived from an interpreter that runs, as uv's `--python-version` does.

Locks for several Python versions can then be made from one runner. What cannot be derived is
kept from the running interpreter: the platform, the implementation (CPython stays CPython) and
its ABI flags. Nothing is installed with such a target: `python=` names a real interpreter.
"""

from __future__ import annotations

from dataclasses import replace

from tasks.envs.interpreter import Interpreter


def full_version(version: str) -> str:
    """`3.9` → `3.9.0` (the lowest patch release, as uv assumes), `3.9.18` as given."""
    parts = version.split(".")
    return ".".join(parts + ["0"] * (3 - len(parts)))


def for_python_version(interp: Interpreter, version: str) -> Interpreter:
    """`interp` as if it were Python `version` (same platform and implementation)."""
    full = full_version(version)
    short = ".".join(full.split(".")[:2])
    if full == interp.version:
        return interp
    markers = {**interp.markers, "python_version": short, "python_full_version": full}
    if markers.get("implementation_name") == "cpython":
        markers["implementation_version"] = full
    return replace(interp, version=full, markers=markers, tags=_tags(interp, short))


def _tags(interp: Interpreter, short: str) -> tuple[str, ...]:
    """The tags a CPython `short` on the same platforms accepts, best first (packaging's order)."""
    from packaging import tags

    major, minor = (int(p) for p in short.split("."))
    platforms = list(dict.fromkeys(t.split("-")[2] for t in interp.tags if not t.endswith("-any")))
    found = [
        *tags.cpython_tags((major, minor), platforms=platforms),
        *tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms),
    ]
    return tuple(str(t) for t in found)
