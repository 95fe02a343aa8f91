"""The run's task outline (names, keys, environments), memoized as JSON between runs.

Naming the tasks needs the locks parsed and their markers evaluated, which imports most of
`packaging`. A no-op run needs none of that: the outline of the last run is reused while
every file it was read from (pipeline.yaml, the locks and their includes, pip's configuration,
the target's pyvenv.cfg and interpreter) is unchanged, and the variables and environment that
shape it are the same. The actions rebuild the full plan only when they actually run.

An outline holds no credentials (`without_credentials`): its keys become doit state and the
memo is a file, so both use index URLs with user:password@ removed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout
from tasks.core.files import atomic_write_text
from tasks.core.urls import digest, scrub, scrub_text

if TYPE_CHECKING:
    from tasks.run.pinkind import Kind

VERSION = "outline-v7"


@dataclass(frozen=True)
class PinOutline:
    task: str  # fetch:<task>
    key: str
    doc: str
    kind: str = ""  # "wheel" or "sdist" (tasks.run.pinkind) when planned; "" for an index pin not fetched yet
    settings: str = ""  # its PEP 517 config_settings as JSON (a change makes the build tasks stale)
    choice_key: str = ""  # an index pin: its one key, for the record of its chosen file (tasks.run.pinkind)

    @property
    def known_kind(self) -> Kind | None:
        return "wheel" if self.kind == "wheel" else "sdist" if self.kind == "sdist" else None

    @property
    def built(self) -> bool:
        """Built from source (or an index pin not known yet): `build_meta` and `build_wheel` too."""
        return self.kind != "wheel"

    @property
    def registry(self) -> bool:
        """An index pin: its build tasks read the chosen sdist from its record (tasks.run.pinkind)."""
        return bool(self.choice_key)


@dataclass(frozen=True)
class EnvOutline:
    name: str
    doc: str
    pins: list[str] = field(default_factory=list)  # the tasks whose values sync installs (getargs)
    error: str | None = None
    path: str = ""
    sites: list[str] = field(default_factory=list)  # site-packages, when the environment exists
    lock: str = ""  # the lock it is made equal to


@dataclass(frozen=True)
class LockOutline:
    name: str
    doc: str
    out: str
    deps: list[str]  # the inputs and every file they include
    key: str
    error: str | None = None


@dataclass(frozen=True)
class Outline:
    cache: str
    envs: list[EnvOutline]
    pins: list[PinOutline]
    locks: list[LockOutline] = field(default_factory=list)
    project: str = ""  # the project's directory (its doit state is kept apart: tasks.run.context)
    config: str = ""  # the pipeline.yaml it read; "" when none was found (the defaults)


def memo_dir() -> Path:
    """Where the memos are: WHEELWRIGHT_HOME (./doit's .wheelwright), else the user cache.

    One file per key, and the key holds the user's directory and the pipeline.yaml found from it,
    so each project (and each directory a run starts in) has its own memo.
    """
    from tasks.inputs.project import user_cache_dir

    home = os.environ.get("WHEELWRIGHT_HOME")
    return (Path(home) if home else user_cache_dir()) / layout.OUTLINES.name


# How a run reports and acts, not what it plans (as current.MODES): left out of the memo's key, so
# that, say, a new events file per run (as the tests and CI give) does not make every run plan.
NOT_SHAPING = frozenset({"WHEELWRIGHT_EVENTS", "WHEELWRIGHT_REMOTE_CACHE", "WHEELWRIGHT_VERBOSE"})


def _shaping_environment() -> dict[str, str]:
    keep = ("PIP_", "WHEELWRIGHT_", "XDG_")
    return {
        k: scrub_text(v)
        for k, v in sorted(os.environ.items())
        if (k.startswith(keep) or k in ("HOME", "PATH", "VIRTUAL_ENV")) and k not in NOT_SHAPING
    }


def outline_key(variables: Mapping[str, str]) -> str:
    return digest(json.dumps([VERSION, sorted(variables.items()), _shaping_environment()]))


def stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def stamps(paths: Iterable[Path]) -> list[tuple[str, str]]:
    return [(str(p), stamp(p)) for p in sorted(set(paths))]


Stamps = list[tuple[str, str]]  # (path, stamp) of each file an outline was read from


def load_memo(variables: Mapping[str, str]) -> Outline | None:
    """The memoized outline, when every file it was read from is unchanged."""
    loaded = load_stamped_memo(variables)
    return loaded[0] if loaded is not None else None


def load_stamped_memo(variables: Mapping[str, str]) -> tuple[Outline, Stamps] | None:
    """The memoized outline and the stamps of the files it was read from, when all are unchanged."""
    try:
        data = json.loads((memo_dir() / f"{outline_key(variables)}.json").read_text())
    except (OSError, ValueError):
        return None
    if any(stamp(Path(p)) != s for p, s in data["stamps"]):
        return None
    return _from_json(data["outline"]), [(p, s) for p, s in data["stamps"]]


def restamp(key: str, paths: Iterable[str]) -> None:
    """Take the memo's stamps of `paths` again when they alone changed and none was missing: files a run
    replaced with their equals (a new environment made from the same interpreter: tasks/run/early_sync.py)
    leave the outline as it was planned."""
    own = set(paths)
    memo = memo_dir() / f"{key}.json"  # key: outline_key(the run's variables)
    try:
        data = json.loads(memo.read_text())
        stamped = [(p, s) for p, s in data["stamps"]]
    except (OSError, ValueError, KeyError, TypeError):
        return
    changed = {p for p, s in stamped if stamp(Path(p)) != s}
    if not changed or not changed <= own or any(s == "missing" for p, s in stamped if p in own):
        return
    data["stamps"] = [(p, stamp(Path(p)) if p in own else s) for p, s in stamped]
    with contextlib.suppress(OSError):  # a memo: without it, the next full run plans again
        atomic_write_text(memo, json.dumps(data))


def without_credentials(outline: Outline) -> Outline:
    """The outline with user:password@ removed from every URL in its keys, docs and errors."""
    return _from_json(scrub(asdict(outline)))


def save_memo(variables: Mapping[str, str], outline: Outline, inputs: Iterable[Path]) -> Stamps:
    """Memoize `outline`; the stamps of `inputs` it was saved with."""
    stamped = stamps(inputs)
    data = {"outline": scrub(asdict(outline)), "stamps": stamped}
    atomic_write_text(memo_dir() / f"{outline_key(variables)}.json", json.dumps(data))
    return stamped


def project_line(memo: Outline) -> str:
    """The run's first line: the project, the pipeline.yaml it read (or the defaults), lock -> environment."""
    project = Path(memo.project) if memo.project else None

    def shown(path: str) -> str:
        if project is None or not path:
            return path
        relative = os.path.relpath(path, project)
        return path if relative.startswith("..") else relative

    envs = "; ".join(f"{e.name}: {shown(e.lock)} -> {shown(e.path) or '(lock only)'}" for e in memo.envs)
    where = memo.config or f"{memo.project} (no pipeline.yaml: defaults; `init` writes one)"
    return f"{where}: {envs or 'no environments'}"


def _from_json(data: dict[str, Any]) -> Outline:
    return Outline(
        cache=data["cache"],
        envs=[EnvOutline(**env) for env in data["envs"]],
        pins=[PinOutline(**pin) for pin in data["pins"]],
        locks=[LockOutline(**lock) for lock in data.get("locks", [])],
        project=data.get("project", ""),
        config=data.get("config", ""),
    )
