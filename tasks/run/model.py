"""The model of one run, built without network: environments, their pins, and one job per pin."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.utils import NormalizedName

from tasks.core import layout
from tasks.core.errors import WheelwrightError
from tasks.envs.interpreter import Interpreter, find_python, probe, probe_env
from tasks.envs.venv import check_target
from tasks.inputs.config import (
    EnvSpec,
    Indexes,
    Pipeline,
    effective_indexes,
    pip_config_files,
    pip_index_options,
)
from tasks.inputs.reqline import ReqLine
from tasks.inputs.requirements import IndexOptions, RequirementsFile, parse_file, require_pins
from tasks.run.outline import EnvOutline, LockOutline, Outline, PinOutline

if TYPE_CHECKING:
    from tasks.run.pinkind import Kind


@functools.cache
def merged_indexes(layers: tuple[IndexOptions, ...]) -> Indexes:
    """Index layers merged (pip's config, pipeline.yaml, the lock): once per distinct set in a run."""
    return effective_indexes(list(layers))


@dataclass(frozen=True)
class PinJob:
    """One distribution to fetch for one target interpreter."""

    line: ReqLine
    index_layers: tuple[IndexOptions, ...]
    interp: Interpreter
    env_settings: tuple[tuple[str, str], ...] = ()  # pipeline.yaml's `config-settings` for the env

    @property
    def name(self) -> NormalizedName:
        return self.line.name

    @property
    def version(self) -> str | None:
        return self.line.pinned_version()

    @property
    def indexes(self) -> Indexes:
        """The merged index options of this pin's environment (merged once, then memoized)."""
        return merged_indexes(self.index_layers)

    @property
    def choice_key(self) -> str:
        """What names the file an index pin resolves to: its hashes when the lock gives them (the same
        file whatever index or pip setting served it, so `PIP_NO_INDEX=1` finds its record), else `key`;
        "" for a direct reference, which has no record (`tasks.run.pinkind`)."""
        if self.line.source.direct:
            return ""
        if not self.line.hashes:
            return self.key
        hashes = sorted(self.line.hashes)
        identity: dict[str, object] = {"name": self.name, "version": self.version, "hashes": hashes}
        if self.indexes.formats.restricts(self.name):  # --only-binary/--no-binary change the file
            identity["formats"] = self.indexes.formats.allowed(self.name)
        return json.dumps({**identity, "platform": self.interp.platform_key}, sort_keys=True)

    @property
    def known_kind(self) -> Kind | None:
        """The pin's kind as its lock line tells it (an index pin's is in its record: `tasks.run.pinkind`)."""
        from tasks.run.pinkind import source_kind

        return source_kind(self.line.source)

    @property
    def key(self) -> str:
        """Everything that decides which file is fetched: a change makes the fetch task stale."""
        return json.dumps(
            {
                "name": self.name,
                "version": self.version,
                "source": self.line.source.identity(),
                "hashes": sorted(self.line.hashes),
                "indexes": [layer.__dict__ for layer in self.index_layers],
                "platform": self.interp.platform_key,
            },
            sort_keys=True,
            default=list,
        )

    @property
    def config_settings(self) -> dict[str, str | list[str]]:
        """PEP 517 config_settings: the environment's, then the line's own (a key on the line wins)."""
        from tasks.inputs.reqline import settings_dict

        line_keys = {key for key, _ in self.line.config_settings}
        kept = tuple(pair for pair in self.env_settings if pair[0] not in line_keys)
        return settings_dict(kept + self.line.config_settings)

    @property
    def settings_key(self) -> str:
        """The build settings as a key: a change makes `build_meta` and `build_wheel` stale, not fetch."""
        return json.dumps(self.config_settings, sort_keys=True)


@dataclass(frozen=True)
class EnvJob:
    """One environment of the run, or the error that stops it."""

    spec: EnvSpec
    interp: Interpreter | None = None
    pins: tuple[PinJob, ...] = ()
    files: tuple[Path, ...] = ()
    error: str | None = None
    task_names: dict[NormalizedName, str] = field(default_factory=dict)


def read_requirements(
    paths: tuple[Path, ...], extras: tuple[str, ...] = (), groups: tuple[str, ...] = ()
) -> RequirementsFile:
    """Requirements files (and a lock input's pyproject.toml, for `extras` and `groups`), merged."""
    return _merged(_read_one(path, extras, groups) for path in paths)


def read_locks(spec: EnvSpec, interp: Interpreter) -> RequirementsFile:
    """The environment's locks: requirements files, or a pylock.toml selected for the target."""
    from tasks.inputs.pylock import is_pylock_path, read_pylock

    def read(path: Path) -> RequirementsFile:
        if is_pylock_path(path):
            return read_pylock(path, interp.markers, interp.tags, spec.extras, spec.groups)
        return parse_file(path)

    return _merged(read(path) for path in spec.requirements)


def _merged(parts: Iterable[RequirementsFile]) -> RequirementsFile:
    """The files' requirements, constraints and files one after the other, their index options merged."""
    merged = RequirementsFile()
    for part in parts:
        merged = RequirementsFile(
            merged.requirements + part.requirements,
            merged.constraints + part.constraints,
            merged.index.merged(part.index),
            merged.files + part.files,
        )
    return merged


def _read_one(path: Path, extras: tuple[str, ...], groups: tuple[str, ...]) -> RequirementsFile:
    from tasks.inputs.pyproject import is_pyproject, read_project

    if is_pyproject(path):
        return read_project(path, extras, groups).as_file()
    return parse_file(path)


def applies(line: ReqLine, interp: Interpreter) -> bool:
    marker: Marker | None = line.requirement.marker
    return marker is None or marker.evaluate({**interp.markers, "extra": ""})


def target_interpreter(spec: EnvSpec, cache: Path) -> Interpreter:
    """The environment's interpreter: its base's facts with its own paths, or the one to make it from."""
    if spec.path is None:
        return probe(find_python(spec.python), cache / layout.INTERPRETERS.name)
    return probe_env(spec.path, spec.python, cache / layout.INTERPRETERS.name)


def _check_target(path: Path, cache: Path) -> None:
    """check_target, asked again under the environment's lock when it fails: a concurrent sync may
    be creating the environment right now (its directory exists before its pyvenv.cfg)."""
    try:
        check_target(path)
    except WheelwrightError:
        from tasks.core.mutexes import venv_lock

        with venv_lock(cache, path):
            check_target(path)


def plan_env(spec: EnvSpec, cache: Path) -> EnvJob:
    try:
        if spec.path is not None:
            _check_target(spec.path, cache)
        interp = target_interpreter(spec, cache)
    except WheelwrightError as exc:
        return EnvJob(spec, error=f"{spec.name}: {exc}")
    if spec.path is None:
        return EnvJob(spec, interp, error=f"{spec.name}: give venv=DIR to sync")
    try:
        reqs = read_locks(spec, interp)
        require_pins(reqs)
    except WheelwrightError as exc:
        return EnvJob(spec, interp, error=f"{spec.name}: {exc}")
    layers = (pip_index_options(), spec.index, reqs.index)
    lines = [line for line in reqs.requirements if applies(line, interp)]
    pins = tuple(PinJob(line, layers, interp, spec.config_settings) for line in lines)
    duplicate = _duplicate(pins)
    if duplicate:
        return EnvJob(spec, interp, error=f"{spec.name}: {duplicate} is pinned twice")
    return EnvJob(spec, interp, pins, reqs.files)


def _duplicate(pins: tuple[PinJob, ...]) -> str | None:
    seen: set[str] = set()
    for pin in pins:
        if pin.name in seen:
            return pin.name
        seen.add(pin.name)
    return None


def plan_run(pipeline: Pipeline) -> list[EnvJob]:
    """Every environment of the run, with unique fetch task names across environments."""
    jobs = [plan_env(spec, pipeline.cache) for spec in pipeline.envs]
    keys_by_name: dict[str, set[str]] = {}
    for job in jobs:
        for pin in job.pins:
            keys_by_name.setdefault(pin.name, set()).add(pin.key + pin.settings_key)
    for job in jobs:
        for pin in job.pins:
            clash = len(keys_by_name[pin.name]) > 1
            job.task_names[pin.name] = f"{pin.name}@{job.spec.name}" if clash else pin.name
    return jobs


def outline_of(pipeline: Pipeline, jobs: list[EnvJob]) -> tuple[Outline, list[Path]]:
    """The tasks' outline, and every file whose change could change it."""
    pins: dict[str, PinOutline] = {}
    envs = []
    for job in jobs:
        for pin in job.pins:
            task = job.task_names[pin.name]
            pins.setdefault(task, pin_outline(task, pin, pipeline.cache))
        doc = f"sync {job.spec.path} to {', '.join(str(p) for p in job.spec.requirements)}"
        names = [job.task_names[p.name] for p in job.pins]
        tasks = [("build_wheel:" if pins[task].built else "fetch:") + task for task in names]
        sites = _sites(job)
        lock = str(job.spec.requirements[0]) if job.spec.requirements else ""
        envs.append(EnvOutline(job.spec.name, doc, tasks, job.error, str(job.spec.path or ""), sites, lock))
    locks = [lock_outline(job) for job in jobs if job.spec.sources]
    inputs = _inputs(pipeline, jobs) + [Path(dep) for lock in locks for dep in lock.deps]
    project = str(pipeline.project or pipeline.config_file.parent)
    config = str(pipeline.config_file) if pipeline.found else ""
    return Outline(str(pipeline.cache), envs, list(pins.values()), locks, project, config), inputs


def pin_outline(task: str, pin: PinJob, cache: Path) -> PinOutline:
    """A pin's tasks: built from source unless it is a wheel; an index pin's kind is its record's, and
    one not fetched yet is built too (its build tasks then pass a wheel through)."""
    from tasks.run.pinkind import kind_of

    doc = f"fetch {pin.line.requirement} for Python {pin.interp.version}"
    return PinOutline(task, pin.key, doc, kind_of(cache, pin) or "", pin.settings_key, pin.choice_key)


def lock_outline(job: EnvJob) -> LockOutline:
    """The `lock:<env>` task: its inputs (with every -r/-c they pull in) and its output."""
    spec = job.spec
    out = spec.requirements[0]
    doc = f"lock {', '.join(str(s) for s in spec.sources)} into {out}"
    try:
        deps = [str(p) for p in read_requirements(spec.sources, spec.extras, spec.groups).files]
    except WheelwrightError as exc:
        return LockOutline(
            spec.name, doc, str(out), [str(s) for s in spec.sources], "", f"{spec.name}: {exc}"
        )
    if job.interp is None:
        return LockOutline(spec.name, doc, str(out), deps, "", job.error)
    key = json.dumps(
        {
            "python": job.interp.platform_key,
            "version": spec.python_version or job.interp.version,
            "indexes": [pip_index_options().__dict__, spec.index.__dict__],
            "exclude_newer": spec.exclude_newer,
            "project": [spec.extras, spec.groups, spec.with_self],
        },
        sort_keys=True,
        default=list,
    )
    return LockOutline(spec.name, doc, str(out), deps, key)


def _sites(job: EnvJob) -> list[str]:
    if job.interp is None or job.spec.path is None or not (job.spec.path / "pyvenv.cfg").exists():
        return []
    return sorted({job.interp.paths["purelib"], job.interp.paths["platlib"]})


def _inputs(pipeline: Pipeline, jobs: list[EnvJob]) -> list[Path]:
    from tasks.run.pinkind import record_path  # the outline changes when a pin's file becomes known

    inputs = [pipeline.config_file, *pip_config_files(os.environ)]
    for job in jobs:
        spec = job.spec
        inputs += [*job.files, *spec.requirements, *spec.sources]
        if spec.path is not None:
            inputs += [spec.path / "pyvenv.cfg", spec.path / "bin" / "python"]
        if job.interp is not None:
            inputs.append(Path(job.interp.executable))
        inputs += [record_path(pipeline.cache, pin) for pin in job.pins if pin.choice_key]
    return inputs
