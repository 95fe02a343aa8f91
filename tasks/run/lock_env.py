"""The action behind `lock:<env>`: resolve an environment's loose inputs into its lock file."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import ConfigError, LockDiffers, WheelwrightError
from tasks.core.eventkinds import Change, Locked, SkippedOffline
from tasks.core.events import emit
from tasks.core.files import atomic_write_text
from tasks.core.http import Network
from tasks.envs.interpreter import Interpreter
from tasks.inputs.config import EnvSpec, Indexes, effective_indexes, index_urls, pip_index_options
from tasks.inputs.project import command_name, user_cwd
from tasks.inputs.pylock import is_pylock_path
from tasks.inputs.requirements import IndexOptions, RequirementsFile
from tasks.lock.lockfile import existing_pins, lock_changes, pinned, recorded_exclude_newer, render_lock
from tasks.lock.resolve import Resolution, resolve
from tasks.run.lock_project import Builds, with_project_lines
from tasks.run.model import read_requirements
from tasks.run.travel import relative_find_links, relative_paths

if TYPE_CHECKING:
    from tasks.index.pages import DistFile
    from tasks.inputs.sources import Source
    from tasks.source.build import Store


def parse_upgrade(value: str | None) -> bool | frozenset[NormalizedName]:
    """`upgrade=1` (everything) or `upgrade=pkg[,pkg]` (only those), as pip-compile's flags."""
    if not value or value.lower() in ("0", "false", "no"):
        return False
    if value.lower() in ("1", "true", "yes", "all"):
        return True
    return frozenset(canonicalize_name(p) for p in value.split(",") if p.strip())


Mode = Literal["write", "dry", "check"]


class LazyBuilds:
    """`MetadataProvider(indexes, net, store)`, imported at the first build: a relock whose metadata is
    all cached never loads the builder and the source kinds (80 to 120 ms of imports here)."""

    def __init__(self, indexes: Indexes, net: Network | None = None, store: Store | None = None):
        self.indexes, self.net, self.store = indexes, net or Network(), store
        self.revisions: dict[NormalizedName, str] = {}
        self._provider: Builds | None = None

    def __call__(
        self,
        name: NormalizedName,
        source: Source,
        interp: Interpreter,
        cache: Path,
        dist_file: DistFile | None,
    ) -> dict[str, Any]:
        if self._provider is None:
            from tasks.source.build import MetadataProvider

            provider = MetadataProvider(self.indexes, self.net, self.store)
            provider.revisions = self.revisions  # one record of revisions, whoever asks
            self._provider = provider
        return self._provider(name, source, interp, cache, dist_file)


# lock tasks whose dry run found changes in this process: tasks.stages.lock saves no digest for them
dry_changed: set[str] = set()


def lock_env(
    spec: EnvSpec,
    interp: Interpreter,
    cache: Path,
    *,
    upgrade: str | None = None,
    hashes: bool = True,
    source_metadata: Builds | None = None,
    mode: Mode = "write",
    exclude_newer: str | None = None,
    net: Network | None = None,
    store: Store | None = None,
) -> bool:
    """Compile `spec.sources` into `spec.requirements[0]`, written atomically; whether it changed.

    `source_metadata` builds what needs a build (by default with `net` and `store`); its network serves the
    whole lock. `mode` "dry" reports what would change and writes nothing; "check" also fails when anything
    would. `exclude_newer` (a time or a span) is the upload-date cut-off; without it, the lock's own is kept.
    """
    started = time.perf_counter()
    if spec.python_version:
        from tasks.envs.python_version import for_python_version

        interp = for_python_version(interp, spec.python_version)
    out = spec.requirements[0]
    before = out.read_text(encoding="utf-8") if out.is_file() else None
    cutoff = _cutoff(exclude_newer, before)
    check_out_name(out)
    reqs = read_requirements(spec.sources, spec.extras, spec.groups)
    layers = [pip_index_options(), spec.index.merged(reqs.index)]
    indexes = effective_indexes(layers)
    builds = source_metadata or LazyBuilds(indexes, net, store)
    builds.net.credentials.add(index_urls(layers))  # the lock's own inputs may name a credentialed index
    reqs, roots = with_project_lines(reqs, spec, interp, cache, builds)
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
        net=builds.net,
    )
    resolution = pin_git_commits(resolution, builds.revisions)
    text = _lock_text(spec, interp, reqs, resolution, hashes, cutoff, (cache, builds, roots))
    sdist_only(resolution, interp)
    changes = lock_changes(_pins(before or "", out), _pins(text, out))
    same = before == text
    if mode == "write" and not same:
        atomic_write_text(out, text)
    if mode == "dry" and not same:
        dry_changed.add(spec.name)
    seconds = time.perf_counter() - started
    emit(
        Locked(
            task=spec.name, path=str(out), count=len(resolution.pins), seconds=seconds,
            changes=changes, dry=mode != "write", created=before is None,
            message=None if same or changes else "its text differs (header, options, hashes or comments)",
        )
    )  # fmt: skip
    if builds.net.offline:
        emit(SkippedOffline("index revalidation: resolved from the cache", task=spec.name))
    if mode == "check" and not same:
        raise LockDiffers(_differs(changes, before is None), package=_shown(out, user_cwd()))
    return not same


def _pins(text: str, out: Path) -> dict[str, str]:
    """name → version of each pin a lock's text names (a pylock.toml's packages, or requirements lines)."""
    if not is_pylock_path(out):
        return pinned(text)
    import tomllib

    try:
        packages = tomllib.loads(text).get("packages", []) if text else []
    except tomllib.TOMLDecodeError:
        return {}
    return {str(p.get("name")): str(p.get("version", "")) for p in packages if isinstance(p, dict)}


def _cutoff(given: str | None, before: str | None) -> datetime | None:
    """The run's cut-off: the one given (a span counts back from now), else the lock's own."""
    from datetime import datetime, timezone

    from tasks.lock.cutoff import parse_cutoff, parse_time

    if given:
        return parse_cutoff(given, datetime.now(timezone.utc))
    kept = recorded_exclude_newer(before or "") or _pylock_cutoff(before or "")
    return parse_time(kept) if kept else None


def _pylock_cutoff(text: str) -> str | None:
    """The cut-off a pylock.toml keeps in its `[tool.wheelwright]` table (None when it has none)."""
    if "exclude-newer" not in text:
        return None  # also every requirements-syntax lock: no TOML parsed
    import tomllib

    try:
        table = tomllib.loads(text).get("tool", {}).get("wheelwright", {})
    except tomllib.TOMLDecodeError:
        return None
    kept = table.get("exclude-newer") if isinstance(table, dict) else None
    return kept if isinstance(kept, str) and kept else None


def _lock_text(
    spec: EnvSpec,
    interp: Interpreter,
    reqs: RequirementsFile,
    resolution: Resolution,
    hashes: bool,
    cutoff: datetime | None,
    pylock: tuple[Path, Builds, dict[str, set[str]]],
) -> str:
    """The lock's text: requirements syntax, or PEP 751 for `pylock.toml` (`pylock`: cache, builds, roots)."""
    from tasks.lock.cutoff import format_cutoff

    out = spec.requirements[0]
    inputs = [_shown(path, out.parent) for path in spec.sources]
    command = f"{command_name()} lock " + (
        f"req={inputs[0]} out={_shown(out, user_cwd())}{chosen_text(spec)}"
        if spec.name == "cli"
        else spec.name
    )
    python = ".".join(interp.version.split(".")[:2])
    if is_pylock_path(out):
        tool = {"command": command, **({"exclude-newer": format_cutoff(cutoff)} if cutoff else {})}
        cache, builds, roots = pylock
        return pylock_out(resolution, spec, interp, cache, builds, tool, roots)
    index, urls = as_written(spec.sources, reqs)
    urls.update(relative_paths(reqs, out.parent))
    index = relative_find_links(index, reqs.files, out.parent)
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


def check_out_name(out: Path) -> None:
    """A `.toml` lock is PEP 751's: `pylock.toml` or `pylock.<name>.toml`, nothing else."""
    if out.suffix == ".toml" and not is_pylock_path(out):
        raise ConfigError(
            f"out={out.name}: a TOML lock must be named pylock.toml or pylock.<name>.toml (PEP 751)"
        )


def pylock_out(
    resolution: Resolution,
    spec: EnvSpec,
    interp: Interpreter,
    cache: Path,
    builds: Builds,
    tool: dict[str, str],
    roots: dict[str, set[str]],
) -> str:
    """The resolution as a validated PEP 751 document (archives hashed, directories relative).

    `tool` is the `[tool.wheelwright]` table: the command that wrote it and the upload-date cut-off.
    """
    from tasks.lock.pylock import PylockSettings, pylock_text

    settings = PylockSettings(
        out=spec.requirements[0],
        created_by="wheelwright",
        python=interp.markers.get("python_full_version", interp.version),
        environment=interp.markers,
        extras=spec.extras,
        groups=spec.groups,
        archive_hashes=archive_hashes(resolution, interp, cache, builds),
        tool={"wheelwright": tool},
        roots={name: frozenset(labels) for name, labels in roots.items()},
    )
    return pylock_text(resolution, settings)


def archive_hashes(
    resolution: Resolution, interp: Interpreter, cache: Path, builds: Builds
) -> dict[str, str]:
    """sha256 of each direct archive whose reference gives none: the build's revision, a local file's
    digest, or the wheel fetched (once, into the cache, through the builds' network) and hashed."""
    from tasks.core.download import sha256_file
    from tasks.wheels.direct import fetch_direct_wheel

    found: dict[str, str] = {}
    for name, pin in resolution.pins.items():
        source = pin.source
        if source.kind not in ("url", "path") or source.offline_revision(frozenset()):
            continue
        path = getattr(source, "path", None)
        if isinstance(path, Path):
            if path.is_file():
                found[name] = sha256_file(path)
        elif name in builds.revisions:
            found[name] = builds.revisions[name]
        elif source.wheel_ref is not None:
            found[name] = fetch_direct_wheel(name, source, frozenset(), interp, cache, builds.net).sha256
    return found


def as_written(sources: tuple[Path, ...], expanded: RequirementsFile) -> tuple[IndexOptions, dict[str, str]]:
    """The inputs' index options, and their direct URLs (expanded → written), with `${VAR}` unexpanded.

    A lock keeps a variable reference as its input wrote it, never the secret it expands to;
    when the inputs cannot be read unexpanded, the expanded options are used (and redacted).
    """
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


def chosen_text(spec: EnvSpec) -> str:
    """The extras, groups and self=1 of a command-line lock, as its header repeats them."""
    words = [f" extras={','.join(spec.extras)}"] if spec.extras else []
    words += [f" groups={','.join(spec.groups)}"] if spec.groups else []
    return "".join(words) + (" self=1" if spec.with_self else "")


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
