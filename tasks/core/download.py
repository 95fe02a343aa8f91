"""Streamed downloads: one loop that hashes and writes, a bounded retry budget, atomic placement.

Every download of the pipeline comes through here: index wheels and sdists, direct wheels and URL
archives (`fetch`, `download`, `download_then`), and the shared store's stream (`write_stream`).

    write_stream   chunks → a temp file beside the target, sha256 and size checked, then renamed
    fetch          one URL through `write_stream`, tried again on a stall or a drop while less
                   than `Network.retry_budget()` has passed (`retrying` progress events)
    download_then  fetch into a scratch directory, a `downloaded` event, unpack, clean up

Each download is handed the run's `tasks.core.http.Network`: its file session, and the read timeout
(`timeout=SECONDS`) that every request and every retry budget of the run agree on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

from tasks.core.errors import HashMismatch, NetworkError, SourceUnreachable
from tasks.core.eventkinds import Downloaded, Progress
from tasks.core.events import emit
from tasks.core.files import temp_beside
from tasks.core.urls import strip_credentials

if TYPE_CHECKING:
    from tasks.core.http import Network

ATTEMPTS = 5
CHUNK = 1 << 16
PROGRESS_HZ = 4  # `progress` events per download per second, at most
GATEWAY = (502, 503, 504)  # a gateway in front of a host that is down: the host is unreachable

T = TypeVar("T")


# --- the one loop ---------------------------------------------------------------------------


def write_stream(
    chunks: Iterable[bytes],
    target: Path,
    *,
    check: Callable[[str, int], None] | None = None,
    place: Callable[[str], Path] | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[str, int]:
    """Write `chunks` to a temp file beside `target`, hashing them; (sha256, size).

    `check(sha256, size)` may refuse the content (it raises: nothing is left behind); the file is
    then renamed to `target`, or to `place(sha256)` when its name depends on its content (a path
    on the same file system). `advance(n)` hears of every chunk (progress)."""
    digest, size = hashlib.sha256(), 0
    with temp_beside(target) as tmp:
        with tmp.open("wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
                if advance is not None:
                    advance(len(chunk))
        sha256 = digest.hexdigest()
        if check is not None:
            check(sha256, size)
        final = target if place is None else place(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    return sha256, size


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            yield chunk


# --- one URL, tried within the budget --------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One download's outcome; a 304 to a conditional request wrote nothing (`not_modified`)."""

    sha256: str
    size: int
    seconds: float
    headers: Mapping[str, str] = field(default_factory=dict)  # the response's (validators, max-age)
    not_modified: bool = False


@dataclass(frozen=True)
class _Job:
    net: Network
    url: str
    target: Path
    package: str
    expected: Collection[str]
    headers: Mapping[str, str]
    place: Callable[[str], Path] | None

    @property
    def shown(self) -> str:
        return strip_credentials(self.url)

    def check(self, sha256: str, size: int) -> None:
        if self.expected and sha256 not in self.expected:
            expected = sorted(self.expected)
            raise HashMismatch(package=self.package, source=self.shown, expected=expected, got=sha256)


def fetch(
    net: Network,
    url: str,
    target: Path,
    *,
    package: str,
    expected: Collection[str] = (),
    headers: Mapping[str, str] | None = None,
    place: Callable[[str], Path] | None = None,
    unreachable_is_final: bool = False,
) -> Received:
    """`url` into `target` through `net`'s file session (see `write_stream` for `place`), its sha256
    one of `expected` when given.

    A stall or a drop is tried again with backoff while the budget lasts; a host that cannot be
    reached at all is tried again too, unless `unreachable_is_final` (the caller has a fallback:
    a URL archive's last confirmed build). `headers` make a conditional request: a 304 writes
    nothing. Failures: HashMismatch, SourceUnreachable (no answer, or 502/503/504), NetworkError."""
    job = _Job(net, url, target, package, expected, headers or {}, place)
    started = time.monotonic()
    if url.startswith("file:"):
        sha256, size = write_stream(file_chunks(Path(unquote(urlsplit(url).path))), target, check=job.check)
        return Received(sha256, size, time.monotonic() - started)
    import requests

    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _try(job, started)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            if _final(exc, unreachable_is_final):
                raise _failure(exc, f"cannot fetch: {type(exc).__name__}", job) from None
            pause, spent = 0.2 * 2 ** (attempt - 1), time.monotonic() - started
            if attempt == ATTEMPTS or spent + pause > net.retry_budget():
                cause = f"download failed after {attempt} attempts in {spent:.0f}s: {_why(exc, net)}"
                raise _failure(exc, cause, job) from None
            _retrying(job, attempt, exc)
            time.sleep(pause)
        except requests.RequestException as exc:
            raise NetworkError(
                f"cannot fetch: {type(exc).__name__}", package=package, source=job.shown
            ) from None
    raise AssertionError("unreachable")


def _try(job: _Job, started: float) -> Received:
    session, timeouts = job.net.file_session(), job.net.timeouts()
    with session.get(job.url, headers=job.headers, stream=True, timeout=timeouts) as response:
        status, headers = response.status_code, dict(response.headers)
        if status == 304 and job.headers:
            return Received("", 0, time.monotonic() - started, headers, not_modified=True)
        if status != 200:
            error = SourceUnreachable if status in GATEWAY else NetworkError
            raise error(f"download answered HTTP {status}", package=job.package, source=job.shown)
        length = headers.get("Content-Length", "")
        progress = _Progress(job.package, job.url, int(length) if length.isdigit() else None)
        chunks = response.iter_content(CHUNK)
        sha256, size = write_stream(
            chunks, job.target, check=job.check, place=job.place, advance=progress.advance
        )
    return Received(sha256, size, time.monotonic() - started, headers)


def _failure(exc: Exception, cause: str, job: _Job) -> NetworkError:
    """A host that did not answer (refused, no such host, timed out) is unreachable; a TLS failure
    or a dropped body is an answer."""
    import requests

    answered = isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ChunkedEncodingError))
    error = NetworkError if answered else SourceUnreachable
    return error(cause, package=job.package, source=job.shown)


def _final(exc: Exception, unreachable_is_final: bool) -> bool:
    """A failure no new try would mend: a TLS failure, or a host never reached when that is final."""
    import requests

    return isinstance(exc, requests.exceptions.SSLError) or (unreachable_is_final and _no_connection(exc))


def _no_connection(exc: Exception) -> bool:
    """The host was never reached (refused, no such host, connect timeout): urllib3 already tried again."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(exc, requests.ConnectionError) and isinstance(
        reason, (NewConnectionError, ConnectTimeoutError)
    )


def _why(exc: Exception, net: Network) -> str:
    """A failed try in words: a stall says how long it waited."""
    import requests

    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return f"no data for {net.read_timeout:g}s (read timeout; `timeout=SECONDS` changes it)"
    return type(exc).__name__


def _retrying(job: _Job, attempt: int, exc: Exception) -> None:
    """A `progress` event back at zero bytes that says why the download starts again."""
    message = f"try {attempt} failed ({_why(exc, job.net)}); trying again"
    emit(Progress(package=job.package, filename=_filename(job.url), bytes=0, message=message))


def _filename(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


class _Progress:
    """`progress` events for one download, at most PROGRESS_HZ a second (the first after 1/PROGRESS_HZ s)."""

    def __init__(self, package: str, url: str, total: int | None) -> None:
        self.package, self.total, self.done = package, total, 0
        self.filename = _filename(url)
        self.next_at = time.monotonic() + 1 / PROGRESS_HZ

    def advance(self, size: int) -> None:
        self.done += size
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + 1 / PROGRESS_HZ
        emit(Progress(package=self.package, filename=self.filename, bytes=self.done, total=self.total))


# --- the callers' shapes --------------------------------------------------------------------


def download(
    net: Network,
    url: str,
    target: Path,
    *,
    package: str,
    expected_sha256: Collection[str] = (),
) -> str:
    """Fetch `url` into `target`; returns the sha256. Nothing is left behind on failure."""
    return fetch(net, url, target, package=package, expected=expected_sha256).sha256


def download_then(
    net: Network,
    url: str,
    scratch: Path,
    filename: str,
    unpack: Callable[[Path, str], T],
    *,
    package: str,
    expected: Collection[str] = (),
    shown: str | None = None,
) -> tuple[str, T]:
    """Download into a fresh directory below `scratch`, report it, `unpack(file, sha256)`, clean up.

    Returns the sha256 and what `unpack` gave; the downloaded file and its directory are removed
    whatever happens (the cache keeps what `unpack` made of it)."""
    target = scratch / uuid.uuid4().hex / filename
    got = fetch(net, url, target, package=package, expected=expected)
    source = shown if shown is not None else strip_credentials(url)
    size, seconds = got.size, got.seconds
    emit(Downloaded(package=package, filename=filename, bytes=size, source=source, seconds=seconds))
    try:
        return got.sha256, unpack(target, got.sha256)
    finally:
        target.unlink(missing_ok=True)
        target.parent.rmdir()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def copy_file(source: Path, target: Path) -> None:
    with temp_beside(target) as tmp:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
