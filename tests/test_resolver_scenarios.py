"""The packse conformance corpus (tests/scenarios/packse), resolved in-process on loopback indexes.

Each scenario's packages are real wheels and sdists on its own loopback index; its root
requirements go through a real requirements file (with `--pre`, `--only-binary`, `--no-binary`
for its resolver options) into `tasks.lock.resolve.resolve`, for its target Python derived from
the running interpreter (`python-version`) and, when it names one, its target platform. Known
policy differences are expected failures with their reason (strict: a fix shows up as XPASS).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks.core.errors import WheelwrightError
from tasks.envs.interpreter import Interpreter, find_python, probe
from tasks.envs.python_version import for_python_version
from tasks.inputs.config import Indexes, effective_indexes
from tasks.inputs.requirements import parse_file
from tasks.lock.resolve import resolve
from tasks.source.build import MetadataProvider
from tasks.stages.test import TEST_WHEELS
from tests.support.index_server import IndexServer
from tests.support.scenarios import Scenario, corpus, publish

pytestmark = pytest.mark.usefixtures("isolated_env")

# Where wheelwright's answer differs from the corpus's on purpose or for a known limitation.
UNIVERSAL = (
    "universal resolution is not implemented: wheelwright resolves for one target (Python and platform), "
    "and the corpus's answer is about another fork"
)
PIP_PRE = (
    "pre-release policy (pip's): a pre-release is taken when no final release satisfies the specifier; "
    "the corpus takes one only when the project has no final release, or the input opts in"
)
DEPENDENCY_PRE = (
    "pre-release policy (pip's): a specifier that names a pre-release allows it, a dependency's too; "
    "the corpus wants the input itself to opt in"
)
EXPECTED_FAILURES: dict[str, str] = {
    "conflict-in-fork": UNIVERSAL,
    "fork-non-local-fork-marker-direct": UNIVERSAL,
    "fork-non-local-fork-marker-transitive": UNIVERSAL,
    "preferences-dependent-forking-conflicting": UNIVERSAL,
    "specific-architecture": UNIVERSAL,
    "package-only-prereleases-in-range": PIP_PRE,
    "transitive-package-only-prereleases-in-range": PIP_PRE,
    "transitive-prerelease-and-stable-dependency": DEPENDENCY_PRE,
    "transitive-prerelease-and-stable-dependency-many-versions": DEPENDENCY_PRE,
    "transitive-prerelease-and-stable-dependency-many-versions-holes": DEPENDENCY_PRE,
    "python-less-than-current": (
        "Requires-Python upper bounds are honoured, as pip does (`a` requires <=3.8, the target is 3.9); "
        "uv ignores upper bounds"
    ),
}

SCENARIOS = corpus()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Interpreter:
    return probe(find_python(sys.executable), tmp_path_factory.mktemp("interp"))


def target(scenario: Scenario, base: Interpreter) -> Interpreter:
    interp = for_python_version(base, scenario.target_python)
    platform = scenario.options.get("python_platform")
    if platform:
        interp = on_platform(interp, str(platform))
    return interp


def on_platform(interp: Interpreter, platform: str) -> Interpreter:
    """uv's `--python-platform x86_64-manylinux2014`: that platform's tags (manylinux_2_17 and older)."""
    from dataclasses import replace

    from packaging import tags

    arch, _, _ = platform.partition("-")
    glibc = [f"manylinux_2_{minor}_{arch}" for minor in range(17, 4, -1)]
    legacy = {"2_17": "manylinux2014", "2_12": "manylinux2010", "2_5": "manylinux1"}
    platforms = []
    for name in glibc:
        platforms.append(name)
        if (old := legacy.get(name.removeprefix("manylinux_").removesuffix(f"_{arch}"))) is not None:
            platforms.append(f"{old}_{arch}")
    major, minor = (int(p) for p in interp.markers["python_version"].split("."))
    found = [
        *tags.cpython_tags((major, minor), platforms=platforms),
        *tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms),
    ]
    linux = {"sys_platform": "linux", "platform_machine": arch, "platform_system": "Linux"}
    markers = {**interp.markers, **linux}
    return replace(interp, tags=tuple(str(t) for t in found), markers=markers)


def options_lines(scenario: Scenario) -> list[str]:
    options = scenario.options
    lines = ["--pre"] if options.get("prereleases") else []
    lines += [f"--no-binary {name}" for name in options.get("no_binary", [])]
    lines += [f"--only-binary {name}" for name in options.get("no_build", [])]
    return lines


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=EXPECTED_FAILURES[s.name]))
        if s.name in EXPECTED_FAILURES
        else s
        for s in SCENARIOS
    ],
    ids=[f"{s.path.parent.name}/{s.path.name}" for s in SCENARIOS],
)
def test_scenario(scenario: Scenario, base: Interpreter, tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    yanked = publish(scenario, wheelhouse)
    for wheel in TEST_WHEELS.glob("*.whl"):  # build backends for the sdists that need a build
        os.symlink(wheel, wheelhouse / wheel.name)
    with IndexServer(wheelhouse) as index:
        for filename in yanked:
            index.yank(filename)
        req = tmp_path / "requirements.in"
        req.write_text("\n".join([f"-i {index.url}", *options_lines(scenario), *scenario.requires]) + "\n")
        reqs = parse_file(req)
        indexes = effective_indexes([reqs.index])
        outcome = _resolve(reqs, target(scenario, base), indexes, tmp_path / "cache")  # ports are reused
    if not scenario.satisfiable:
        assert isinstance(outcome, WheelwrightError), f"expected no solution, got {outcome}"
        return
    assert isinstance(outcome, dict), f"expected a solution, got: {outcome}"
    if scenario.packages is not None:
        assert outcome == scenario.packages


def _resolve(
    reqs: Any, interp: Interpreter, indexes: Indexes, cache: Path
) -> dict[str, str] | WheelwrightError:
    try:
        resolution = resolve(
            reqs.requirements,
            constraints=reqs.constraints,
            interp=interp,
            indexes=indexes,
            cache=cache,
            source_metadata=MetadataProvider(indexes),
        )
    except WheelwrightError as exc:
        return exc
    return {name: pin.version for name, pin in resolution.pins.items()}
