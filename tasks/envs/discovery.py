"""Finding an interpreter by version (`python=3.12`): on PATH, under pyenv, among uv's managed Pythons.

| written as | asks for |
|---|---|
| `3.12`, `3.12.4` | any interpreter of that version |
| `python3.12` | that command on PATH when it runs, else any 3.12 |
| `cpython@3.12`, `cpython3.12`, `cpython-3.12` | a CPython of that version |

The places, in order: the directories of PATH (`python3.N`, `python3`, `python`), pyenv's
versions (`$PYENV_ROOT`, the root of a pyenv shims directory on PATH, `~/.pyenv`), uv's managed
interpreters (`$UV_PYTHON_INSTALL_DIR`, `$XDG_DATA_HOME/uv/python`, `~/.local/share/uv/python`).
A candidate whose name already says another version is not run; the others are asked their
version (a pyenv shim that cannot run is passed over), those whose name says the version first.
The first that matches wins; when none does, the error names every place looked.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import ConfigError

_REQUEST = re.compile(r"^(?:(?P<impl>c?python)[@-]?)?(?P<version>3(?:\.\d+){0,2})$", re.IGNORECASE)
_VERSION_IN_NAME = re.compile(r"(?:^|[-/a-z])(3\.\d+(?:\.\d+)?)(?=$|[^\d.]|\.(?!\d))")
_ASK = "import sys; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3])"


@dataclass(frozen=True)
class Request:
    """A version asked for: its parts (3, 12) or (3, 12, 4), and whether only CPython will do."""

    version: tuple[int, ...]
    cpython_only: bool

    def matches(self, implementation: str, version: str) -> bool:
        if self.cpython_only and implementation != "cpython":
            return False
        return _parts(version)[: len(self.version)] == self.version


def parse_request(spec: str) -> Request | None:
    """`3.12`, `python3.12`, `cpython@3.12.4` → a Request; anything else (a command name) → None."""
    found = _REQUEST.match(spec.strip())
    if not found:
        return None
    cpython_only = (found["impl"] or "").lower() == "cpython"
    return Request(_parts(found["version"]), cpython_only)


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _homes() -> list[Path]:
    """The user's home as HOME says and as the password database says (they differ under sudo, in CI)."""
    import pwd

    homes = [Path(os.environ["HOME"])] if os.environ.get("HOME") else []
    with contextlib.suppress(KeyError):
        homes.append(Path(pwd.getpwuid(os.getuid()).pw_dir))
    return _unique(homes)


def pyenv_roots() -> list[Path]:
    """Where pyenv may keep its versions: $PYENV_ROOT, the root of a shims directory on PATH, ~/.pyenv."""
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry.rstrip("/").endswith("pyenv/shims"):
            roots.append(Path(entry).parent)
    roots += [home / ".pyenv" for home in _homes()]
    return _unique(roots)


def uv_roots() -> list[Path]:
    """Where uv keeps the interpreters it installs."""
    roots = [Path(os.environ["UV_PYTHON_INSTALL_DIR"])] if os.environ.get("UV_PYTHON_INSTALL_DIR") else []
    if os.environ.get("XDG_DATA_HOME"):
        roots.append(Path(os.environ["XDG_DATA_HOME"]) / "uv" / "python")
    roots += [home / ".local" / "share" / "uv" / "python" for home in _homes()]
    return _unique(roots)


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def _path_candidates(request: Request) -> Iterator[Path]:
    minor = ".".join(str(p) for p in request.version[:2])
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        for name in (f"python{minor}", "python3", "python"):
            exe = Path(entry or ".") / name
            if os.access(exe, os.X_OK) and exe.is_file():
                yield exe


def _installed(versions: Path) -> Iterator[Path]:
    """`<versions>/*/bin/python3`, newest version first."""
    try:
        homes = [d for d in versions.iterdir() if (d / "bin" / "python3").exists()]
    except OSError:
        return
    for home in sorted(homes, key=lambda d: _parts(_version_in_name(d.name) or "0"), reverse=True):
        yield home / "bin" / "python3"


def _version_in_name(name: str) -> str | None:
    found = _VERSION_IN_NAME.search(name.lower())
    return found[1] if found else None


def places() -> list[tuple[str, list[Path]]]:
    """Where a version is looked for, as the error names them."""
    return [
        ("pyenv", [root / "versions" for root in pyenv_roots()]),
        ("uv", uv_roots()),
    ]


def _may_be(request: Request, named: str) -> bool:
    """Whether a version read from a name (maybe without its patch) can be the requested one."""
    parts = _parts(named)
    shared = min(len(parts), len(request.version))
    return parts[:shared] == request.version[:shared]


def candidates(request: Request) -> Iterator[Path]:
    """Every interpreter that may match: first those whose name says the version (PATH, pyenv, uv),
    then those whose name says none (`python3` on PATH); one whose name says another is left out."""
    seen: set[Path] = set()
    installed = (exe for _, dirs in places() for d in dirs for exe in _installed(d))
    named: list[Path] = []
    unnamed: list[Path] = []
    for exe in (*_path_candidates(request), *installed):
        version = _version_in_name(f"{exe.parent.parent.name}/{exe.name}")
        if version is not None and not _may_be(request, version):
            continue
        key = exe.resolve() if exe.exists() else exe
        if key not in seen:
            seen.add(key)
            (unnamed if version is None else named).append(exe)
    yield from named
    yield from unnamed


def ask_version(exe: Path) -> tuple[str, str] | str:
    """(implementation, version) as the interpreter says, or why it did not run (a pyenv shim's words)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        done = subprocess.run(
            [str(exe), "-I", "-c", _ASK], capture_output=True, text=True, timeout=30, env=env
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    words = done.stdout.split()
    if done.returncode == 0 and len(words) == 2:
        return (words[0], words[1])
    return one_line(done.stderr) or f"exit status {done.returncode}"


def one_line(text: str) -> str:
    """Every non-blank line of `text`, joined: a multi-line failure shown in full on one line."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def find_by_version(spec: str, request: Request) -> Path:
    """The first interpreter that runs and reports the version, else one line naming where it looked."""
    failed: list[str] = []
    for exe in candidates(request):
        said = ask_version(exe)
        if isinstance(said, tuple):
            if request.matches(*said):
                return exe
        elif exe.name == spec:  # the very command asked for, and it did not run: say why
            failed.append(f"{exe} did not run: {said}")
    why = "".join(f"; {line}" for line in failed)
    raise ConfigError(f"no interpreter for python={spec}: looked {looked()}{why}")


def looked() -> str:
    shown = ["on PATH"]
    for what, dirs in places():
        shown.append(f"under {what} (" + ", ".join(str(d) for d in dirs) + ")")
    return ", ".join(shown)
