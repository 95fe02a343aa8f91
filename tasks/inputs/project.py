"""Which project a run works on: its pipeline.yaml (found up the tree), its directory, the defaults
without one, the user's cache directory, and the commented pipeline.yaml `init` writes.

Found as make, git and uv find theirs: the current directory, then each parent. A few `stat`
calls, no parsing, so the no-op path can afford it on every run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tasks.core.errors import ConfigError

CONFIG_NAME = "pipeline.yaml"
# wheelwright's own checkout when run from one (site-packages when installed: never a project there)
CHECKOUT = Path(__file__).resolve().parents[2]
DEFAULT_LOCK = "requirements.txt"
DEFAULT_INPUT = "requirements.in"
PYLOCK = "pylock.toml"  # PEP 751's default name: the lock when the project has it and no requirements.txt
PYPROJECT = "pyproject.toml"  # the input when the project has no requirements.in (as pip-compile does)


def default_lock(project: Path) -> Path:
    """The lock without pipeline.yaml: requirements.txt, or pylock.toml when only that one exists."""
    txt = project / DEFAULT_LOCK
    return project / PYLOCK if not txt.exists() and (project / PYLOCK).is_file() else txt


def default_input(project: Path) -> Path:
    """The input without pipeline.yaml: requirements.in, or pyproject.toml when only that one exists."""
    loose = project / DEFAULT_INPUT
    return project / PYPROJECT if not loose.exists() and (project / PYPROJECT).is_file() else loose


def command_name() -> str:
    """How the user calls wheelwright, for messages: `./doit` in its checkout, else `wheelwright`."""
    return "./doit" if os.environ.get("WHEELWRIGHT_CWD") else "wheelwright"


def user_cwd() -> Path:
    """The directory the user ran the command from (./doit changes into its checkout first)."""
    return Path(os.environ.get("WHEELWRIGHT_CWD") or os.getcwd())


def _upwards(start: Path, name: str) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def find_config(start: Path | None = None) -> Path | None:
    """The nearest pipeline.yaml in `start` (the user's directory) or a parent; None if there is none."""
    return _upwards((start or user_cwd()).absolute(), CONFIG_NAME)


def project_dir(config: Path | None, start: Path | None = None) -> Path:
    """The project: pipeline.yaml's directory, else the nearest pyproject.toml's, else the current one."""
    if config is not None:
        return config.parent
    start = (start or user_cwd()).absolute()
    pyproject = _upwards(start, "pyproject.toml")
    return pyproject.parent if pyproject else start


def is_own_checkout(start: Path | None = None) -> bool:
    """Whether the project is wheelwright's own source checkout (its developer tasks apply)."""
    own = (CHECKOUT / "requirements" / "dev.txt").is_file() and (CHECKOUT / "dodo.py").is_file()
    return own and project_dir(find_config(start), start) == CHECKOUT


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user cache, as pip and uv choose theirs: $XDG_CACHE_HOME/wheelwright, else ~/.cache/..."""
    environ = os.environ if environ is None else environ
    if xdg := environ.get("XDG_CACHE_HOME"):
        return Path(xdg).expanduser() / "wheelwright"
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".cache" / "wheelwright"


def default_env_path(project: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The environment without pipeline.yaml: the active $VIRTUAL_ENV, else `.venv` in the project."""
    environ = os.environ if environ is None else environ
    active = environ.get("VIRTUAL_ENV")
    return Path(active).absolute() if active else project / ".venv"


def init_text(project: Path, environ: Mapping[str, str] | None = None) -> str:
    """A commented pipeline.yaml for `project`, from the files it has (pure: reads only names)."""
    env_path = default_env_path(project, environ)  # an active environment outside the project is not
    shown = os.path.relpath(env_path, project) if env_path.is_relative_to(project) else ".venv"  # written
    lock, loose = default_lock(project).name, default_input(project)
    has_in = loose.is_file()
    rows = [
        ("# cache: .wheelwright-cache", "default: the user cache (~/.cache/wheelwright)"),
        ("environments:", ""),
        ("  default:", "`wheelwright sync:default`, `wheelwright lock:default`"),
        (f"    requirements: {lock}", "the lock that `sync` makes the environment equal"),
        (f"    in: {loose.name}", "the loose input `lock` resolves" + ("" if has_in else " (write it)")),
        (f"    path: {shown}", "the environment `sync` keeps equal to the lock"),
        ("    # python: python3.12", "its interpreter (a command or a path)"),
    ]
    lines = [
        "# wheelwright's pipeline for this project (`wheelwright help` lists the tasks).",
        "# Paths are relative to this file. The index comes from pip's configuration",
        "# (PIP_INDEX_URL, pip.conf) unless set here with index-url: / extra-index-urls:.",
        *(f"{code:<35} # {note}" if note else code for code, note in rows),
    ]
    return "\n".join(lines) + "\n"


def write_init(start: Path | None = None) -> tuple[Path, str]:
    """Write pipeline.yaml into the project here (refusing to overwrite one); its path and text."""
    from tasks.core.files import atomic_write_text

    start = (start or user_cwd()).absolute()
    existing = start / CONFIG_NAME
    if existing.exists():
        raise ConfigError(f"{existing} exists already; edit it, or remove it to start again")
    project = project_dir(None, start)
    target = project / CONFIG_NAME
    if target.exists():
        raise ConfigError(f"{target} exists already; edit it, or remove it to start again")
    text = init_text(project)
    atomic_write_text(target, text)
    return target, text
