"""The action behind `lock:<env>`: resolve an environment's loose inputs into its lock file."""

from __future__ import annotations

import time
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.files import atomic_write_text
from tasks.inputs.config import EnvSpec, effective_indexes, pip_index_options, user_cwd
from tasks.inputs.requirements import IndexOptions, RequirementsFile
from tasks.inputs.sources import GitSource, UrlSource
from tasks.lock.lockfile import existing_pins, render_lock
from tasks.lock.resolve import Resolution, SourceMetadata, resolve
from tasks.run.model import read_requirements
from tasks.source.build import metadata_provider
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
    source_metadata: SourceMetadata | None = None,
) -> None:
    """Compile `spec.sources` into `spec.requirements[0]`, written atomically."""
    started = time.perf_counter()
    out = spec.requirements[0]
    reqs = read_requirements(spec.sources)
    given = spec.index.merged(reqs.index)
    indexes = effective_indexes([pip_index_options(), given])
    resolution = resolve(
        reqs.requirements,
        constraints=reqs.constraints,
        interp=interp,
        indexes=indexes,
        cache=cache,
        preferences=existing_pins(out),
        upgrade=parse_upgrade(upgrade),
        source_metadata=source_metadata or metadata_provider(indexes),
    )
    resolution = pin_git_commits(resolution)
    inputs = [_shown(path, out.parent) for path in spec.sources]
    command = "./doit lock " + (
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
    )
    atomic_write_text(out, text)
    seconds = time.perf_counter() - started
    print(f"{spec.name}: {out}: {len(resolution.pins)} pins in {seconds:.2f}s")


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
        if isinstance(source, (UrlSource, GitSource)) and type(original) is type(source):
            urls[source.url] = original.url
    return index, urls


def pin_git_commits(resolution: Resolution) -> Resolution:
    """Git references in a lock name the commit their ref resolved to (one ls-remote each)."""
    from dataclasses import replace

    from tasks.inputs.sources import GitSource
    from tasks.source.git import resolve_ref

    pins = dict(resolution.pins)
    for name, pin in pins.items():
        if isinstance(pin.source, GitSource):
            pins[name] = replace(pin, commit=resolve_ref(pin.source, package=name))
    return Resolution(pins)


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
