"""What a lock needs built: the `Builds` it is handed, and the project itself as an input (a pyproject's
dynamic requirements read through its backend, `self=1`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import WheelwrightError
from tasks.core.http import Network
from tasks.envs.interpreter import Interpreter
from tasks.inputs.config import EnvSpec
from tasks.inputs.pyproject import ProjectInput
from tasks.inputs.reqline import ReqLine
from tasks.inputs.requirements import RequirementsFile
from tasks.lock.finder import SourceMetadata


class Builds(SourceMetadata, Protocol):
    """What needs a build, for the resolution (`tasks.source.build.MetadataProvider`), the revision
    of each tree it built (a git commit the lock then names), and the network it fetches through."""

    revisions: dict[NormalizedName, str]
    net: Network


def with_project_lines(
    reqs: RequirementsFile, spec: EnvSpec, interp: Interpreter, cache: Path, builds: Builds
) -> tuple[RequirementsFile, dict[str, set[str]]]:
    """A pyproject input's dynamic requirements (from its build backend) and, with `self=1`, the
    project itself as `-e .`; with what brings each root in ("" always, "extra:dev", "group:test")."""
    from dataclasses import replace

    from tasks.inputs.pyproject import is_pyproject, read_project

    added: list[ReqLine] = []
    labels: dict[str, set[str]] = {}
    for path in spec.sources:
        if not is_pyproject(path):
            continue
        project = read_project(path, spec.extras, spec.groups)
        found = list(project.labels)
        if project.dynamic:
            dynamic = dynamic_lines(project, interp, cache, builds)
            added += list({id(line): line for line, _ in dynamic}.values())
            found += [(line.name, label) for line, label in dynamic]
        if spec.with_self:
            added.append(project.self_line())
            found.append((added[-1].name, ""))
        for name, label in found:
            labels.setdefault(name, set()).add(label)
    for line in reqs.requirements:  # a requirements file's line is always wanted
        if not is_pyproject(line.origin.path):
            labels.setdefault(line.name, set()).add("")
    return (replace(reqs, requirements=reqs.requirements + tuple(added)) if added else reqs), labels


def dynamic_lines(
    project: ProjectInput, interp: Interpreter, cache: Path, builds: Builds
) -> list[tuple[ReqLine, str]]:
    """The project's Requires-Dist for the target and the chosen extras, read through its backend
    (`prepare_metadata_for_build_wheel`, cached like any path source's metadata)."""
    from packaging.requirements import Requirement

    from tasks.inputs.reqline import Origin, parse_requirement_line
    from tasks.inputs.sources import PathSource

    if project.name is None:
        raise WheelwrightError(f"{project.path}: a dynamic dependency list needs [project] name")
    metadata = builds(project.name, PathSource(project.root), interp, cache, None)
    provided = {canonicalize_name(e) for e in metadata.get("provides-extra", [])}
    if missing := [e for e in project.extras if e not in provided]:
        have = ", ".join(sorted(provided)) or "none"
        raise WheelwrightError(
            f"{project.path}: no extra {missing[0]!r} in the project's metadata (has: {have})"
        )
    lines = []
    for text in metadata.get("requires-dist", []):
        req = Requirement(text)
        if canonicalize_name(req.name) == project.name:
            continue  # `me[dev]; extra == "all"`: the backend already listed dev's requirements
        marker, req.marker = req.marker, None
        line = parse_requirement_line(str(req), Origin(project.path, 0))
        for extra in ("", *project.extras):
            if marker is None or marker.evaluate({**interp.markers, "extra": extra}):
                lines.append((line, f"extra:{extra}" if extra else ""))
    return lines
