"""Installing unpacked wheels with pypa's installer (hard-linked from the cache) and removing them."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry, parse_record_file
from installer.sources import WheelSource

from tasks.errors import InstallError

INSTALLER_NAME = b"wheelwright\n"


class UnpackedWheel(WheelSource):
    """A wheel unpacked in the cache, read through its RECORD."""

    def __init__(self, root: Path, filename: str):
        name, version = filename.split("-")[:2]
        super().__init__(name, version)
        self.root = root
        self._dist_info = _find_dist_info(root, filename)
        self.records: dict[str, tuple[str, str]] = {}

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
        for path, hash_, size in rows:
            source = self.root / path
            if not source.is_file():
                continue
            self.records[str(source)] = (hash_, size)
            with source.open("rb") as stream:
                yield (path, hash_, size), stream, os.access(source, os.X_OK)


def _find_dist_info(root: Path, filename: str) -> str:
    infos = [p.name for p in root.iterdir() if p.name.endswith(".dist-info") and p.is_dir()]
    if len(infos) != 1:
        raise InstallError(f"wheel {filename} has {len(infos)} .dist-info directories")
    return infos[0]


@dataclass
class LinkingDestination(SchemeDictionaryDestination):
    """Writes files as hard links to the unpacked cache (copies where links are impossible)."""

    source_records: dict[str, tuple[str, str]] | None = None
    can_link: bool = True

    def write_to_fs(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        source = getattr(stream, "name", None)
        known = (self.source_records or {}).get(source) if isinstance(source, str) else None
        if known is None or not known[0]:
            return super().write_to_fs(scheme, path, stream, is_executable)
        target = self._path_with_destdir(scheme, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            target.unlink()
        self._link_or_copy(Path(str(source)), target)
        hash_, size = known
        return RecordEntry(path, Hash.parse(hash_), int(size) if size else None)

    def _link_or_copy(self, source: Path, target: Path) -> None:
        if self.can_link:
            try:
                os.link(source, target)
                return
            except OSError:
                self.can_link = False
        shutil.copy2(source, target)


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
