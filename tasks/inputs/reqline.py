"""One requirement line as pip reads it: PEP 508 or a bare URL or path, `--hash`, `--config-settings`.

`parse_requirement_line` gives a `ReqLine`: the requirement, the `Source` it names (an index, a
URL, git, a local path; a relative path is read from the file's directory), its hashes and its
build settings, and the `Origin` (file and line) every error names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import RequirementsError
from tasks.inputs.sources import (
    ARCHIVE_SUFFIXES,
    PathSource,
    RegistrySource,
    Source,
    fragment_value,
    source_from_url,
)

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(text: str) -> bool:
    """A URL with a scheme (`https://...`, `file:///...`), not a path."""
    return _URL.match(text) is not None


@dataclass(frozen=True)
class Origin:
    """Where a line was read: file and 1-based line number."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class ReqLine:
    """One requirement: its PEP 508 form, where it comes from, its allowed hashes, its origin."""

    name: NormalizedName
    requirement: Requirement
    source: Source
    origin: Origin
    hashes: tuple[str, ...] = ()
    editable: bool = False
    config_settings: tuple[tuple[str, str], ...] = ()  # `--config-settings key=value` / `-C`, as written

    def pinned_version(self) -> str | None:
        """The one version an `==`/`===` pin names, else None."""
        specs = list(self.requirement.specifier)
        if len(specs) != 1 or specs[0].operator not in ("==", "==="):
            return None
        if specs[0].version.endswith(".*"):
            return None
        return specs[0].version

    def sha256s(self) -> frozenset[str]:
        return frozenset(h.split(":", 1)[1] for h in self.hashes if h.startswith("sha256:"))


def _split_hashes(line: str, origin: Origin) -> tuple[str, tuple[str, ...]]:
    if "--hash" not in line:
        return line, ()
    head, _, tail = line.partition("--hash")
    hashes = []
    for token in ("--hash" + tail).split():
        value = token.removeprefix("--hash").lstrip("=").strip()
        if not value:
            continue
        if ":" not in value:
            raise RequirementsError(f"{origin}: --hash needs algorithm:value, got {value!r}")
        hashes.append(value.lower())
    return head.strip(), tuple(hashes)


_SETTING = re.compile(r"(?:^|\s)(?:--config-settings|-C)(?:=|\s+)(\S*)")


def split_config_settings(line: str, origin: Origin) -> tuple[str, tuple[tuple[str, str], ...]]:
    """pip's per-requirement `--config-settings key=value` (also `-C`, repeatable), taken off the line."""
    pairs = []
    for value in _SETTING.findall(line):
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise RequirementsError(f"{origin}: --config-settings needs key=value, got {value!r}")
        pairs.append((key, setting))
    return _SETTING.sub(" ", line).strip(), tuple(pairs)


def settings_dict(pairs: tuple[tuple[str, str], ...]) -> dict[str, str | list[str]]:
    """PEP 517 `config_settings` as pip passes them: a key given more than once becomes a list."""
    merged: dict[str, str | list[str]] = {}
    for key, value in pairs:
        before = merged.get(key)
        if before is None:
            merged[key] = value
        else:
            merged[key] = [*(before if isinstance(before, list) else [before]), value]
    return merged


def parse_requirement_line(line: str, origin: Origin) -> ReqLine:
    """One requirement line (without options other than --hash and --config-settings) as a ReqLine."""
    line, settings = split_config_settings(line, origin)
    text, hashes = _split_hashes(line, origin)
    text, marker = _split_marker(text)
    relative = False
    if _URL.match(text) or _looks_like_path(text):
        req = _bare_reference(text, marker, origin)
        relative = not _URL.match(text) and not os.path.isabs(os.path.expanduser(text))
    else:
        req = _pep508(text if not marker else f"{text} ; {marker}", origin)
        if req.url and req.url.startswith((".", "/", "~")):  # `name[dev] @ .`: a path, relative to the file
            relative = not os.path.isabs(os.path.expanduser(req.url))
            req.url = _path_uri(req.url, origin)
    source = _source_of(req, origin)
    if relative and isinstance(source, PathSource):
        source = replace(source, relative=True)
    if hashes:
        _check_hashable(req, source, origin)
    return ReqLine(canonicalize_name(req.name), req, source, origin, hashes, config_settings=settings)


def _check_hashable(req: Requirement, source: Source, origin: Origin) -> None:
    """pip's rule: `--hash` cannot verify a git repository or a local directory, so it is refused."""
    if source.hash_refusal is not None:
        raise RequirementsError(f"{origin}: --hash cannot verify {source.hash_refusal}", package=req.name)


def _split_marker(text: str) -> tuple[str, str]:
    if _URL.match(text) or _looks_like_path(text):
        head, sep, marker = text.partition(" ;")
        if not sep:
            head, sep, marker = text.partition("; ")
        return head.strip(), marker.strip()
    return text, ""


def _looks_like_path(text: str) -> bool:
    if text.startswith((".", "/", "~")):
        return True
    first = text.split(";")[0].strip()
    return first.endswith(ARCHIVE_SUFFIXES) and "@" not in first and "==" not in first


def _pep508(text: str, origin: Origin) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise RequirementsError(f"{origin}: invalid requirement {text!r}: {exc}") from None


_EXTRAS = re.compile(r"^(?P<where>.*?)(?P<extras>\[[^\]]*\])$")


def _bare_reference(text: str, marker: str, origin: Origin) -> Requirement:
    """A URL or path with no `name @` (pip's `.[dev]` too): the name comes from #egg=, the filename
    or pyproject."""
    where, extras = text, ""
    if not _URL.match(text) and (found := _EXTRAS.match(text)):
        where, extras = found["where"], found["extras"]
    url = where if _URL.match(where) else _path_uri(where, origin)
    name = _name_of_reference(where, url, origin)
    suffix = f" ; {marker}" if marker else ""
    return _pep508(f"{name}{extras} @ {url}{suffix}", origin)


def _path_uri(path: str, origin: Origin) -> str:
    """A local path as written in a file (relative to that file's directory) as a file: URL."""
    return (origin.path.parent / os.path.expanduser(path)).resolve().as_uri()


def _name_of_reference(text: str, url: str, origin: Origin) -> str:
    egg = fragment_value(url, "egg")
    if egg:
        return egg
    filename = url.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    name = name_from_filename(filename)
    if name:
        return name
    directory = Path(unquote(urlsplit(url).path)) if url.startswith("file:") else None
    if directory is not None:
        name = _name_from_project(directory)
        if name:
            return name
    raise RequirementsError(f"{origin}: cannot tell the project name of {text!r}; write `name @ {text}`")


def name_from_filename(filename: str) -> str | None:
    """The project name of a wheel or sdist filename, or None when it is not one."""
    if filename.endswith(".whl"):
        return filename.split("-")[0]
    for suffix in (".tar.gz", ".zip", ".tgz", ".tar.bz2", ".tar.xz"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            name, sep, version = stem.rpartition("-")
            if sep and version[:1].isdigit():
                return name
    return None


def _name_from_project(path: Path) -> str | None:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return None
    import tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = data.get("project", {}).get("name")
    return name if isinstance(name, str) else None


def _source_of(req: Requirement, origin: Origin) -> Source:
    if not req.url:
        return RegistrySource()
    source = source_from_url(req.url, package=req.name)
    if (problem := source.problem()) is not None:
        raise RequirementsError(f"{origin}: {problem}", package=req.name)
    return source
