"""Installing unpacked wheels with pypa's installer (hard-linked from the cache) and removing them."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry, parse_record_file
from installer.sources import WheelSource

from tasks.archive import unpacked_executables
from tasks.errors import InstallError

INSTALLER_NAME = b"wheelwright\n"


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

    def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
        rows = parse_record_file(self.read_dist_info("RECORD").splitlines())
        root = str(self.root)
        for path, hash_, size in rows:
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


def install_wheel(
    unpacked: Path,
    filename: str,
    scheme: dict[str, str],
    python: str,
    *,
    direct_url: dict[str, Any] | None = None,
) -> None:
    """Install one unpacked wheel into the environment whose install paths are `scheme`."""
    source = UnpackedWheel(unpacked, filename)
    destination = LinkingDestination(
        scheme_dict=scheme, interpreter=python, script_kind="posix", overwrite_existing=True
    )
    destination.source_records = source.records
    extra = {"INSTALLER": INSTALLER_NAME}
    if direct_url is not None:
        extra["direct_url.json"] = json.dumps(direct_url, sort_keys=True).encode()
    try:
        install(source, destination, extra)
    except (ValueError, OSError) as exc:
        raise InstallError(f"cannot install {filename}: {exc}", package=source.distribution) from None


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
