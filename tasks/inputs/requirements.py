"""Requirements files as pip reads them: logical lines, options, includes (`-r`, `-c`), editables.

What one requirement line names (its source, hashes, settings) is `tasks.inputs.reqline`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from tasks.core.errors import RequirementsError
from tasks.inputs.formats import NO_BINARY, ONLY_BINARY, check_value
from tasks.inputs.project import command_name
from tasks.inputs.reqline import Origin, ReqLine, is_url, parse_requirement_line
from tasks.inputs.sources import GitSource, PathSource

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
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
    if is_url(value):
        return value
    return str((origin.path.parent / value).resolve())


def require_pins(reqs: RequirementsFile) -> None:
    """A lock must pin every index requirement to exactly one version."""
    for line in reqs.requirements:
        if not line.source.direct and line.pinned_version() is None:
            raise RequirementsError(
                f"{line.origin}: {line.requirement} does not pin exactly one version; "
                f"make a lock from loose requirements with `{command_name()} lock`",
                package=line.name,
            )
