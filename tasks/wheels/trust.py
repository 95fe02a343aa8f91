"""What a wheel may claim and touch: its METADATA agrees with its filename, and it replaces no file that
makes the environment run (the interpreter, the activate scripts, pyvenv.cfg). Pure decisions.

- METADATA `Name`/`Version` that differ from the filename's (names canonicalized, versions compared
  as PEP 440): the installed distribution would not be the one the lock pins;
- a console or GUI script, `.data/scripts/` or `.data/data/` file landing on `bin/python`,
  `bin/python3`, `bin/python3.N`, `bin/pythonw`, `bin/activate*` or `pyvenv.cfg`: the wheel would
  replace the interpreter, and the environment would no longer run Python.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from tasks.core.errors import InstallError, InvalidWheel

# python, python3, python3.12, pythonw (and .exe); activate, activate.fish, Activate.ps1, activate_this.py
# (not every name that starts with "activate": argcomplete ships activate-global-python-argcomplete)
_INTERPRETER = re.compile(
    r"^(python(\d+(\.\d+)?)?w?(\.exe)?|activate(\.[a-z0-9]+|_this\.py)?)$", re.IGNORECASE
)


def protected_name(script: str) -> bool:
    """Whether a file named `script` in the environment's bin/ would replace what runs it."""
    return bool(_INTERPRETER.match(script))


def protected_target(path: str) -> bool:
    """Whether `path` (relative to the environment's root) is the interpreter, an activate script or
    pyvenv.cfg."""
    parts = [p for p in posixpath.normpath(path.replace("\\", "/")).split("/") if p not in ("", ".")]
    if parts and parts[-1].lower() == "pyvenv.cfg" and len(parts) == 1:
        return True
    return len(parts) == 2 and parts[0].lower() in ("bin", "scripts") and protected_name(parts[1])


def replaced_environment_file(scripts: Iterable[str], rows: Iterable[str], data_dir: str) -> str | None:
    """The first file a wheel would write over the environment's interpreter, activate scripts or
    pyvenv.cfg: `scripts` are its entry-point script names, `rows` its RECORD paths."""
    for script in scripts:
        if protected_name(script):
            return f"bin/{script}"
    prefix = data_dir + "/"
    for row in rows:
        if not row.startswith(prefix):
            continue
        scheme, _, rest = row[len(prefix) :].partition("/")
        if scheme == "scripts" and protected_name(rest):
            return row
        if scheme == "data" and protected_target(rest):
            return row
    return None


def check_replaces_nothing(scripts: Iterable[str], rows: Iterable[str], data_dir: str, *, wheel: str,
                           package: str) -> None:  # fmt: skip
    """InstallError naming the wheel and the file when the wheel would replace what runs the environment."""
    found = replaced_environment_file(scripts, rows, data_dir)
    if found is not None:
        raise InstallError(f"wheel {wheel} would replace the environment's {found}: refused", package=package)


def identity_problem(filename: str, metadata: str) -> str | None:
    """Why a wheel's METADATA (its text) names another project or version than its filename, or None."""
    from email.parser import HeaderParser

    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import InvalidVersion, Version

    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        return f"invalid wheel filename ({exc})"
    message = HeaderParser().parsestr(metadata)
    found_name, found_version = str(message.get("Name", "")).strip(), str(message.get("Version", "")).strip()
    try:
        same_version = Version(found_version) == version
    except InvalidVersion:
        same_version = False
    if canonicalize_name(found_name) == name and same_version:
        return None
    return (
        f"its METADATA says {found_name or '(no name)'} {found_version or '(no version)'}, "
        f"its filename says {name} {version}"
    )


def check_identity(filename: str, metadata: str, *, package: str) -> None:
    """InvalidWheel with both values when METADATA and the filename disagree."""
    problem = identity_problem(filename, metadata)
    if problem is not None:
        raise InvalidWheel(f"wheel {filename}: {problem}", package=package)
