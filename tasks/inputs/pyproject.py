"""pyproject.toml as a lock input: `[project] dependencies`, extras, PEP 735 dependency groups.

`read_project` is pure over the file's text: the static lists become requirement lines (origin:
the file and the line that names them), extras naming the project itself (`all = ["me[dev]"]`)
are expanded here, groups go through `packaging.dependency_groups` (include-group, cycles). A
`dynamic` list is only flagged: its requirements come from the project's build backend
(`tasks.run.lock_env`), because only the backend knows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import RequirementsError
from tasks.inputs.reqline import Origin, ReqLine, parse_requirement_line
from tasks.inputs.requirements import RequirementsFile
from tasks.inputs.sources import PathSource


def is_pyproject(path: Path) -> bool:
    """A lock input read as a project (`pyproject.toml`), not as a requirements file."""
    return path.name == "pyproject.toml"


@dataclass(frozen=True)
class ProjectInput:
    """What a pyproject.toml asks for, for the chosen extras and groups."""

    path: Path
    name: NormalizedName | None
    requirements: tuple[ReqLine, ...]
    dynamic: bool = False  # `dependencies` (or a chosen extra) is dynamic: ask the build backend
    extras: tuple[str, ...] = ()
    labels: tuple[tuple[NormalizedName, str], ...] = ()  # (name, "" | "extra:dev" | "group:test")

    @property
    def root(self) -> Path:
        return self.path.parent

    def as_file(self) -> RequirementsFile:
        return RequirementsFile(requirements=self.requirements, files=self.files())

    def files(self) -> tuple[Path, ...]:
        """The files whose change can change the requirements (setup.py/cfg for a dynamic list)."""
        more = [self.root / n for n in ("setup.py", "setup.cfg")] if self.dynamic else []
        return (self.path, *(p for p in more if p.is_file()))

    def self_line(self) -> ReqLine:
        """The project itself, as `-e .[extras]` (relative: a lock that travels)."""
        if self.name is None:
            raise RequirementsError(f"{self.path}: self=1 needs [project] name")
        line = parse_requirement_line(f"{self.name}{_extras(self.extras)} @ .", Origin(self.path, 0))
        source = PathSource(self.root, editable=True, relative=True)
        return ReqLine(line.name, line.requirement, source, line.origin, editable=True)


def read_project(path: Path, extras: Sequence[str] = (), groups: Sequence[str] = ()) -> ProjectInput:
    """The project's requirements for `extras` and `groups` (errors are one line naming the file)."""
    text = _read(path)
    data = _toml(text, path)
    project = data.get("project")
    if project is not None and not isinstance(project, dict):
        raise RequirementsError(f"{path}: [project] must be a table")
    table: dict[str, Any] = project or {}
    if not table and not groups:
        raise RequirementsError(f"{path}: no [project] table (and no groups= asked for)")
    raw_name = table.get("name")
    name = canonicalize_name(raw_name) if isinstance(raw_name, str) else None
    dynamic = set(_strings(table.get("dynamic", []), path, "project.dynamic"))
    wanted = tuple(canonicalize_name(e) for e in extras)
    is_dynamic = "dependencies" in dynamic or bool(wanted and "optional-dependencies" in dynamic)
    labelled: list[tuple[str, str]] = []
    if not is_dynamic:
        labelled += [(text, "") for text in _strings(table.get("dependencies", []), path, "dependencies")]
        for extra in wanted:
            labelled += [(t, f"extra:{extra}") for t in _static(table, name, (extra,), path)]
    for group in groups:
        labelled += [(t, f"group:{group}") for t in _groups(data.get("dependency-groups"), [group], path)]
    lines = {req: _line(req, text, path) for req in dict.fromkeys(t for t, _ in labelled)}
    labels = tuple(dict.fromkeys((lines[t].name, label) for t, label in labelled))
    return ProjectInput(path, name, tuple(lines.values()), is_dynamic, wanted, labels)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror}") from None


def _toml(text: str, path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RequirementsError(f"{path}: invalid TOML: {exc}") from None


def _strings(value: object, path: Path, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequirementsError(f"{path}: {key} must be a list of strings")
    return list(value)


def _extras(extras: Iterable[str]) -> str:
    chosen = sorted(extras)
    return f"[{','.join(chosen)}]" if chosen else ""


def _static(
    table: Mapping[str, Any], name: NormalizedName | None, extras: Sequence[str], path: Path
) -> list[str]:
    """Each chosen extra's list, an extra naming the project itself (`all = ["me[dev]"]`) expanded."""
    found: list[str] = []
    optional = table.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise RequirementsError(f"{path}: [project.optional-dependencies] must be a table")
    by_extra = {
        canonicalize_name(k): _strings(v, path, f"optional-dependencies.{k}") for k, v in optional.items()
    }
    todo, done = [canonicalize_name(e) for e in extras], set[str]()
    while todo:
        extra = todo.pop()
        if extra in done:
            continue
        done.add(extra)
        if extra not in by_extra:
            known = ", ".join(sorted(by_extra)) or "none"
            raise RequirementsError(
                f"{path}: no extra {extra!r} in [project.optional-dependencies] (has: {known})"
            )
        for text in by_extra[extra]:
            own = _own_extras(text, name)
            todo += [canonicalize_name(e) for e in own or ()]
            found += [] if own is not None else [text]
    return found


def _own_extras(text: str, name: NormalizedName | None) -> list[str] | None:
    """The extras of a requirement on the project itself (`me[dev]`), else None."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    if name is None or canonicalize_name(req.name) != name or req.url or req.marker:
        return None
    return [canonicalize_name(e) for e in req.extras]


def _groups(table: object, groups: Sequence[str], path: Path) -> list[str]:
    """PEP 735 groups with their include-group, through packaging.dependency_groups."""
    if not groups:
        return []
    if not isinstance(table, dict):
        raise RequirementsError(
            f"{path}: groups= asked for {', '.join(groups)}, but there is no [dependency-groups]"
        )
    from packaging.dependency_groups import DependencyGroupResolver

    known = {canonicalize_name(g) for g in table}
    for group in groups:
        if canonicalize_name(group) not in known:
            have = ", ".join(sorted(known))
            raise RequirementsError(f"{path}: no group {group!r} in [dependency-groups] (has: {have})")
    found: list[str] = []
    try:
        resolver = DependencyGroupResolver(table)
        for group in groups:
            found += [str(req) for req in resolver.resolve(group)]
    except Exception as exc:  # a ValueError, or packaging's ExceptionGroup of them
        raise RequirementsError(f"{path}: [dependency-groups]: {_flat(exc)}") from None
    return found


def _flat(exc: BaseException) -> str:
    """One line from an exception or a (nested) exception group."""
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple):
        return "; ".join(_flat(e) for e in inner)
    return str(exc).replace("\n", " ")


def _line(req: str, text: str, path: Path) -> ReqLine:
    """A requirement of the file, its origin the first line that quotes it (for error messages)."""
    number = next((i for i, line in enumerate(text.splitlines(), 1) if req in line), 0)
    return parse_requirement_line(req, Origin(path, number))
