"""PEP 751 `pylock.toml` as a sync input: validated and selected for the target by `packaging.pylock`.

`read_pylock` turns the packages `Pylock.select` chooses (the target's markers and tags, the
asked-for extras and groups) into the same requirement lines a requirements lock gives, so the
same fetch, build and freshness tasks run:

| selected | line |
|---|---|
| a wheel or sdist, the package has `index` | `name==version`, each file's sha256 a `--hash` |
| a wheel or sdist without `index` | a direct URL to that file with its `#sha256=` |
| `archive` | a direct URL (or a local file, relative to the lock) with its sha256 |
| `vcs` | `git+URL@commit-id` (built at that commit) |
| `directory` | a local path relative to the lock, `editable` kept |

Only this module imports tomllib and packaging.pylock, and only when a lock is read: a no-op
sync decides from its outline memo without parsing the lock (`tasks.run.outline`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.core.errors import RequirementsError
from tasks.inputs.reqline import Origin, ReqLine
from tasks.inputs.requirements import IndexOptions, RequirementsFile
from tasks.inputs.sources import GitSource, PathSource, RegistrySource, Source, UrlSource

_NAME = re.compile(r"^pylock\.[^.]+\.toml$")


def is_pylock_path(path: Path) -> bool:
    """`pylock.toml` or `pylock.<name>.toml`, PEP 751's file names."""
    return path.name == "pylock.toml" or bool(_NAME.match(path.name))


def load_pylock(path: Path) -> Any:
    """The validated `Pylock` document (an invalid one: one line naming the field)."""
    import tomllib
    from packaging.pylock import Pylock, PylockValidationError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RequirementsError(f"{path}: invalid TOML: {exc}") from None
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise RequirementsError(f"{path}: {exc}") from None


def read_pylock(
    path: Path,
    environment: Mapping[str, str],
    tags: Iterable[str],
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
) -> RequirementsFile:
    """The lines the target installs from the lock (`groups` empty: the lock's default groups)."""
    from packaging.pylock import PylockSelectError
    from packaging.tags import parse_tag

    lock = load_pylock(path)
    chosen_groups = list(groups)
    try:
        selected = list(
            lock.select(
                environment=dict(environment),
                tags=[tag for text in tags for tag in parse_tag(text)],
                extras=list(extras),
                dependency_groups=chosen_groups or None,
            )
        )
    except PylockSelectError as exc:
        raise RequirementsError(f"{path}: {exc}") from None
    lines = tuple(_line(package, choice, path, number) for number, (package, choice) in enumerate(selected))
    indexes = list(dict.fromkeys(p.index for p, _ in selected if p.index and _from_index(p, _)))
    index = (
        IndexOptions(index_url=indexes[0], extra_index_urls=tuple(indexes[1:])) if indexes else IndexOptions()
    )
    return RequirementsFile(requirements=lines, index=index, files=(path,))


def _from_index(package: Any, choice: Any) -> bool:
    from packaging.pylock import PackageSdist, PackageWheel

    return isinstance(choice, (PackageWheel, PackageSdist)) and bool(package.index)


def _line(package: Any, choice: Any, path: Path, number: int) -> ReqLine:
    from packaging.pylock import PackageArchive, PackageDirectory, PackageSdist, PackageVcs, PackageWheel

    name = canonicalize_name(package.name)
    origin = Origin(path, 0)
    if isinstance(choice, (PackageWheel, PackageSdist)) and package.index:
        files = [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]
        hashes = tuple(sorted({f"sha256:{f.hashes['sha256']}" for f in files if "sha256" in f.hashes}))
        return ReqLine(name, Requirement(f"{name}=={package.version}"), RegistrySource(), origin, hashes)
    if isinstance(choice, (PackageWheel, PackageSdist, PackageArchive)):
        return _archive_line(name, choice, path, origin, getattr(choice, "subdirectory", None))
    if isinstance(choice, PackageVcs):
        return _vcs_line(name, choice, path, origin, number)
    assert isinstance(choice, PackageDirectory)
    root = _local(choice.path, path)
    source = PathSource(root, editable=bool(choice.editable), relative=not Path(choice.path).is_absolute())
    return ReqLine(name, Requirement(f"{name} @ {root.as_uri()}"), source, origin, editable=source.editable)


def _local(where: str, lock: Path) -> Path:
    return (lock.parent / where).resolve()


def _archive_line(name: str, file: Any, path: Path, origin: Origin, subdirectory: str | None) -> ReqLine:
    sha256 = file.hashes.get("sha256")
    if not sha256:
        raise RequirementsError(f"{path}: {name}: the lock gives no sha256 for {file.url or file.path}")
    source: Source
    if file.url:
        source = UrlSource(file.url, subdirectory=subdirectory, sha256=sha256)
        url = file.url
    else:
        local = _local(file.path, path)
        source = PathSource(local, relative=not Path(file.path).is_absolute())
        url = local.as_uri()
    key = canonicalize_name(name)
    return ReqLine(key, Requirement(f"{name} @ {url}"), source, origin, (f"sha256:{sha256}",))


def _vcs_line(name: str, vcs: Any, path: Path, origin: Origin, number: int) -> ReqLine:
    if vcs.type != "git":
        raise RequirementsError(
            f"{path}: {name}: only git is supported, not {vcs.type!r} (packages[{number}])"
        )
    url = vcs.url or _local(vcs.path, path).as_uri()
    source = GitSource(url, ref=vcs.commit_id, subdirectory=vcs.subdirectory)
    key = canonicalize_name(name)
    return ReqLine(key, Requirement(f"{name} @ git+{url}@{vcs.commit_id}"), source, origin)
