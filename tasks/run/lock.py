"""The action behind `lock:<env>`: resolve an environment's loose inputs into its lock file."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import WheelwrightError
from tasks.core.events import Event, emit
from tasks.core.files import atomic_write_text
from tasks.inputs.config import EnvSpec, effective_indexes, pip_index_options
from tasks.inputs.project import command_name, user_cwd
from tasks.inputs.requirements import IndexOptions, RequirementsFile
from tasks.lock.lockfile import existing_pins, render_lock
from tasks.lock.resolve import Resolution, resolve
from tasks.run.model import read_requirements
from tasks.source.build import MetadataProvider
from tasks.target.interpreter import Interpreter


def parse_upgrade(value: str | None) -> bool | frozenset[NormalizedName]:
    """`upgrade=1` (everything) or `upgrade=pkg[,pkg]` (only those), as pip-compile's flags."""
    if not value or value.lower() in ("0", "false", "no"):
        return False
    if value.lower() in ("1", "true", "yes", "all"):
        return True
    return frozenset(canonicalize_name(p) for p in value.split(",") if p.strip())


def lock_env(
    spec: EnvSpec,
    interp: Interpreter,
    cache: Path,
    *,
    upgrade: str | None = None,
    hashes: bool = True,
    source_metadata: MetadataProvider | None = None,
) -> None:
    """Compile `spec.sources` into `spec.requirements[0]`, written atomically.

    `source_metadata` builds what needs a build (by default with the resolution's indexes).
    """
    started = time.perf_counter()
    out = spec.requirements[0]
    reqs = read_requirements(spec.sources)
    given = spec.index.merged(reqs.index)
    indexes = effective_indexes([pip_index_options(), given])
    builds = source_metadata or MetadataProvider(indexes)
    resolution = resolve(
        reqs.requirements,
        constraints=reqs.constraints,
        interp=interp,
        indexes=indexes,
        cache=cache,
        preferences=existing_pins(out),
        upgrade=parse_upgrade(upgrade),
        source_metadata=builds,
    )
    resolution = pin_git_commits(resolution, builds.revisions)
    inputs = [_shown(path, out.parent) for path in spec.sources]
    command = f"{command_name()} lock " + (
        f"req={inputs[0]} out={_shown(out, user_cwd())}" if spec.name == "cli" else spec.name
    )
    python = ".".join(interp.version.split(".")[:2])
    index, urls = as_written(spec.sources, reqs)
    text = render_lock(
        resolution,
        inputs=inputs,
        command=command,
        python=python,
        index=spec.index.merged(index),
        hashes=hashes,
        as_written=urls,
        settings={line.name: line.config_settings for line in reqs.requirements if line.config_settings},
    )
    atomic_write_text(out, text)
    seconds = time.perf_counter() - started
    emit(Event("locked", task=spec.name, path=str(out), count=len(resolution.pins), seconds=seconds))


def as_written(sources: tuple[Path, ...], expanded: RequirementsFile) -> tuple[IndexOptions, dict[str, str]]:
    """The inputs' index options, and their direct URLs (expanded → written), with `${VAR}` unexpanded.

    A lock keeps a variable reference as its input wrote it, never the secret it expands to;
    when the inputs cannot be read unexpanded, the expanded options are used (and redacted).
    """
    from tasks.core.errors import WheelwrightError
    from tasks.inputs.requirements import parse_file

    try:
        raw = [parse_file(path, environ={}) for path in sources]
    except WheelwrightError:
        return expanded.index, {}
    index = IndexOptions()
    for part in raw:
        index = index.merged(part.index)
    written = {line.name: line.source for part in raw for line in part.requirements}
    urls: dict[str, str] = {}
    for line in expanded.requirements:
        source, original = line.source, written.get(line.name)
        if (
            source.remote_url
            and original is not None
            and original.kind == source.kind
            and original.remote_url
        ):
            urls[source.remote_url] = original.remote_url
    return index, urls


def pin_git_commits(resolution: Resolution, revisions: Mapping[NormalizedName, str]) -> Resolution:
    """Git references in a lock name the commit whose metadata the resolution used (no second ls-remote)."""
    from dataclasses import replace

    pins = dict(resolution.pins)
    for name, pin in pins.items():
        if pin.source.commit_in_lock:
            if name not in revisions:
                raise WheelwrightError("no commit was recorded for this git reference", package=name)
            pins[name] = replace(pin, commit=revisions[name])
    return Resolution(pins)


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
