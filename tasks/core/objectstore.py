"""An object store by URL behind one small interface: get, stream, head, put_if_absent, put, list, delete.

    s3://bucket/prefix      S3 and S3-compatible stores (MinIO, R2, Ceph): AWS_* variables and files
    file:///shared/dir      a directory, local or on a shared filesystem (NFS): no server
    memory://               this process only (tests)

Backed by obstore (one Rust client for every store, no Python dependencies), imported only when a
store is opened. Credentials come from each cloud's usual environment variables and files; they are
held by obstore and never reach a path, a log line or an error we print. Every fault of the store
comes out as `StoreFault` (absent objects as `Missing`), so callers handle one family of errors.
An `s3://` store whose endpoint (AWS_ENDPOINT_URL) is plain http (a MinIO on the LAN, a test server)
is allowed to use it: the user named that endpoint.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

SCHEMES = ("s3://", "file://", "memory://")
CONNECT_TIMEOUT = 3.0  # seconds to open a connection to the store
READ_TIMEOUT = 10.0  # seconds for a request of the store (obstore's whole-request timeout)
ATTEMPTS = 2  # tries of one request in all
_CHUNK = 1 << 20


class StoreFault(Exception):
    """The store could not do what was asked (down, slow, denied, a bad URL)."""


class Missing(StoreFault):
    """The object is not in the store."""


@dataclass(frozen=True)
class ObjectInfo:
    """One object: its key (relative to the store's prefix), size and last change."""

    key: str
    size: int
    modified: datetime


class ObjectStore(Protocol):
    """What the shared build cache needs of a store."""

    url: str

    def get(self, key: str) -> bytes: ...
    def stream(self, key: str) -> Iterator[bytes]: ...
    def head(self, key: str) -> ObjectInfo | None: ...
    def put(self, key: str, data: bytes | Path) -> None: ...
    def put_if_absent(self, key: str, data: bytes | Path) -> bool: ...
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def delete(self, key: str) -> None: ...


def supported(url: str) -> bool:
    return url.startswith(SCHEMES)


def open_store(url: str) -> ObjectStore:
    """The store at `url` (see the module's table); StoreFault for a URL no backend takes."""
    if not supported(url):
        raise StoreFault(f"{url!r}: expected one of {', '.join(s + '…' for s in SCHEMES)}")
    return ObstoreStore(url)


class ObstoreStore:
    """An ObjectStore over obstore."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store = _connect(url)

    def get(self, key: str) -> bytes:
        import obstore

        return bytes(_call(key, lambda: obstore.get(self._store, key).bytes()))

    def stream(self, key: str) -> Iterator[bytes]:
        """The object's bytes, a chunk at a time."""
        import obstore

        result = _call(key, lambda: obstore.get(self._store, key))
        stream = result.stream(min_chunk_size=_CHUNK)
        while True:
            chunk = _call(key, lambda: next(stream, None))
            if chunk is None:
                return
            yield bytes(chunk)

    def head(self, key: str) -> ObjectInfo | None:
        import obstore

        try:
            meta = _call(key, lambda: obstore.head(self._store, key))
        except Missing:
            return None
        return _info(meta)

    def put(self, key: str, data: bytes | Path) -> None:
        import obstore

        _call(key, lambda: obstore.put(self._store, key, data))

    def put_if_absent(self, key: str, data: bytes | Path) -> bool:
        """Write `key` unless it exists (S3's If-None-Match); False when another writer was first."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            obstore.put(self._store, key, data, mode="create")
        except (AlreadyExistsError, PreconditionError):
            return False
        except Exception as exc:
            raise _fault(key, exc) from None
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        import obstore

        pages = obstore.list(self._store, prefix or None)
        while True:
            page = _call(prefix, lambda: next(pages, None))
            if page is None:
                return
            yield from (_info(meta) for meta in page)

    def delete(self, key: str) -> None:
        import obstore

        with contextlib.suppress(Missing):
            _call(key, lambda: obstore.delete(self._store, key))


def _connect(url: str) -> Any:
    from obstore.store import LocalStore, MemoryStore, from_url

    if url.startswith("memory://"):
        return _memory(url, MemoryStore)
    if url.startswith("file://"):
        root = Path(url.removeprefix("file://"))
        root.mkdir(parents=True, exist_ok=True)
        return LocalStore(root)
    options = {
        "connect_timeout": f"{int(CONNECT_TIMEOUT * 1000)}ms",
        "timeout": f"{int(READ_TIMEOUT * 1000)}ms",
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    if endpoint.startswith("http://"):
        options["allow_http"] = "true"
    retry = {"max_retries": ATTEMPTS - 1, "retry_timeout": _seconds(READ_TIMEOUT * ATTEMPTS)}
    try:
        return from_url(url, client_options=options, retry_config=retry)  # type: ignore[call-overload]
    except Exception as exc:
        raise _fault(url, exc) from None


# Process-wide by definition: a `memory://NAME` store is this process's memory (tests, benchmarks),
# one per name so every opener sees the same objects. Nothing else is kept here: an s3:// or file://
# store is held by whoever opened it (the run's `tasks.source.remote.SharedCache`).
_memories: dict[str, Any] = {}


def _memory(url: str, make: Any) -> Any:
    """memory:// stores live as long as the process; one per URL, so every opener sees the same."""
    return _memories.setdefault(url, make())


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


def _call(key: str, do: Any) -> Any:
    try:
        return do()
    except StoreFault:
        raise
    except Exception as exc:
        raise _fault(key, exc) from None


def _fault(key: str, exc: BaseException) -> StoreFault:
    """One of ours from obstore's (its first line: its messages carry a long debug dump)."""
    from obstore.exceptions import NotFoundError

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, (NotFoundError, FileNotFoundError)):
        return Missing(f"{key}: not found")
    return StoreFault(f"{type(exc).__name__}: {first}")


def _info(meta: Any) -> ObjectInfo:
    return ObjectInfo(str(meta["path"]), int(meta["size"]), meta["last_modified"])
