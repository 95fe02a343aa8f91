"""The action behind `lock:<env>`: resolve an environment's loose inputs into its lock file."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import LockDiffers, WheelwrightError
from tasks.core.events import Change, Event, emit
from tasks.core.files import atomic_write_text
from tasks.inputs.config import EnvSpec, effective_indexes, pip_index_options, user_cwd
from tasks.inputs.requirements import IndexOptions, RequirementsFile
from tasks.lock.lockfile import existing_pins, lock_changes, pinned, recorded_exclude_newer, render_lock
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


Mode = Literal["write", "dry", "check"]

# lock tasks whose dry run found changes in this process: their doit state must not be saved as done
dry_changed: set[str] = set()


def lock_env(
    spec: EnvSpec,
    interp: Interpreter,
    cache: Path,
    *,
    upgrade: str | None = None,
    hashes: bool = True,
    source_metadata: MetadataProvider | None = None,
    mode: Mode = "write",
    exclude_newer: str | None = None,
    offline: bool = False,
) -> bool:
    """Compile `spec.sources` into `spec.requirements[0]`, written atomically; whether it changed.

    `source_metadata` builds what needs a build (by default with the resolution's indexes).
    `mode` "dry" reports what would change and writes nothing; "check" also fails when anything would.
    `exclude_newer` (a time or a span) is the upload-date cut-off; without it, the lock's own is kept.
    """
    started = time.perf_counter()
    if spec.python_version:
        from tasks.target.version import for_python_version

        interp = for_python_version(interp, spec.python_version)
    out = spec.requirements[0]
    before = out.read_text(encoding="utf-8") if out.is_file() else None
    cutoff = _cutoff(exclude_newer, before)
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
        exclude_newer=cutoff,
    )
    resolution = pin_git_commits(resolution, builds.revisions)
    text = _lock_text(spec, interp, reqs, resolution, hashes, cutoff)
    sdist_only(resolution, interp)
    changes = lock_changes(pinned(before or ""), pinned(text))
    same = before == text
    if mode == "write" and not same:
        atomic_write_text(out, text)
    if mode == "dry" and not same:
        dry_changed.add(spec.name)
    seconds = time.perf_counter() - started
    emit(
        Event(
            "locked", task=spec.name, path=str(out), count=len(resolution.pins), seconds=seconds,
            changes=changes, dry=(mode != "write") or None,
            message=None if same or changes else "its text differs (header, options, hashes or comments)",
            created=before is None or None,
        )
    )  # fmt: skip
    if offline:
        emit(Event("offline", task=spec.name, message="index revalidation: resolved from the cache"))
    if mode == "check" and not same:
        raise LockDiffers(_differs(changes, before is None), package=_shown(out, user_cwd()))
    return not same


def _cutoff(given: str | None, before: str | None) -> datetime | None:
    """The run's cut-off: the one given (a span counts back from now), else the lock's own."""
    from datetime import datetime, timezone

    from tasks.lock.cutoff import parse_cutoff, parse_time

    if given:
        return parse_cutoff(given, datetime.now(timezone.utc))
    kept = recorded_exclude_newer(before or "")
    return parse_time(kept) if kept else None


def _lock_text(
    spec: EnvSpec,
    interp: Interpreter,
    reqs: RequirementsFile,
    resolution: Resolution,
    hashes: bool,
    cutoff: datetime | None,
) -> str:
    from tasks.lock.cutoff import format_cutoff

    out = spec.requirements[0]
    inputs = [_shown(path, out.parent) for path in spec.sources]
    command = "./doit lock " + (
        f"req={inputs[0]} out={_shown(out, user_cwd())}" if spec.name == "cli" else spec.name
    )
    python = ".".join(interp.version.split(".")[:2])
    index, urls = as_written(spec.sources, reqs)
    return render_lock(
        resolution,
        inputs=inputs,
        command=command,
        python=python,
        index=spec.index.merged(index),
        hashes=hashes,
        as_written=urls,
        settings={line.name: line.config_settings for line in reqs.requirements if line.config_settings},
        exclude_newer=format_cutoff(cutoff) if cutoff else None,
    )


def _differs(changes: tuple[Change, ...], missing: bool) -> str:
    if missing:
        return "the lock does not exist; locking would write it"
    if not changes:
        return "the lock's text would change (header, options, hashes or comments)"
    counts = {op: sum(1 for c in changes if c.op == op) for op in ("install", "replace", "remove")}
    said = f"{counts['install']} to add, {counts['replace']} to change, {counts['remove']} to remove"
    return f"the lock differs from what its inputs give now ({said})"


def sdist_only(resolution: Resolution, interp: Interpreter) -> None:
    """One warning per index pin with no wheel for the target: a sync must build it from its sdist."""
    from tasks.core.events import warn
    from tasks.index.choice import wheel_rank

    for name in sorted(resolution.pins):
        pin = resolution.pins[name]
        if pin.source.direct or not pin.files:
            continue
        if any(f.is_wheel and wheel_rank(f.filename, interp) is not None for f in pin.files):
            continue
        has_sdist = any(not f.is_wheel for f in pin.files)
        what = "only its sdist, which a sync must build" if has_sdist else "no file it can install"
        target = interp.tags[0] if interp.tags else f"Python {interp.version}"
        warn(f"{name}=={pin.version} has no wheel for this target ({target}): {what}")


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
