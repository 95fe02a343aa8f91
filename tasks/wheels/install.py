"""Installing unpacked wheels, linked from the cache (removing them: `tasks.wheels.uninstall`).

The bulk of a wheel (every file outside its .data and .dist-info directories) is linked straight
from the unpacked entry's RECORD rows, directories made first, packages in threads, nothing
hashed: the entry was checked when it was unpacked and `entry_damage` checks it before linking.
pypa's installer writes the rest: entry-point scripts, .data files, .dist-info, RECORD.

Crash safety: a wheel's .dist-info files are written after all its other files, and RECORD last
(atomically), so a distribution whose RECORD is in place is complete; one without it is broken
and the next sync reinstalls it.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
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

from tasks.core.errors import CacheEntryDamaged, InstallError
from tasks.core.safenames import entry_point_scripts
from tasks.wheels.trust import check_replaces_nothing
from tasks.wheels.unpacked import unpacked_executables

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
        self.filename = filename
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

    @functools.cached_property
    def root_scheme(self) -> str:
        wheel = parse_metadata_file(self.read_dist_info("WHEEL"))
        return "purelib" if wheel["Root-Is-Purelib"] == "true" else "platlib"

    @functools.cached_property
    def _split(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """The rows linked directly (root files with a hash), and those left to installer."""
        linked: list[tuple[str, str, str]] = []
        rest: list[tuple[str, str, str]] = []
        special = (self.data_dir + "/", self._dist_info + "/")
        for row in self.rows:
            path = row[0]
            direct = row[1] and not path.startswith(special) and "__pycache__" not in path.split("/")[:-1]
            (linked if direct else rest).append(row)
        return linked, rest

    @property
    def linked_rows(self) -> list[tuple[str, str, str]]:
        """The files linked straight into the root scheme (outside .data and .dist-info)."""
        return self._split[0]

    def root_dirs(self, scheme: dict[str, str]) -> set[str]:
        """The directories the wheel's root files go to (the .data ones are left to installer)."""
        base = os.path.abspath(scheme[self.root_scheme])
        data = self.data_dir + "/"
        return {os.path.dirname(os.path.join(base, p)) for p, _, _ in self.rows if not p.startswith(data)}

    def get_contents(self) -> Iterator[tuple[tuple[str, str, str], BinaryIO, bool]]:
        """The rows not linked already, the .dist-info ones last and RECORD last of all (crash safety)."""
        root = str(self.root)
        for path, hash_, size in sorted(self._split[1], key=self._dist_info_last):
            source = os.path.join(root, path)
            self.records[source] = (hash_, size)
            stream = _LazyFile(source)
            try:
                yield (path, hash_, size), stream, path in self.executables  # type: ignore[misc]
            finally:
                stream.close()

    def _dist_info_last(self, row: tuple[str, str, str]) -> int:
        if not row[0].startswith(self._dist_info + "/"):
            return 0
        return 2 if row[0] == f"{self._dist_info}/RECORD" else 1


def _find_dist_info(root: Path, filename: str) -> str:
    try:
        infos = [p.name for p in root.iterdir() if p.name.endswith(".dist-info") and p.is_dir()]
    except OSError as exc:
        raise CacheEntryDamaged(f"cannot read the cache entry ({exc.strerror})", source=str(root)) from None
    if len(infos) != 1:
        raise InstallError(f"wheel {filename} has {len(infos)} .dist-info directories")
    return infos[0]


@dataclass
class LinkingDestination(SchemeDictionaryDestination):
    """Writes files as links to the unpacked cache (`link`: hardlink, symlink or copy).

    Hard links fall back to copies where they are impossible (another file system). A file already
    in the environment is unlinked before it is replaced, never written through (it may be a link
    into the cache).
    """

    source_records: dict[str, tuple[str, str]] = field(default_factory=dict)
    can_link: bool = True
    link: str = "hardlink"
    _made: set[str] = field(default_factory=set)
    _linked_rows: list[tuple[str, str, str]] = field(default_factory=list)

    def link_tree(self, root: str, scheme: Any, rows: list[tuple[str, str, str]]) -> None:
        """Link each row's file from the unpacked entry `root` into `scheme` (one link call a file).

        Their directories were made beforehand (`make_dirs`); a path that is not plainly inside the
        scheme (absolute, `..`) goes through the checked `_target` instead.
        """
        base = os.path.abspath(self.scheme_dict[scheme]) + os.sep
        link = self._link_or_copy
        for path, _, _ in rows:
            plain = not path.startswith("/") and "/." not in "/" + path and "//" not in path
            link(root + os.sep + path, base + path if plain else self._target(scheme, path))
        self._linked_rows = rows

    def finalize_installation(self, scheme: Any, record_file_path: str, records: Any) -> None:
        """RECORD: the linked files' rows as the entry's RECORD gives them, then what installer wrote."""
        start = self.scheme_dict[scheme]

        def prefix(other: str) -> str | None:
            return None if other == scheme else os.path.relpath(self.scheme_dict[other], start=start) + "/"

        text = io.StringIO()
        writer = csv.writer(text, delimiter=",", quotechar='"', lineterminator="\n")
        writer.writerows(self._linked_rows)
        writer.writerows(record.to_row(prefix(other)) for other, record in records)
        with io.BytesIO(text.getvalue().encode("utf-8")) as stream:
            self.write_to_fs(scheme, record_file_path, stream, is_executable=False)

    def write_to_fs(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        source = getattr(stream, "name", None)
        known = self.source_records.get(source) if isinstance(source, str) else None
        if known is None or not known[0] or scheme == "scripts":
            return self._write_new(scheme, path, stream, is_executable)
        assert isinstance(source, str)
        self._link_or_copy(source, self._target(scheme, path))
        hash_, size = known
        return RecordEntry(path, Hash.parse(hash_), int(size) if size else None)

    def _write_new(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        """Write a file's bytes (scripts, generated metadata); RECORD by rename, so it is whole or absent."""
        target = self._target(scheme, path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        if not path.endswith(".dist-info/RECORD"):
            return super().write_to_fs(scheme, path, stream, is_executable)
        temporary = f"{path}.wheelwright-tmp"
        entry = super().write_to_fs(scheme, temporary, stream, is_executable)
        os.replace(self._target(scheme, temporary), target)
        return RecordEntry(path, entry.hash_, entry.size)

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
        if self.link == "symlink":
            _replace(os.symlink, source, target)
            return
        if self.link == "hardlink" and self.can_link:
            try:
                _replace(os.link, source, target)
                return
            except FileNotFoundError:
                raise
            except OSError:
                self.can_link = False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)  # never copy into an old hard link: it is the cache's file
        shutil.copy2(source, target)


def _replace(make: Any, source: str, target: str) -> None:
    """`make(source, target)` (os.link or os.symlink), replacing whatever `target` was."""
    try:
        make(source, target)
    except FileExistsError:
        os.unlink(target)
        make(source, target)


def install_wheels(
    wheels: list[tuple[Path, str, dict[str, Any] | None]],
    scheme: dict[str, str],
    python: str,
    workers: int = 8,
    link: str = "hardlink",
) -> None:
    """Install unpacked wheels (root, filename, direct_url) into one environment, in parallel."""
    sources = [UnpackedWheel(root, filename) for root, filename, _ in wheels]
    for source in sources:  # unsafe script names are refused before any directory is made
        scripts: list[str] = []
        if "entry_points.txt" in source.dist_info_filenames:
            scripts = entry_point_scripts(
                source.read_dist_info("entry_points.txt"), package=source.distribution
            )
        rows = (row[0] for row in source.rows)
        check_replaces_nothing(
            scripts, rows, source.data_dir, wheel=source.filename, package=source.distribution
        )
    made = make_dirs({d for source in sources for d in source.root_dirs(scheme)}, workers)
    largest_first = sorted(range(len(sources)), key=lambda i: -len(sources[i].rows))

    def one(source: UnpackedWheel, direct_url: dict[str, Any] | None) -> None:
        _install_one(source, scheme, python, direct_url, made, link)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, sources[i], wheels[i][2]) for i in largest_first]
    for future in futures:
        future.result()


def _install_one(
    source: UnpackedWheel,
    scheme: dict[str, str],
    python: str,
    direct_url: dict[str, Any] | None,
    made: set[str],
    link: str = "hardlink",
) -> None:
    destination = LinkingDestination(
        scheme_dict=scheme, interpreter=python, script_kind="posix", overwrite_existing=True
    )
    destination.source_records = source.records
    destination.link = link
    destination._made = made
    extra = {"INSTALLER": INSTALLER_NAME}
    if direct_url is not None:
        extra["direct_url.json"] = json.dumps(direct_url, sort_keys=True).encode()
    try:
        destination.link_tree(str(source.root), source.root_scheme, source.linked_rows)
        install(source, destination, extra)  # scripts, .data files, .dist-info and RECORD
    except CacheEntryDamaged as exc:
        exc.package = source.distribution
        raise
    except FileNotFoundError as exc:
        _raise_if_cache_file(exc, source)
        raise InstallError(f"cannot install: {exc}", package=source.distribution) from None
    except (ValueError, OSError) as exc:
        raise InstallError(f"cannot install: {exc}", package=source.distribution) from None


def _raise_if_cache_file(exc: FileNotFoundError, source: UnpackedWheel) -> None:
    """A file missing from the cache entry (not from the environment) damages the entry."""
    root = str(source.root) + os.sep
    missing = str(exc.filename or "")
    if missing.startswith(root) and not os.path.exists(missing):
        raise CacheEntryDamaged(
            f"{missing.removeprefix(root)} is missing", package=source.distribution, source=str(source.root)
        ) from None


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
