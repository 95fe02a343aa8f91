"""Writing a resolution as PEP 751 `pylock.toml`: built and validated with `packaging.pylock`.

One `[[packages]]` entry per pin: an index pin lists its version's `wheels` and `sdist` (url,
size, upload-time, sha256) and its `index`; a direct URL is an `archive` with its hash; a git
reference is `vcs` with the `commit-id` its build used; a local directory is `directory`, its
path relative to the lock's own directory (a lock that travels). The document is validated by
`Pylock.validate` before a byte is written, then written as TOML by tomli-w. No secrets: every
URL has its credentials removed (`${VAR}` references kept, as in a requirements lock).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.errors import WheelwrightError
from tasks.core.urls import redact_url
from tasks.index.pages import DistFile
from tasks.inputs.sources import GitSource, PathSource, UrlSource
from tasks.lock.provider import Resolution, ResolvedPin

if TYPE_CHECKING:
    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock


class PylockOutError(WheelwrightError):
    """A pylock.toml cannot be written for this resolution (the cause names the package)."""


@dataclass(frozen=True)
class PylockSettings:
    """What the document records besides the packages."""

    out: Path  # the lock file (directories are written relative to its folder)
    created_by: str
    python: str  # the target's `python_full_version`
    environment: Mapping[str, str]  # the target's marker environment
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    archive_hashes: Mapping[str, str] | None = None  # name → sha256 of a direct archive without `#sha256=`
    tool: Mapping[str, Any] | None = None
    roots: Mapping[str, frozenset[str]] | None = None  # input name → "" (always), "extra:x", "group:g"


def build_pylock(resolution: Resolution, settings: PylockSettings) -> Pylock:
    """The validated document (raises PylockOutError naming the field a package got wrong)."""
    from packaging.markers import Marker
    from packaging.pylock import Pylock, PylockValidationError
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    markers = package_markers(resolution, settings.roots or {})
    packages = [
        _package(resolution.pins[name], settings, markers.get(name)) for name in sorted(resolution.pins)
    ]
    lock = Pylock(
        lock_version=Version("1.0"),
        environments=[Marker(_target_marker(settings.environment))],
        requires_python=SpecifierSet(f"=={'.'.join(settings.python.split('.')[:2])}.*"),
        extras=[canonicalize_name(e) for e in settings.extras] or None,
        dependency_groups=list(settings.groups) or None,
        created_by=settings.created_by,
        packages=packages,
        tool=settings.tool,
    )
    try:
        lock.validate()
    except PylockValidationError as exc:
        raise PylockOutError(f"the pylock document is invalid: {exc}") from None
    return lock


def render_pylock(lock: Pylock) -> str:
    """The document as TOML text (tomli-w; `[[packages]]` as arrays of tables)."""
    import tomli_w

    return str(tomli_w.dumps(_plain(lock.to_dict())))


def _plain(value: Any) -> Any:
    """to_dict's mappings and sequences as dicts and lists, datetimes kept (TOML has them)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_TARGET_KEYS = ("python_version", "sys_platform", "platform_machine", "implementation_name")


def _target_marker(environment: Mapping[str, str]) -> str:
    """The environment this single-target resolution holds for (select refuses any other)."""
    return " and ".join(f"{key} == {environment[key]!r}" for key in _TARGET_KEYS if key in environment)


def package_markers(resolution: Resolution, roots: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """A marker for each pin that only an extra or a group brings in (`'dev' in extras`), so that
    `select` installs it only when asked; a pin that anything else needs has none (pure).

    What brings a pin in flows down the `via` graph from the input's lines to a fixed point."""
    from tasks.lock.provider import TOP

    reasons: dict[str, frozenset[str]] = {name: frozenset() for name in resolution.pins}
    changed = True
    while changed:
        changed = False
        for name, pin in resolution.pins.items():
            found = set(reasons[name])
            for parent in pin.via:
                found |= (
                    roots.get(name, frozenset({""})) if parent == TOP else reasons.get(parent, frozenset())
                )
            if found != reasons[name]:
                reasons[name], changed = frozenset(found), True
    return {name: _marker(why) for name, why in reasons.items() if why and "" not in why}


def _marker(reasons: frozenset[str]) -> str:
    parts = []
    for reason in sorted(reasons):
        kind, _, value = reason.partition(":")
        parts.append(f"'{value}' in {'extras' if kind == 'extra' else 'dependency_groups'}")
    return " or ".join(parts)


def _package(pin: ResolvedPin, settings: PylockSettings, marker: str | None = None) -> Package:
    from packaging.markers import Marker
    from packaging.pylock import Package
    from packaging.version import Version

    common: dict[str, Any] = {"name": pin.name, "marker": Marker(marker) if marker else None}
    source = pin.source
    if isinstance(source, GitSource):
        return Package(**common, vcs=_vcs(pin, source))
    if isinstance(source, PathSource) and source.path.is_dir():
        return Package(**common, version=Version(pin.version), directory=_directory(source, settings.out))
    if isinstance(source, (UrlSource, PathSource)):
        return Package(**common, version=Version(pin.version), archive=_archive(pin, source, settings))
    wheels = [_wheel(f) for f in pin.files if f.is_wheel and f.sha256 and not f.yanked]
    sdists = [f for f in pin.files if not f.is_wheel and f.sha256 and not f.yanked]
    if not wheels and not sdists:
        raise PylockOutError("the index lists no file with a sha256 hash for this version", package=pin.name)
    index = next((f.index for f in pin.files if f.index), None)
    return Package(
        **common,
        version=Version(pin.version),
        index=redact_url(index) if index else None,
        wheels=wheels or None,
        sdist=_sdist(sdists[0]) if sdists else None,
    )


def _vcs(pin: ResolvedPin, source: GitSource) -> Any:
    from packaging.pylock import PackageVcs

    if not pin.commit:
        raise PylockOutError("no commit was recorded for this git reference", package=pin.name)
    return PackageVcs(
        type="git",
        url=redact_url(source.url),
        requested_revision=source.ref,
        commit_id=pin.commit,
        subdirectory=source.subdirectory,
    )


def _directory(source: PathSource, out: Path) -> Any:
    from packaging.pylock import PackageDirectory

    return PackageDirectory(path=_relative(source.path, out.parent), editable=source.editable or None)


def _relative(path: Path, base: Path) -> str:
    shown = Path(os.path.relpath(path, base)).as_posix()
    return shown if shown.startswith(".") else f"./{shown}"


def _archive(pin: ResolvedPin, source: UrlSource | PathSource, settings: PylockSettings) -> Any:
    from packaging.pylock import PackageArchive

    sha256 = (source.sha256 if isinstance(source, UrlSource) else None) or (
        settings.archive_hashes or {}
    ).get(pin.name)
    if not sha256:
        raise PylockOutError("no sha256 is known for this archive", package=pin.name)
    if isinstance(source, UrlSource):
        return PackageArchive(
            url=redact_url(source.url), hashes={"sha256": sha256}, subdirectory=source.subdirectory
        )
    path = _relative(source.path, settings.out.parent) if source.relative else str(source.path)
    return PackageArchive(path=path, size=source.path.stat().st_size, hashes={"sha256": sha256})


def _when(file: DistFile) -> datetime | None:
    if not file.upload_time:
        return None
    try:
        return datetime.fromisoformat(file.upload_time.replace("Z", "+00:00"))
    except ValueError:
        return None


def _wheel(file: DistFile) -> PackageWheel:
    from packaging.pylock import PackageWheel

    return PackageWheel(**_file_fields(file))


def _sdist(file: DistFile) -> PackageSdist:
    from packaging.pylock import PackageSdist

    return PackageSdist(**_file_fields(file))


def _file_fields(file: DistFile) -> dict[str, Any]:
    """What a `wheels` or `sdist` entry says of an index file: name, url, size, upload-time, sha256."""
    return {
        "name": file.filename,
        "url": redact_url(file.url),
        "size": file.size,
        "upload_time": _when(file),
        "hashes": {"sha256": file.sha256 or ""},
    }


def pylock_text(resolution: Resolution, settings: PylockSettings) -> str:
    """build, validate, render: what `lock out=pylock.toml` writes."""
    return render_pylock(build_pylock(resolution, settings))


__all__: Sequence[str] = ["PylockSettings", "build_pylock", "pylock_text", "render_pylock"]
