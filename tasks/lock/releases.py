"""A project's releases on the indexes: its files grouped by version (parsed lazily), and which fit.

`project` reads `name`'s files from the first index that lists it (plus find-links), a JSON page
entry by entry (`tasks.index.jsonpage`) or, while its body is unchanged, from its memo
(`tasks.index.pagememo`); a `Project` turns its entries into `DistFile`s only for the versions
the resolver looks at, and `usable_release` keeps the files of one version that the target can
install (pure).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from tasks.core.errors import IndexUnavailable
from tasks.core.urls import strip_credentials
from tasks.envs.interpreter import Interpreter
from tasks.index.choice import file_version, python_ok, wheel_rank
from tasks.index.jsonpage import entry_at, filename_offsets
from tasks.index.pagememo import PageMemo, memo_path, page_digest, read_memo, write_memo
from tasks.index.pages import (
    JSON_TYPE,
    DistFile,
    PageGetter,
    find_links_files,
    json_file,
    parse_html_page,
    project_files,
    reported_for,
)
from tasks.inputs.config import Indexes


@dataclass(frozen=True)
class Release:
    """One version of a project: the files usable for the target, and whether all are yanked."""

    version: Version
    files: tuple[DistFile, ...]
    all_files: tuple[DistFile, ...]
    yanked: bool

    def best_wheel(self, interp: Interpreter) -> DistFile | None:
        ranked = [
            (r, f) for f in self.files if f.is_wheel and (r := wheel_rank(f.filename, interp)) is not None
        ]
        return min(ranked, key=lambda item: (item[1].yanked is not None, item[0]))[1] if ranked else None

    def sdist(self) -> DistFile | None:
        return next((f for f in self.files if not f.is_wheel), None)

    def metadata_wheel(self, interp: Interpreter) -> DistFile | None:
        """The wheel to read this version's metadata from: the target's best, else any other.

        Another platform's wheel of the same version carries the same Requires-Dist (markers are
        evaluated for the target afterwards), so an sdist is built for metadata only when the
        version has no wheel at all, as uv does.
        """
        best = self.best_wheel(interp)
        if best is not None:
            return best
        wheels = sorted(
            (f for f in self.all_files if f.is_wheel), key=lambda f: (f.yanked is not None, f.filename)
        )
        return wheels[0] if wheels else None


class Project:
    """One project's files on the index, by version, newest first.

    A PEP 691 page lists every file ever released (tens of thousands for some projects); the
    resolver looks at a few versions, so entries become DistFiles only when their version is
    first looked at. `groups` (version → entries) is given when already known (a page's memo).
    """

    def __init__(
        self,
        entries: Iterable[Any],
        make: Callable[[Any], DistFile],
        filename: Callable[[Any], str],
        *,
        groups: dict[Version, list[Any]] | None = None,
    ):
        if groups is None:
            groups = by_version((filename(entry), entry) for entry in entries)
        self.versions = sorted(groups, reverse=True)
        self._groups, self._make = groups, make

    @classmethod
    def of(cls, files: Iterable[DistFile]) -> Project:
        return cls(files, lambda f: f, lambda f: f.filename)

    def files(self, version: Version) -> tuple[DistFile, ...]:
        return tuple(self._make(entry) for entry in self._groups.get(version, ()))


def by_version(named: Iterable[tuple[str, Any]]) -> dict[Version, list[Any]]:
    """(filename, entry) pairs grouped by the version their filename gives, in the order given;
    an entry whose filename gives no version is left out."""
    by_text: dict[str, list[tuple[str, Any]]] = {}
    for filename, entry in named:
        text = _version_text(filename)
        if text in by_text:
            by_text[text].append((filename, entry))
        else:
            by_text[text] = [(filename, entry)]
    groups: dict[Version, list[Any]] = {}
    for text, group in by_text.items():
        version = _parse_version(text) if text else None
        if version is not None:
            groups.setdefault(version, []).extend(entry for _, entry in group)
            continue
        for filename, entry in group:  # not a name-version filename we know: ask the careful parser
            if (parsed := file_version(filename)) is not None:
                groups.setdefault(parsed, []).append(entry)
    return groups


def project(get: PageGetter, indexes: Indexes, name: NormalizedName, cache: Path | None = None) -> Project:
    """`name`'s files on the first index that has it (no dependency confusion), plus find-links.

    With `cache`, what each JSON page taught is kept there (`tasks.index.pagememo`) and used again
    while the page's body stays the same.
    """
    found: Project | None = None
    for url in indexes.urls:
        if (found := _index_project(get, url, name, cache)) is not None:
            break
    extra = [f for location in indexes.find_links for f in find_links_files(get, location, name)]
    if extra:  # find-links are few: all files join eagerly
        listed = [f for v in found.versions for f in found.files(v)] if found else []
        return Project.of(listed + extra)
    return found or Project.of([])


def _index_project(get: PageGetter, url: str, name: NormalizedName, cache: Path | None) -> Project | None:
    if url.startswith("file:"):
        files = project_files(get, url, name)
        return None if files is None else Project.of(files)
    page_url = f"{url.rstrip('/')}/{name}/"
    page = get(page_url)
    if page is None:
        return None
    final_url, content_type, text = page
    try:
        if content_type.split(";")[0].strip() != JSON_TYPE:
            with reported_for(name):
                return Project.of(parse_html_page(text, final_url, url))
        make = functools.partial(_json_entry_at, text, final_url, url, name)
        memo = memo_path(cache, page_url) if cache is not None else None
        return Project((), make, str, groups=_json_groups(text, memo))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _unreadable(exc, url, name) from None


def _json_groups(text: str, memo: Path | None) -> dict[Version, list[int]]:
    """The page's entries (their offsets) by version: from the page's memo when it was made from this
    very text, else by reading the page (and the memo written again)."""
    if memo is None:
        return by_version(filename_offsets(text))
    digest = page_digest(text)
    known = read_memo(memo)
    if known is not None and known.fits(text, digest) and (groups := _memo_groups(known)) is not None:
        return groups
    groups = by_version(filename_offsets(text))
    newest_first = sorted(groups, reverse=True)
    versions, starts = tuple(map(str, newest_first)), tuple(tuple(groups[v]) for v in newest_first)
    with contextlib.suppress(OSError):  # only a memo: a read-only cache costs the next run a read
        write_memo(memo, PageMemo(digest, len(text), versions, starts))
    return groups


def _memo_groups(memo: PageMemo) -> dict[Version, list[int]] | None:
    groups: dict[Version, list[int]] = {}
    for text, starts in zip(memo.versions, memo.starts, strict=True):
        version = _parse_version(text)
        if version is None or version in groups:
            return None  # not a memo this code wrote
        groups[version] = list(starts)
    return groups


def _json_entry_at(text: str, page_url: str, index: str, name: NormalizedName, start: int) -> DistFile:
    """The DistFile of the entry at `start` in the page's text (checked as it is made)."""
    try:
        with reported_for(name):
            return json_file(entry_at(text, start), page_url, index)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _unreadable(exc, index, name) from None


def _unreadable(exc: Exception, index: str, name: NormalizedName) -> IndexUnavailable:
    return IndexUnavailable(f"unreadable index page: {exc!r}", package=name, source=strip_credentials(index))


def _version_text(filename: str) -> str:
    """The version part of a wheel or sdist filename, without parsing ("" when unsure)."""
    if filename.endswith(".whl"):
        return filename.split("-", 2)[1] if 4 <= filename.count("-") <= 5 else ""
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)].rpartition("-")[2]
    return ""


@functools.lru_cache(maxsize=65536)
def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def usable_release(
    version: Version,
    group: tuple[DistFile, ...],
    interp: Interpreter,
    allow_sdists: bool,
    allow_wheels: bool = True,
) -> Release | None:
    """The release of `version` for the target, None when no file of it is usable (pure).

    `allow_wheels`/`allow_sdists`: what `--only-binary`/`--no-binary` leave of this project.
    """
    usable = tuple(
        f
        for f in group
        if python_ok(f.requires_python, interp.version) and _usable(f, interp, allow_sdists, allow_wheels)
    )
    if not usable:
        return None
    return Release(version, usable, group, all(f.yanked is not None for f in usable))


def _usable(file: DistFile, interp: Interpreter, allow_sdists: bool, allow_wheels: bool) -> bool:
    if file.is_wheel:
        return allow_wheels and wheel_rank(file.filename, interp) is not None
    return allow_sdists
