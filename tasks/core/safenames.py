"""The one place where an untrusted name (index filename, URL basename, archive member, script) meets a path.

Every name that came from the network or from an archive goes through here before it is joined to
a directory: a path component must be one segment (no `/` or `\\`, not `.` or `..`, no NUL or other
control character); a distribution file must also be a valid wheel or sdist filename of the project
it is expected to belong to. Anything else raises `UnsafeName`, naming the package and the source.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

from tasks.core.errors import UnsafeName
from tasks.core.urls import strip_credentials

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEX = re.compile(r"^[0-9a-f]{1,128}$")
SDIST_SUFFIXES = (".tar.gz", ".zip")


def segment_problem(name: str) -> str | None:
    """Why `name` cannot be one path component, or None when it can."""
    if not name:
        return "it is empty"
    if name in (".", ".."):
        return "it is `.` or `..`"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if _CONTROL.search(name):
        return "it contains a control character"
    return None


def safe_segment(name: str, *, what: str, package: str | None = None, source: str | None = None) -> str:
    """`name` itself when it is one safe path component; UnsafeName otherwise."""
    problem = segment_problem(name)
    if problem:
        cause = f"unsafe {what} {shown_name(name)}: {problem}"
        raise UnsafeName(cause, package=package, source=_shown(source))
    return name


def dist_filename(filename: str, project: str | None, *, source: str | None = None) -> str:
    """A wheel or sdist filename that is safe as a path and belongs to `project` (when given)."""
    from packaging.utils import canonicalize_name

    safe_segment(filename, what="file name", package=project, source=source)
    found = _project_of(filename, project, source)
    if project is not None and canonicalize_name(found) != canonicalize_name(project):
        raise UnsafeName(
            f"file {shown_name(filename)} belongs to project {found!r}, not {project!r}",
            package=project,
            source=_shown(source),
        )
    return filename


def _project_of(filename: str, project: str | None, source: str | None) -> str:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith(SDIST_SUFFIXES):
            return str(parse_sdist_filename(filename)[0])
        problem = "neither a wheel nor an sdist (.tar.gz, .zip)"
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        problem = f"not a valid distribution file name ({exc})"
    raise UnsafeName(f"{shown_name(filename)} is {problem}", package=project, source=_shown(source))


def url_filename(url: str, *, package: str | None = None) -> str:
    """The decoded last path segment of a direct URL ("archive" when empty), checked as above.

    A `.whl` must be a valid wheel filename too (its project is checked where the pin is known).
    """
    raw = posixpath.basename(urlsplit(url).path)
    name = unquote(raw) if raw else "archive"
    safe_segment(name, what="file name in the URL", package=package, source=url)
    if name.endswith(".whl"):
        dist_filename(name, None, source=url)
    return name


def sha256_value(value: str, *, filename: str, source: str | None = None) -> str:
    """An index's sha256 for a file: hex digits only, as it names cache directories.

    (A wrong length is left to the download's hash check: it can never match.)
    """
    lowered = value.lower()
    if not _HEX.match(lowered):
        cause = f"invalid sha256 {shown_name(value)} for {shown_name(filename)}"
        raise UnsafeName(cause, source=_shown(source))
    return lowered


def member_parts(name: str) -> list[str]:
    """An archive member's path as safe segments (relative, no `..`); ValueError when it is not."""
    if name.startswith(("/", "\\")):
        raise ValueError(f"member {shown_name(name)} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    for part in parts:
        problem = segment_problem(part)
        if problem:
            raise ValueError(f"member {shown_name(name)} is not a safe path: {problem}")
    return parts


def script_name(name: str, *, package: str | None = None) -> str:
    """A console or GUI script's name from entry_points.txt: one safe file name in bin/."""
    return safe_segment(name, what="script name", package=package, source="entry_points.txt")


def entry_point_scripts(text: str, *, package: str) -> list[str]:
    """The console and GUI script names of an entry_points.txt, each checked by `script_name`."""
    from installer.utils import parse_entrypoints

    return [script_name(name, package=package) for name, _, _, _ in parse_entrypoints(text)]


def shown_name(name: str, limit: int = 120) -> str:
    """A name as quoted in an error line, shortened in the middle when long."""
    text = repr(name)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


def _shown(source: str | None) -> str | None:
    return strip_credentials(source) if source else None
