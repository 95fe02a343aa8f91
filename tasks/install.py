"""Installing unpacked wheels with pypa's installer (hard-linked from the cache) and removing them."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import shutil
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry, parse_record_file
from installer.sources import WheelSource
from installer.utils import parse_metadata_file

from tasks.archive import unpacked_executables
from tasks.errors import InstallError

INSTALLER_NAME = b"wheelwright\n"

# installer warns (and skips) when a wheel ships __pycache__ files; pip says nothing either.
warnings.filterwarnings("ignore", message="Skip installing .*__pycache__", category=RuntimeWarning)


class _LazyFile:
    """A cached file that is opened only if installer reads it (linked files never are)."""

    def __init__(self, path: str):
        self.name = path
        self._file: BinaryIO | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._file is None:
            self._file = open(self.name, "rb")  # noqa: SIM115 - closed by close()
        return getattr(self._file, attr)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class UnpackedWheel(WheelSource):
    """A wheel unpacked in the cache, read through its RECORD."""

    def __init__(self, root: Path, filename: str):
        name, version = filename.split("-")[:2]
        super().__init__(name, version)
        self.root = root
        self._dist_info = _find_dist_info(root, filename)
        self.records: dict[str, tuple[str, str]] = {}
        self.executables = unpacked_executables(root)

    @property
    def dist_info_dir(self) -> str:
        return self._dist_info

    @property
    def dist_info_filenames(self) -> list[str]:
        return [p.name for p in (self.root / self._dist_info).iterdir() if p.is_file()]

    def read_dist_info(self, filename: str) -> str:
        return (self.root / self._dist_info / filename).read_text(encoding="utf-8")

    def validate_record(self) -> None:
        """Validated once, when the wheel was unpacked into the cache."""

    @functools.cached_property
    def rows(self) -> list[tuple[str, str, str]]:
        return list(parse_record_file(self.read_dist_info("RECORD").splitlines()))

    def root_dirs(self, scheme: dict[str, str]) -> set[str]:
        """The directories the wheel's root files go to (the .data ones are left to installer)."""
        wheel = parse_metadata_file(self.read_dist_info("WHEEL"))
        base = os.path.abspath(scheme["purelib" if wheel["Root-Is-Purelib"] == "true" else "platlib"])
        data = self.data_dir + "/"
        return {os.path.dirname(os.path.join(base, p)) for p, _, _ in self.rows if not p.startswith(data)}

    def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
        root = str(self.root)
        for path, hash_, size in self.rows:
            source = os.path.join(root, path)
            self.records[source] = (hash_, size)
            stream = _LazyFile(source)
            try:
                yield (path, hash_, size), stream, path in self.executables  # type: ignore[misc]
            finally:
                stream.close()


def _find_dist_info(root: Path, filename: str) -> str:
    infos = [p.name for p in root.iterdir() if p.name.endswith(".dist-info") and p.is_dir()]
    if len(infos) != 1:
        raise InstallError(f"wheel {filename} has {len(infos)} .dist-info directories")
    return infos[0]


@dataclass
class LinkingDestination(SchemeDictionaryDestination):
    """Writes files as hard links to the unpacked cache (copies where links are impossible)."""

    source_records: dict[str, tuple[str, str]] = field(default_factory=dict)
    can_link: bool = True
    _made: set[str] = field(default_factory=set)

    def write_to_fs(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        source = getattr(stream, "name", None)
        known = self.source_records.get(source) if isinstance(source, str) else None
        if known is None or not known[0] or scheme == "scripts":
            return super().write_to_fs(scheme, path, stream, is_executable)
        assert isinstance(source, str)
        self._link_or_copy(source, self._target(scheme, path))
        hash_, size = known
        return RecordEntry(path, Hash.parse(hash_), int(size) if size else None)

    def _target(self, scheme: str, path: str) -> str:
        base = os.path.abspath(self.scheme_dict[scheme])
        target = os.path.abspath(os.path.join(base, path))
        if not target.startswith(base + os.sep):
            raise ValueError(f"Attempting to write {path} outside of the target directory")
        parent = os.path.dirname(target)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        return target

    def _link_or_copy(self, source: str, target: str) -> None:
        if self.can_link:
            try:
                _replace_link(source, target)
                return
            except OSError:
                self.can_link = False
        shutil.copy2(source, target)


def _replace_link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except FileExistsError:
        os.unlink(target)
        os.link(source, target)


def install_wheels(
    wheels: list[tuple[Path, str, dict[str, Any] | None]],
    scheme: dict[str, str],
    python: str,
    workers: int = 4,
) -> None:
    """Install unpacked wheels (root, filename, direct_url) into one environment, in parallel."""
    sources = [UnpackedWheel(root, filename) for root, filename, _ in wheels]
    made = make_dirs({d for source in sources for d in source.root_dirs(scheme)}, workers)

    def one(source: UnpackedWheel, direct_url: dict[str, Any] | None) -> None:
        _install_one(source, scheme, python, direct_url, made)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, s, w[2]) for s, w in zip(sources, wheels, strict=True)]
    for future in futures:
        future.result()


def _install_one(
    source: UnpackedWheel,
    scheme: dict[str, str],
    python: str,
    direct_url: dict[str, Any] | None,
    made: set[str],
) -> None:
    destination = LinkingDestination(
        scheme_dict=scheme, interpreter=python, script_kind="posix", overwrite_existing=True
    )
    destination.source_records = source.records
    destination._made = made
    extra = {"INSTALLER": INSTALLER_NAME}
    if direct_url is not None:
        extra["direct_url.json"] = json.dumps(direct_url, sort_keys=True).encode()
    try:
        install(source, destination, extra)
    except (ValueError, OSError) as exc:
        raise InstallError(f"cannot install: {exc}", package=source.distribution) from None


def make_dirs(dirs: set[str], workers: int) -> set[str]:
    """Create directories and their missing parents, one depth at a time, in parallel."""
    todo: set[str] = set()
    for directory in dirs:
        while directory not in todo and not os.path.isdir(directory):
            todo.add(directory)
            directory = os.path.dirname(directory)
    by_depth: dict[int, list[str]] = {}
    for directory in todo:
        by_depth.setdefault(directory.count(os.sep), []).append(directory)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for depth in sorted(by_depth):
            list(pool.map(_mkdir, by_depth[depth]))
    return set(dirs) | todo


def _mkdir(path: str) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(path)


# --- removing ------------------------------------------------------------------------------


def uninstall(dist_info: Path, env_prefix: Path) -> int:
    """Remove what a distribution's RECORD lists, never anything outside `env_prefix`."""
    site = dist_info.parent
    prefix = env_prefix.resolve()
    paths = _record_paths(dist_info, site)
    removed = 0
    for path in sorted(paths, key=lambda p: len(p.parts), reverse=True):
        if _inside(path, prefix) and _remove_file(path):
            removed += 1
            _remove_pycache_for(path)
    for directory in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        _prune_empty(directory, site, prefix)
    shutil.rmtree(dist_info, ignore_errors=True)
    return removed


def _record_paths(dist_info: Path, site: Path) -> set[Path]:
    record = dist_info / "RECORD"
    if not record.is_file():
        return set()
    with record.open(newline="", encoding="utf-8") as f:
        rows = [row[0] for row in csv.reader(f) if row]
    return {Path(os.path.normpath(site / row)) for row in rows}


def _inside(path: Path, prefix: Path) -> bool:
    parent = path.parent.resolve() if path.parent.exists() else path.parent
    return parent == prefix or parent.is_relative_to(prefix)


def _remove_file(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        return False


def _remove_pycache_for(path: Path) -> None:
    if path.suffix != ".py":
        return
    cache = path.parent / "__pycache__"
    if cache.is_dir():
        for pyc in cache.glob(f"{path.stem}.*.pyc"):
            pyc.unlink(missing_ok=True)


def _prune_empty(directory: Path, site: Path, prefix: Path) -> None:
    while directory != site and _inside(directory, prefix) and directory.is_dir():
        pycache = directory / "__pycache__"
        if pycache.is_dir() and not any(pycache.iterdir()):
            pycache.rmdir()
        if any(directory.iterdir()):
            return
        directory.rmdir()
        directory = directory.parent
