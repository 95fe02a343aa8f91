"""The shared build cache on an object store (S3, a shared directory): its keys, read-through, write-behind.

    <store>/built-v0/<name>/<key>/entry.json            {"wheel", "sha256", "size", "metadata", "prepared"}
    <store>/built-v0/<name>/<key>/<sha256>/<wheel>      the wheel itself, stored under its own digest
    <store>/built-v0/<name>/<key>/used                  empty; rewritten at most daily when a runner reads it

`key` digests everything that decides a built wheel: the project, the source's immutable revision (an
sdist's or archive's sha256, a git commit, a directory's content digest), its subdirectory, the build
settings and the target interpreter's wheel tags. A key never names anything else, so a shared store
cannot serve a stale build. A reader takes a wheel only when its sha256 and size match the entry and
its METADATA matches the entry's metadata; the wheel is uploaded before its entry, so an entry never
points at a missing wheel. Any fault of the store (down, slow, denied, corrupt) is one `warning:` and
a local build: the store is switched off for the rest of the run after its first failure. The store
itself is any URL `tasks.core.objectstore` opens (s3://, file://, memory://).

Nothing here is process-wide: the run layer makes one `SharedCache` from the configuration
(`tasks.run.context.shared_store`) and hands it to the build pipeline (`tasks.source.pipeline`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from tasks.core import layout
from tasks.core.errors import ConfigError
from tasks.core.objectstore import SCHEMES, Missing, StoreFault

if TYPE_CHECKING:  # parse_location runs while the pipeline loads: nothing heavy at import
    from tasks.envs.interpreter import Interpreter
    from tasks.source.builtcache import BuiltEntry
    from tasks.source.trees import Tree

OFF = ("", "off", "none", "0", "false", "no")
USED_EVERY = 86400  # seconds: a read rewrites an entry's `used` record at most this often
ROOT = layout.REMOTE_BUILT.name


@dataclass(frozen=True)
class Location:
    """Where the shared cache lives: a store URL (`s3://bucket/prefix`, `file:///dir`, `memory://name`)."""

    url: str

    def __str__(self) -> str:
        return self.url.rstrip("/")


def object_key(*parts: str) -> str:
    """A key below the store's URL: `built-v0/<name>/<key>/…`."""
    return "/".join(p for p in (ROOT, *parts) if p)


class Corrupt(Exception):
    """An object of the store that does not check out (rejected: the source is built locally)."""


def parse_location(value: str | None) -> Location | None:
    """A store URL → a Location; None for nothing or `off`; ConfigError for anything else."""
    text = (value or "").strip()
    if text.lower() in OFF:
        return None
    scheme = next((s for s in SCHEMES if text.startswith(s)), None)
    rest = text[len(scheme or "") :]
    well_formed = {"s3://": rest.split("/")[0] != "", "file://": rest.startswith("/"), "memory://": True}
    if scheme is None or not well_formed[scheme]:
        forms = "s3://BUCKET/PREFIX, file:///DIR or memory://NAME"
        raise ConfigError(f"remote cache {text!r}: expected {forms} (or off)")
    return Location(text)


def remote_key(name: str, tree: Tree, interp: Interpreter, settings: dict[str, Any] | None = None) -> str:
    """The immutable key of the wheel that `tree` builds for `interp` with `settings` (by default the
    PEP 517 config_settings its metadata.json records)."""
    material = {
        "name": canonicalize_name(name),
        "revision": tree.revision,
        "subdirectory": (tree.direct_url or {}).get("subdirectory"),
        "settings": settings if settings is not None else tree.info.get("config_settings") or {},
        "tags": list(interp.tags),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:40]


def shareable(tree: Tree) -> bool:
    """Whether a tree's wheel may go to the store: not an editable one (it points into this machine)."""
    return not getattr(tree, "editable", False)


# --- this run's store ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pulled:
    """A wheel pulled from the store, now in the local buckets as if built here."""

    wheel: Path
    metadata: dict[str, Any]


class SharedCache:
    """One run's shared build cache: read-through (`pull`), write-behind (`push`), off after a failure.

    Made once per run from the configuration (`location`; None: no store, or `offline=1`) and handed
    to the build pipeline (`tasks.source.pipeline.Store`). One object serves every build of the run
    (doit runs them as threads of one process), because its state is the run's, not one build's:
    after its first failure it is off for every build (one warning, no second wait), a key found
    missing is not asked again, and a rejected entry is overwritten by the next upload."""

    def __init__(self, location: Location | None = None) -> None:
        self.lock = threading.Lock()
        self.location = location
        self.store: Any = None
        self.missed: set[str] = set()  # keys looked up and absent: not asked twice in a run
        self.corrupt: set[str] = set()  # keys whose objects were rejected: overwritten on upload

    def configured(self) -> Location | None:
        """The store in use: None when there is none, or once it has failed this run."""
        return self.location

    def pull(
        self,
        name: str,
        tree: Tree,
        interp: Interpreter,
        cache: Path,
        entry: BuiltEntry | None,
        settings: dict[str, Any] | None = None,
    ) -> Pulled | None:
        """The store's wheel for `interp`, installed into the local cache; None on a miss or any fault."""
        location = self.configured()
        if location is None or not shareable(tree):
            return None
        from tasks.source.builtcache import record_wheel
        from tasks.source.sharedcheck import pulled_problem

        key = remote_key(name, tree, interp, settings)
        if key in self.missed:
            return None
        try:
            found = _download(self._store(location), name, key, tree, cache)
            if (problem := pulled_problem(found[0], found[1], name, tree, interp, entry)) is not None:
                found[0].unlink(missing_ok=True)  # checked like any wheel: tags, archive, name and version
                raise Corrupt(problem)
        except Corrupt as exc:
            self._reject(location, name, key, str(exc))
            return None
        except Missing:
            self.missed.add(key)
            return None
        except _failures() as exc:
            self._fail(location, f"reading {name}", exc)
            return None
        wheel, metadata, prepared = found
        record_wheel(cache, tree, entry, wheel.name, metadata, prepared)  # exactly as a local build leaves it
        _announce(location, name, wheel)
        _note_use(self._store(location), name, key)
        return Pulled(wheel, metadata)

    def push(
        self,
        name: str,
        tree: Tree,
        interp: Interpreter,
        wheel: Path,
        entry: BuiltEntry,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Upload a wheel built here, then its entry (the small index object last); faults only warn."""
        location = self.configured()
        if location is None or not shareable(tree):
            return
        key = remote_key(name, tree, interp, settings)
        try:
            _upload(self._store(location), name, key, wheel, entry, replace=key in self.corrupt)
        except _failures() as exc:
            self._fail(location, f"uploading {name}", exc)
            return
        self.missed.discard(key)

    def _store(self, location: Location) -> Any:
        """The store (obstore is imported only now: a remote cache is configured and a build is needed)."""
        from tasks.core.objectstore import open_store

        with self.lock:
            if self.store is None:
                self.store = open_store(location.url)
            return self.store

    def _fail(self, location: Location, action: str, exc: BaseException) -> None:
        """The first failure of the store: one warning, then no more requests this run."""
        from tasks.core.events import warn
        from tasks.core.urls import scrub_text

        with self.lock:
            if self.location != location:
                return  # another thread already switched it off (and warned)
            self.location = None
        cause = scrub_text(str(exc).strip() or type(exc).__name__)
        warn(f"remote cache {location}: {action} failed ({cause}); building locally, store off for this run")

    def _reject(self, location: Location, name: str, key: str, cause: str) -> None:
        from tasks.core.events import warn

        self.corrupt.add(key)
        self.missed.add(key)  # not fetched again this run
        warn(f"remote cache {location}: rejected {name} ({cause}); building it locally")


def _failures() -> tuple[type[BaseException], ...]:
    return (StoreFault, OSError)


# --- the store's objects -------------------------------------------------------------------------


def _note_use(store: Any, name: str, key: str) -> None:
    """Record that a runner read this entry (for `prune remote=1`), at most once a day; faults are ignored:
    a read that could not be recorded only makes the entry look older to the next prune."""
    import time

    used = object_key(canonicalize_name(name), key, "used")
    try:
        seen = store.head(used)
        if seen is None or time.time() - seen.modified.timestamp() > USED_EVERY:
            store.put(used, b"")
    except _failures():
        pass


def _download(
    store: Any, name: str, key: str, tree: Tree, cache: Path
) -> tuple[Path, dict[str, Any], dict[str, Any] | None]:
    """The entry, then its wheel into the source's bucket, both checked (Corrupt when they do not match)."""
    from tasks.source.builtcache import wheels_dir

    base = object_key(canonicalize_name(name), key)
    entry = _parse_entry(store.get(f"{base}/entry.json"))
    wheel = _safe_wheel(entry["wheel"], name, wheels_dir(cache, tree.bucket))
    _receive(store.stream(f"{base}/{entry['sha256']}/{wheel.name}"), wheel, entry["sha256"], entry["size"])
    metadata = _wheel_metadata(wheel)
    if metadata != entry["metadata"]:
        wheel.unlink(missing_ok=True)
        raise Corrupt(f"{wheel.name}: its METADATA differs from the entry's")
    return wheel, metadata, entry["prepared"]


def _parse_entry(raw: bytes) -> dict[str, Any]:
    """entry.json's content, its shape checked."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise Corrupt("entry.json is not JSON") from None
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("wheel"), str)
        and isinstance(data.get("sha256"), str)
        and len(data["sha256"]) == 64
        and all(c in "0123456789abcdef" for c in data["sha256"])
        and isinstance(data.get("size"), int)
        and isinstance(data.get("metadata"), dict)
        and (data.get("prepared") is None or isinstance(data["prepared"], dict))
    )
    if not ok:
        raise Corrupt("entry.json has not the expected fields")
    return {"prepared": None, **data}


def _safe_wheel(filename: str, name: str, directory: Path) -> Path:
    from tasks.core.errors import UnsafeName
    from tasks.core.safenames import dist_filename

    try:
        if not filename.endswith(".whl"):
            raise UnsafeName(f"{filename!r} is not a wheel")
        return directory / dist_filename(filename, name)
    except UnsafeName as exc:
        raise Corrupt(f"entry.json names {exc.cause}") from None


def _receive(chunks: Iterator[bytes], wheel: Path, sha256: str, size: int) -> None:
    """Stream `chunks` into `wheel` through the one download loop; Corrupt unless sha256 and size match."""
    from tasks.core.download import write_stream

    def check(got: str, got_size: int) -> None:
        if got != sha256 or got_size != size:
            expected, found = f"{sha256} ({size} bytes)", f"{got} ({got_size} bytes)"
            raise Corrupt(f"{wheel.name}: expected sha256 {expected}, got {found}")

    write_stream(chunks, wheel, check=check)


def _wheel_metadata(wheel: Path) -> dict[str, Any]:
    from tasks.core.coremeta import parse_core_metadata
    from tasks.core.errors import InvalidWheel
    from tasks.index.wheelmeta import metadata_text

    try:
        return parse_core_metadata(metadata_text(wheel, wheel.name))
    except InvalidWheel as exc:
        wheel.unlink(missing_ok=True)
        raise Corrupt(f"{wheel.name}: {exc.cause}") from None


def _announce(location: Location, name: str, wheel: Path) -> None:
    from tasks.core.eventkinds import Downloaded
    from tasks.core.events import emit

    source = f"remote cache {location}"
    emit(
        Downloaded(
            package=name,
            source=source,
            filename=wheel.name,
            path=str(wheel),
            bytes=wheel.stat().st_size,
        )
    )


def _upload(store: Any, name: str, key: str, wheel: Path, entry: BuiltEntry, *, replace: bool) -> None:
    """The wheel under its own digest, then its entry: the first entry of a key wins, so every runner
    takes the same wheel, unless `replace` (a rejected entry is replaced)."""
    from tasks.core.download import sha256_file

    sha256 = sha256_file(wheel)
    base = object_key(canonicalize_name(name), key)
    store.put(f"{base}/{sha256}/{wheel.name}", wheel)  # under its own digest: same key, same content
    record = {
        "wheel": wheel.name,
        "sha256": sha256,
        "size": wheel.stat().st_size,
        "metadata": entry.data[wheel.name],
        "prepared": entry.prepared,
    }
    body = json.dumps(record, sort_keys=True).encode()
    if replace:
        store.put(f"{base}/entry.json", body)
    else:
        store.put_if_absent(f"{base}/entry.json", body)
