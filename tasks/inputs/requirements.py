"""Requirements files as pip reads them: lines, options, includes, and what each line names."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import RequirementsError
from tasks.inputs.formats import NO_BINARY, ONLY_BINARY, check_value
from tasks.inputs.project import command_name
from tasks.inputs.sources import (
    ARCHIVE_SUFFIXES,
    GitSource,
    PathSource,
    RegistrySource,
    Source,
    fragment_value,
    source_from_url,
)

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# pip's options that wheelwright does not implement: an error on the line, never dropped.
_REFUSED = {
    "--require-hashes": "every --hash given is checked already; hash-checking mode is not implemented",
    "--no-build-isolation": "builds always run in isolated build environments",
    "--trusted-host": "give an https index, or a certificate with REQUESTS_CA_BUNDLE",
    "--use-feature": "pip's feature switches do not apply",
    "--use-deprecated": "pip's feature switches do not apply",
    "--global-option": "give build options per line with --config-settings",
    "--no-deps": "a lock has every dependency; nothing is installed without them",
}


@dataclass(frozen=True)
class Origin:
    """Where a line was read: file and 1-based line number."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class IndexOptions:
    """The index options a requirements file sets (None/empty when it sets none)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False  # `--pre`: pre-releases are versions like any other, for every project
    prefer_binary: bool = False  # `--prefer-binary`: an older release with a wheel before a newer sdist
    formats: tuple[tuple[str, str], ...] = ()  # `--only-binary`/`--no-binary` values in order (see formats)

    def merged(self, later: IndexOptions) -> IndexOptions:
        return IndexOptions(
            index_url=later.index_url or self.index_url,
            extra_index_urls=_unique(self.extra_index_urls + later.extra_index_urls),
            find_links=_unique(self.find_links + later.find_links),
            no_index=self.no_index or later.no_index,
            pre=self.pre or later.pre,
            prefer_binary=self.prefer_binary or later.prefer_binary,
            formats=self.formats + later.formats,
        )


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


@dataclass(frozen=True)
class RequirementsFile:
    """A requirements file with its includes resolved: requirements, constraints, options, files."""

    requirements: tuple[ReqLine, ...] = ()
    constraints: tuple[ReqLine, ...] = ()
    index: IndexOptions = field(default_factory=IndexOptions)
    files: tuple[Path, ...] = ()


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with comments stripped and `\\` continuations joined, numbered by their first line."""
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        line = _COMMENT.sub("", raw) if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(p.strip() for p in parts).strip()
        parts = []
        if joined:
            yield start, joined
    if parts:
        joined = " ".join(p.strip() for p in parts).strip()
        if joined:
            yield start, joined


def expand_vars(line: str, environ: Mapping[str, str]) -> str:
    """pip's `${VAR}` expansion (upper-case names only); unknown variables stay as written."""
    return _ENV_VAR.sub(lambda m: environ.get(m.group(1), m.group(0)), line)


def parse_file(path: Path, environ: Mapping[str, str] | None = None) -> RequirementsFile:
    """Read a requirements file and everything it includes with `-r` and `-c`."""
    env = os.environ if environ is None else environ
    return _parse(path.resolve(), env, constraint=False, seen=())


def _read(path: Path, origin: Origin | None) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        where = f"{origin}: " if origin else ""
        hint = _missing_hint(path) if origin is None and isinstance(exc, FileNotFoundError) else ""
        raise RequirementsError(f"{where}cannot read {path}: {exc.strerror}{hint}") from None


def _missing_hint(path: Path) -> str:
    """What to do about a missing top-level file: write a loose input, or lock one into this file."""
    if path.suffix == ".in":
        return " (write the requirements to lock in it, one a line)"
    return f" (make it with `{command_name()} lock` from a requirements.in)"


def _parse(
    path: Path,
    env: Mapping[str, str],
    *,
    constraint: bool,
    seen: tuple[Path, ...],
    origin: Origin | None = None,
) -> RequirementsFile:
    if path in seen:
        raise RequirementsError(f"{origin}: {path} includes itself")
    result = RequirementsFile(files=(path,))
    for number, line in logical_lines(_read(path, origin)):
        here = Origin(path, number)
        part = _parse_line(expand_vars(line, env), here, env, constraint, (*seen, path))
        result = _combine(result, part)
    return result


def _combine(a: RequirementsFile, b: RequirementsFile) -> RequirementsFile:
    return RequirementsFile(
        requirements=a.requirements + b.requirements,
        constraints=a.constraints + b.constraints,
        index=a.index.merged(b.index),
        files=tuple(dict.fromkeys(a.files + b.files)),
    )


def _parse_line(
    line: str, origin: Origin, env: Mapping[str, str], constraint: bool, seen: tuple[Path, ...]
) -> RequirementsFile:
    if line.startswith("-"):
        return _parse_option(line, origin, env, constraint, seen)
    req = parse_requirement_line(line, origin)
    if constraint:
        return RequirementsFile(constraints=(req,))
    return RequirementsFile(requirements=(req,))


def _split_option(line: str, origin: Origin) -> tuple[str, str]:
    if line.startswith("--") and "=" in line.split()[0]:
        name, _, value = line.partition("=")
        return name, value.strip()
    for short in ("-r", "-c", "-i", "-f", "-e"):
        if line.startswith(short) and not line.startswith(short + "-"):
            return short, line[len(short) :].strip()
    name, _, value = line.partition(" ")
    return name, value.strip()


_LONG = {
    "--requirement": "-r",
    "--constraint": "-c",
    "--index-url": "-i",
    "--find-links": "-f",
    "--editable": "-e",
}


def _parse_option(
    line: str, origin: Origin, env: Mapping[str, str], constraint: bool, seen: tuple[Path, ...]
) -> RequirementsFile:
    name, value = _split_option(line, origin)
    name = _LONG.get(name, name)
    if name in ("-r", "-c"):
        target = _relative(value, origin)
        return _parse(target, env, constraint=constraint or name == "-c", seen=seen, origin=origin)
    if name == "-e":
        return RequirementsFile(requirements=(_editable(value, origin),))
    return RequirementsFile(index=_index_option(name, value, origin))


def _editable(value: str, origin: Origin) -> ReqLine:
    """`-e DIR` (or `-e file:///DIR`): a local project installed in place with PEP 660."""
    req = parse_requirement_line(_need("-e", value, origin), origin)
    source = req.source
    if not isinstance(source, PathSource) or not source.path.is_dir():
        what = "a git URL" if isinstance(source, GitSource) else repr(value)
        raise RequirementsError(
            f"{origin}: -e takes a local project directory, not {what} (clone it and give -e ./DIR)",
            package=req.name,
        )
    return replace(req, source=replace(source, editable=True), editable=True)


def _index_option(name: str, value: str, origin: Origin) -> IndexOptions:
    if name == "-i":
        return IndexOptions(index_url=_need(name, value, origin))
    if name == "--extra-index-url":
        return IndexOptions(extra_index_urls=(_need(name, value, origin),))
    if name == "-f":
        return IndexOptions(find_links=(_find_link(_need(name, value, origin), origin),))
    if name == "--no-index":
        return IndexOptions(no_index=True)
    if name in ("--pre", "--prefer-binary", "--no-index") and value:
        raise RequirementsError(f"{origin}: {name} takes no value, got {value!r} (one option a line)")
    if name == "--pre":
        return IndexOptions(pre=True)
    if name == "--prefer-binary":
        return IndexOptions(prefer_binary=True)
    if name in (ONLY_BINARY, NO_BINARY):
        if (problem := check_value(value)) is not None:
            raise RequirementsError(f"{origin}: {name} {problem}")
        return IndexOptions(formats=((name, value),))
    if name in _REFUSED:
        raise RequirementsError(f"{origin}: option {name} is not supported by wheelwright ({_REFUSED[name]})")
    raise RequirementsError(f"{origin}: unknown option {name}")


def _need(name: str, value: str, origin: Origin) -> str:
    if not value:
        raise RequirementsError(f"{origin}: {name} needs a value")
    return value


def _relative(value: str, origin: Origin) -> Path:
    return (origin.path.parent / _need("-r", value, origin)).resolve()


def _find_link(value: str, origin: Origin) -> str:
    if _URL.match(value):
        return value
    return str((origin.path.parent / value).resolve())


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


def require_pins(reqs: RequirementsFile) -> None:
    """A lock must pin every index requirement to exactly one version."""
    for line in reqs.requirements:
        if not line.source.direct and line.pinned_version() is None:
            raise RequirementsError(
                f"{line.origin}: {line.requirement} does not pin exactly one version; "
                f"make a lock from loose requirements with `{command_name()} lock`",
                package=line.name,
            )
