"""Target virtual environments: creating one, refusing the pipeline's own, reading what is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tasks.core.errors import ConfigError, InstallError
from tasks.core.names import NormalizedName, canonicalize_name


@dataclass(frozen=True)
class Installed:
    """A distribution found in the environment's site-packages (complete once its RECORD is there)."""

    name: NormalizedName
    version: str
    dist_info: Path
    direct_url: dict[str, object] | None
    complete: bool = True  # False: RECORD missing, an install was cut short; reinstall it


def own_environment() -> Path:
    return Path(sys.prefix).resolve()


def venv_python(path: Path) -> Path:
    return path / "bin" / "python"


def check_target(path: Path) -> None:
    """Refuse the pipeline's own environment and directories that are not virtual environments."""
    resolved = path.resolve()
    if resolved == own_environment():
        raise ConfigError(f"{path} is the pipeline's own environment; choose another target")
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(f"{path} exists and is not a directory; give venv= a directory")
    if resolved.exists() and any(resolved.iterdir()) and not (resolved / "pyvenv.cfg").exists():
        raise ConfigError(f"{path} exists and is not a virtual environment; refusing to touch it")


def ensure_venv(path: Path, python: Path) -> bool:
    """Create the environment when missing (no pip: the pipeline installs). True if created."""
    check_target(path)
    if (path / "pyvenv.cfg").exists() and venv_python(path).exists():
        return False
    try:
        subprocess.run(
            [str(python), "-m", "venv", "--without-pip", str(path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:]
        raise InstallError(f"cannot create environment {path}: {' '.join(tail)}") from None
    except OSError as exc:
        raise InstallError(f"cannot create environment {path}: {exc.strerror}") from None
    return True


def installed_distributions(site_dirs: list[Path]) -> dict[NormalizedName, Installed]:
    """Every `*.dist-info` in the site directories, read from METADATA's first headers only.

    A distribution is complete only when its RECORD is in place (it is written last).
    """
    found: dict[NormalizedName, Installed] = {}
    for site in dict.fromkeys(site_dirs):
        if not site.is_dir():
            continue
        for entry in os.scandir(site):
            if entry.name.endswith(".dist-info") and entry.is_dir():
                dist = _read_dist(Path(entry.path))
                if dist is not None:
                    found[dist.name] = dist
    return found


def metadata_headers(dist_info: Path) -> Iterator[tuple[str, str]]:
    """A distribution's METADATA headers as (key, value), up to the first blank line (OSError raised)."""
    with (dist_info / "METADATA").open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                return
            key, _, value = line.partition(":")
            yield key, value.strip()


def _read_dist(dist_info: Path) -> Installed | None:
    name = version = None
    try:
        for key, value in metadata_headers(dist_info):
            if key == "Name":
                name = value
            elif key == "Version":
                version = value
            if name and version:
                break
    except OSError:
        return None
    if not name or not version:
        return None
    complete = (dist_info / "RECORD").is_file()
    return Installed(canonicalize_name(name), version, dist_info, _direct_url(dist_info), complete)


def _direct_url(dist_info: Path) -> dict[str, object] | None:
    try:
        data = json.loads((dist_info / "direct_url.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
