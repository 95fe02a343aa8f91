"""The shared build cache on an S3-compatible store: its keys, read-through, write-behind and checks.

    <prefix>/built-v0/<name>/<key>/entry.json            {"wheel", "sha256", "size", "metadata", "prepared"}
    <prefix>/built-v0/<name>/<key>/<sha256>/<wheel>      the wheel itself, stored under its own digest

`key` digests everything that decides a built wheel: the project, the source's immutable revision (an
sdist's or archive's sha256, a git commit, a directory's content digest), its subdirectory, the build
settings and the target interpreter's wheel tags. A key never names anything else, so a shared store
cannot serve a stale build. A reader takes a wheel only when its sha256 and size match the entry and
its METADATA matches the entry's metadata; the wheel is uploaded before its entry, so an entry never
points at a missing wheel. Any fault of the store (down, slow, denied, corrupt) is one `warning:` and
a local build: the store is switched off for the rest of the run after its first failure.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from tasks.core.errors import ConfigError

if TYPE_CHECKING:  # configure() runs while the pipeline loads: nothing heavy at import
    from tasks.source.builtcache import BuiltEntry
    from tasks.source.trees import Tree
    from tasks.target.interpreter import Interpreter

OFF = ("", "off", "none", "0", "false", "no")
CONNECT_TIMEOUT = 3.0  # seconds to open a connection to the store
READ_TIMEOUT = 10.0  # seconds to wait for any data of an answer
ATTEMPTS = 2  # tries of one request in all (botocore's standard retry mode, with its backoff)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Location:
    """Where the shared cache lives: `s3://bucket/prefix`."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def object_key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, "built-v0", *parts) if p)


class Corrupt(Exception):
    """An object of the store that does not check out (rejected: the source is built locally)."""


def parse_location(value: str | None) -> Location | None:
    """`s3://bucket/prefix` → a Location; None for nothing or `off`; ConfigError for anything else."""
    text = (value or "").strip()
    if text.lower() in OFF:
        return None
    if not text.startswith("s3://") or not text[5:].split("/", 1)[0]:
        raise ConfigError(f"remote cache {text!r}: expected s3://BUCKET/PREFIX (or off)")
    bucket, _, prefix = text[5:].partition("/")
    return Location(bucket, prefix.strip("/"))


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


class _Run:
    """The store configured for this process, switched off after its first failure."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.location: Location | None = None
        self.client: Any = None
        self.missed: set[str] = set()  # keys looked up and absent: not asked twice in a run
        self.corrupt: set[str] = set()  # keys whose objects were rejected: overwritten on upload


_run = _Run()


def configure(value: str | None) -> None:
    """Use the store at `value` (`s3://bucket/prefix`) for this process; None or `off` switches it off."""
    location = parse_location(value)
    if location is not None and importlib.util.find_spec("boto3") is None:
        raise ConfigError(
            f"remote-cache {value}: the S3 client is not installed; install wheelwright[s3] "
            "(pipx install 'wheelwright[s3]', or pip install boto3 beside wheelwright)"
        )
    with _run.lock:
        if location != _run.location:
            _run.location, _run.client = location, None
            _run.missed.clear()
            _run.corrupt.clear()


def configured() -> Location | None:
    return _run.location


def _client() -> Any:
    """The S3 client (boto3 is imported only now: a remote cache is configured and a build is needed)."""
    with _run.lock:
        if _run.client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
                request_checksum_calculation="when_required",  # we check sha256 ourselves
                response_checksum_validation="when_required",
            )
            _run.client = boto3.session.Session().client("s3", config=config)
        return _run.client


def _fail(location: Location, action: str, exc: BaseException) -> None:
    """The first failure of the store: one warning, then no more requests this run."""
    from tasks.core.events import warn
    from tasks.core.urls import scrub_text

    with _run.lock:
        if _run.location != location:
            return  # another thread already switched it off (and warned)
        _run.location = None
    cause = scrub_text(str(exc).strip() or type(exc).__name__)
    warn(f"remote cache {location}: {action} failed ({cause}); building locally, store off for this run")


def _is_missing(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)  # a ClientError's parsed answer; None for a timeout
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("NoSuchKey", "404", "NotFound")


def _failures() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, OSError)


# --- read-through --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """A wheel taken from the store, now in the local buckets as if built here."""

    wheel: Path
    metadata: dict[str, Any]


def take(
    name: str,
    tree: Tree,
    interp: Interpreter,
    cache: Path,
    entry: BuiltEntry | None,
    settings: dict[str, Any] | None = None,
) -> Taken | None:
    """The store's wheel for `interp`, installed into the local cache; None on a miss or any fault."""
    location = _run.location
    if location is None or not shareable(tree):
        return None
    key = remote_key(name, tree, interp, settings)
    if key in _run.missed:
        return None
    try:
        found = _download(location, name, key, tree, cache)
    except Corrupt as exc:
        _reject(location, name, key, str(exc))
        return None
    except _failures() as exc:
        if _is_missing(exc):
            _run.missed.add(key)
        else:
            _fail(location, f"reading {name}", exc)
        return None
    wheel, metadata, prepared = found
    _install(name, tree, cache, entry, wheel, metadata, prepared)
    _announce(location, name, wheel)
    return Taken(wheel, metadata)


def _download(
    location: Location, name: str, key: str, tree: Tree, cache: Path
) -> tuple[Path, dict[str, Any], dict[str, Any] | None]:
    """The entry, then its wheel into the source's bucket, both checked (Corrupt when they do not match)."""
    from tasks.source.builtcache import wheels_dir

    client = _client()
    base = location.object_key(canonicalize_name(name), key)
    entry = _parse_entry(client.get_object(Bucket=location.bucket, Key=f"{base}/entry.json")["Body"].read())
    wheel = _safe_wheel(entry["wheel"], name, wheels_dir(cache, tree.bucket))
    body = client.get_object(Bucket=location.bucket, Key=f"{base}/{entry['sha256']}/{wheel.name}")["Body"]
    _receive(body, wheel, entry["sha256"], entry["size"])
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


def _receive(body: Any, wheel: Path, sha256: str, size: int) -> None:
    """Stream `body` to a temp file beside `wheel`, hashing it; renamed into place only when it matches."""
    from tasks.core.files import temp_beside

    digest, got = hashlib.sha256(), 0
    with temp_beside(wheel) as tmp:
        with tmp.open("wb") as out:
            while chunk := body.read(_CHUNK):
                digest.update(chunk)
                got += len(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256 or got != size:
            expected, found = f"{sha256} ({size} bytes)", f"{digest.hexdigest()} ({got} bytes)"
            raise Corrupt(f"{wheel.name}: expected sha256 {expected}, got {found}")
        os.replace(tmp, wheel)


def _wheel_metadata(wheel: Path) -> dict[str, Any]:
    from tasks.core.coremeta import parse_core_metadata
    from tasks.core.errors import InvalidWheel
    from tasks.index.wheelmeta import metadata_text

    try:
        return parse_core_metadata(metadata_text(wheel, wheel.name))
    except InvalidWheel as exc:
        wheel.unlink(missing_ok=True)
        raise Corrupt(f"{wheel.name}: {exc.cause}") from None


def _install(
    name: str,
    tree: Tree,
    cache: Path,
    entry: BuiltEntry | None,
    wheel: Path,
    metadata: dict[str, Any],
    prepared: dict[str, Any] | None,
) -> None:
    """metadata.json and the bucket exactly as a local build leaves them (fresh: added; stale: replaced)."""
    from tasks.source.builtcache import (
        drop_other_revisions,
        drop_stale_wheels,
        is_fresh,
        with_prepared,
        with_wheel,
        write_entry,
    )

    base = entry if is_fresh(entry, tree.revision) else None
    if prepared is not None and (base is None or base.prepared is None):
        base = with_prepared(base, tree.revision, tree.info, prepared)
    updated = with_wheel(base, tree.revision, tree.info, wheel.name, metadata)
    write_entry(cache, tree.bucket, updated)
    drop_stale_wheels(cache, tree.bucket, keep=set(updated.data))
    if tree.bucket.startswith("path/"):
        drop_other_revisions(cache, tree.bucket)


def _announce(location: Location, name: str, wheel: Path) -> None:
    from tasks.core.events import Event, emit

    source = f"remote cache {location}"
    emit(
        Event(
            "downloaded",
            package=name,
            source=source,
            filename=wheel.name,
            path=str(wheel),
            bytes=wheel.stat().st_size,
        )
    )


def _reject(location: Location, name: str, key: str, cause: str) -> None:
    from tasks.core.events import warn

    _run.corrupt.add(key)
    _run.missed.add(key)  # not fetched again this run
    warn(f"remote cache {location}: rejected {name} ({cause}); building it locally")


# --- write-behind --------------------------------------------------------------------------------


def give(
    name: str,
    tree: Tree,
    interp: Interpreter,
    wheel: Path,
    entry: BuiltEntry,
    settings: dict[str, Any] | None = None,
) -> None:
    """Upload a wheel built here, then its entry (the small index object last); faults only warn."""
    location = _run.location
    if location is None or not shareable(tree):
        return
    key = remote_key(name, tree, interp, settings)
    try:
        _upload(location, name, key, wheel, entry)
    except _failures() as exc:
        _fail(location, f"uploading {name}", exc)
        return
    _run.missed.discard(key)


def _upload(location: Location, name: str, key: str, wheel: Path, entry: BuiltEntry) -> None:
    from tasks.core.download import sha256_file

    client = _client()
    sha256 = sha256_file(wheel)
    base = location.object_key(canonicalize_name(name), key)
    with wheel.open("rb") as body:  # under its own digest: same key, same content
        client.put_object(Bucket=location.bucket, Key=f"{base}/{sha256}/{wheel.name}", Body=body)
    record = {
        "wheel": wheel.name,
        "sha256": sha256,
        "size": wheel.stat().st_size,
        "metadata": entry.data[wheel.name],
        "prepared": entry.prepared,
    }
    _put_entry(
        client, location.bucket, f"{base}/entry.json", json.dumps(record, sort_keys=True).encode(), key
    )


def _put_entry(client: Any, bucket: str, object_key: str, body: bytes, key: str) -> None:
    """The first entry of a key wins (If-None-Match), so every runner takes the same wheel; a rejected
    entry is overwritten. A store without conditional writes (501) gets a plain put."""
    from botocore.exceptions import ClientError

    if key in _run.corrupt:
        client.put_object(Bucket=bucket, Key=object_key, Body=body)
        return
    try:
        client.put_object(Bucket=bucket, Key=object_key, Body=body, IfNoneMatch="*")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
            return  # another runner published this key first: harmless
        if code not in ("NotImplemented", "501"):
            raise
        client.put_object(Bucket=bucket, Key=object_key, Body=body)
