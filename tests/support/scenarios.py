"""The packse scenario corpus as loopback universes: each scenario's packages as real wheels and sdists.

A scenario (TOML, JSON or YAML) names packages, their versions and metadata (`requires`,
`requires_python`, `extras`, `wheel_tags`, `wheel`, `sdist`, `yanked`), the root's requirements,
resolver options (target `python`, `prereleases`, `no_binary`, `no_build`, `python_platform`,
`universal`) and the expected outcome. Defaults are packse's at the corpus's commit: every version
has a wheel and an sdist and requires Python >=3.12, and the environment's Python is 3.12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib
from packaging.requirements import Requirement

from tests.support.wheels import make_sdist, make_wheel, wheel_filename

CORPUS = Path(__file__).resolve().parent.parent / "scenarios" / "packse"
DEFAULT_PYTHON = "3.12"
DEFAULT_REQUIRES_PYTHON = ">=3.12"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    data: dict[str, Any] = field(repr=False)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.data.get("resolver_options") or {})

    @property
    def target_python(self) -> str:
        environment = self.data.get("environment") or {}
        return str(self.options.get("python") or environment.get("python") or DEFAULT_PYTHON)

    @property
    def requires(self) -> list[str]:
        return [str(r) for r in self.data["root"].get("requires", [])]

    @property
    def satisfiable(self) -> bool:
        return bool(self.data["expected"]["satisfiable"])

    @property
    def packages(self) -> dict[str, str] | None:
        found = self.data["expected"].get("packages")
        return {str(k): str(v) for k, v in found.items()} if found else None


def load(path: Path) -> list[Scenario]:
    """The scenarios of one file (a JSON or YAML file may hold a list of them)."""
    if path.suffix == ".toml":
        data = tomllib.loads(path.read_text())
    elif path.suffix == ".json":
        data = json.loads(path.read_text())
    else:
        import yaml

        data = yaml.safe_load(path.read_text())
    return [Scenario(str(item["name"]), path, item) for item in (data if isinstance(data, list) else [data])]


def corpus(root: Path = CORPUS) -> list[Scenario]:
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".toml", ".json", ".yaml"))
    return [scenario for path in paths for scenario in load(path)]


def publish(scenario: Scenario, dest: Path) -> list[str]:
    """Write the scenario's distributions into `dest`; the filenames to serve as yanked."""
    yanked = []
    for name, package in scenario.data.get("packages", {}).items():
        for version, meta in package.get("versions", {}).items():
            files = _publish_version(dest, name, str(version), meta or {})
            if (meta or {}).get("yanked"):
                yanked += files
    return yanked


def _publish_version(dest: Path, name: str, version: str, meta: dict[str, Any]) -> list[str]:
    requires = [str(r) for r in meta.get("requires", [])]
    extras = {str(k): [str(r) for r in v] for k, v in (meta.get("extras") or {}).items()}
    requires_python = meta.get("requires_python", DEFAULT_REQUIRES_PYTHON)
    files = []
    if meta.get("wheel", True):
        dist = requires + [_with_extra(r, extra) for extra, reqs in extras.items() for r in reqs]
        for tag in meta.get("wheel_tags") or ["py3-none-any"]:
            options = {"requires_python": requires_python, "provides_extra": list(extras), "tag": tag}
            make_wheel(dest, name, version, requires_dist=dist, **options)
            files.append(wheel_filename(name, version, tag))
    if meta.get("sdist", True):
        sdist = make_sdist(dest, name, version, requires_dist=requires, requires_python=requires_python)
        files.append(sdist.name)
    return files


def _with_extra(requirement: str, extra: str) -> str:
    """`requirement` asked for only with `extra` (its own marker kept)."""
    parsed = Requirement(requirement)
    marker = f"({parsed.marker}) and extra == '{extra}'" if parsed.marker else f"extra == '{extra}'"
    parsed.marker = None
    return f"{parsed} ; {marker}"
