"""Streamed downloads, sha256-checked, retried within a bounded budget, written atomically into the cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tasks.core.errors import HashMismatch, NetworkError
from tasks.core.events import Event, emit
from tasks.core.files import temp_beside
from tasks.core.urls import strip_credentials

ATTEMPTS = 5
CHUNK = 1 << 16
CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 15.0  # seconds one read may wait for data (`timeout=` changes it)
PROGRESS_HZ = 4  # `progress` events per download per second, at most
BUDGET_FACTOR = 3  # a file is retried only while less than this many read timeouts have passed

_read_timeout = DEFAULT_READ_TIMEOUT


def set_read_timeout(seconds: float) -> None:
    """The run's read timeout (from `timeout=SECONDS`); also bounds one file's retry budget."""
    global _read_timeout
    if not 0 < seconds < float("inf"):
        raise ValueError("the timeout must be a positive number of seconds")
    _read_timeout = float(seconds)


def request_timeout() -> tuple[float, float]:
    """(connect, read) timeouts for one request, as requests takes them."""
    return min(CONNECT_TIMEOUT, _read_timeout), _read_timeout


def retry_budget() -> float:
    """Seconds after a file's first try past which no new try starts."""
    return BUDGET_FACTOR * _read_timeout


def download(
    session: Any,
    url: str,
    target: Path,
    *,
    package: str,
    expected_sha256: Collection[str] = (),
) -> str:
    """Fetch `url` into `target`; returns the sha256. Nothing is left behind on failure."""
    with temp_beside(target) as tmp:
        got = _fetch_with_retries(session, url, tmp, package)
        if expected_sha256 and got not in expected_sha256:
            raise HashMismatch(
                package=package,
                source=strip_credentials(url),
                expected=sorted(expected_sha256),
                got=got,
            )
        os.replace(tmp, target)
    return got


def _fetch_with_retries(session: Any, url: str, tmp: Path, package: str) -> str:
    if url.startswith("file:"):
        return _copy_local(Path(unquote(urlsplit(url).path)), tmp)
    import requests

    started = time.monotonic()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _fetch_once(session, url, tmp, package)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            pause = 0.2 * 2 ** (attempt - 1)
            spent = time.monotonic() - started
            if attempt == ATTEMPTS or spent + pause > retry_budget():
                raise NetworkError(
                    f"download failed after {attempt} attempts in {spent:.0f}s: {_why(exc)}",
                    package=package,
                    source=strip_credentials(url),
                ) from None
            time.sleep(pause)
        except _HttpStatus as exc:
            raise NetworkError(
                f"download answered HTTP {exc.status}",
                package=package,
                source=strip_credentials(url),
            ) from None
    raise AssertionError("unreachable")


class _HttpStatus(Exception):
    def __init__(self, status: int):
        self.status = status


def _why(exc: Exception) -> str:
    """A failed try in words: a stall says how long it waited."""
    import requests

    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return f"no data for {_read_timeout:g}s (read timeout; `timeout=SECONDS` changes it)"
    return type(exc).__name__


def _fetch_once(session: Any, url: str, tmp: Path, package: str) -> str:
    digest = hashlib.sha256()
    with session.get(url, stream=True, timeout=request_timeout()) as response:
        if response.status_code != 200:
            raise _HttpStatus(response.status_code)
        length = response.headers.get("Content-Length", "")
        progress = _Progress(package, url, int(length) if length.isdigit() else None)
        with tmp.open("wb") as out:
            for chunk in response.iter_content(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                progress.advance(len(chunk))
    return digest.hexdigest()


class _Progress:
    """`progress` events for one download, at most PROGRESS_HZ a second (the first after 1/PROGRESS_HZ s)."""

    def __init__(self, package: str, url: str, total: int | None) -> None:
        self.package, self.total, self.done = package, total, 0
        self.filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        self.next_at = time.monotonic() + 1 / PROGRESS_HZ

    def advance(self, size: int) -> None:
        self.done += size
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + 1 / PROGRESS_HZ
        emit(
            Event("progress", package=self.package, filename=self.filename, bytes=self.done, total=self.total)
        )


def _copy_local(source: Path, tmp: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as src, tmp.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


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
