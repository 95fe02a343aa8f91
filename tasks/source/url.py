"""Direct URL archives: revalidated with their stored ETag/Last-Modified, known by content sha256.

A response within its max-age, or a `#sha256=` that matches what is cached, needs no request.
A 304 keeps the cached archive; a 200 with the same sha256 keeps it too; new content is stale.
Concurrent runs on one cache make one request per URL (the per-file download lock).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.core import layout
from tasks.core.download import CHUNK, request_timeout
from tasks.core.errors import HashMismatch, NetworkError, SourceUnreachable
from tasks.core.files import atomic_write_text, temp_beside
from tasks.core.urls import strip_credentials, url_digest


@dataclass(frozen=True)
class UrlState:
    """What the last fetch of a URL learned: validators and the content's sha256."""

    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    fetched: float = 0.0
    max_age: int = 0

    def fresh_without_request(self, now: float) -> bool:
        return self.max_age > 0 and now < self.fetched + self.max_age


def url_dir(cache: Path, url: str) -> Path:
    return cache / layout.URL_ARCHIVES.name / url_digest(url)


def load_state(cache: Path, url: str) -> UrlState | None:
    try:
        data = json.loads((url_dir(cache, url) / layout.URL_STATE).read_text())
        return UrlState(**data)
    except (OSError, ValueError, TypeError):
        return None


def archive_path(cache: Path, url: str, sha256: str, filename: str) -> Path:
    return url_dir(cache, url) / sha256 / _segment(filename, url)


def _segment(filename: str, url: str) -> str:
    """The archive's file name, once more checked to be one path component (the URL is untrusted)."""
    from tasks.core.safenames import safe_segment

    return safe_segment(filename, what="file name in the URL", source=url)


def revalidate(
    session: Any,
    url: str,
    filename: str,
    cache: Path,
    *,
    package: str,
    expected: frozenset[str] = frozenset(),
) -> UrlState:
    """The URL's current state, downloading only when upstream has new content.

    The request is made under the URL's download lock (as a wheel's): a run that waited for
    another one's request to the same URL takes what that one found, with no request of its own.
    """
    from tasks.core.locks import download_lock

    if (state := _usable(cache, url, filename, expected, since=None)) is not None:
        return state
    asked = time.time()
    with download_lock(cache, url, filename):
        if (state := _usable(cache, url, filename, expected, since=asked)) is not None:
            return state
        state = load_state(cache, url)
        known = state is not None and archive_path(cache, url, state.sha256, filename).is_file()
        headers = _conditional_headers(state) if known else {}
        return _fetch(session, url, filename, cache, headers, state, package, expected)


def _usable(
    cache: Path, url: str, filename: str, expected: frozenset[str], since: float | None
) -> UrlState | None:
    """The cached state when it needs no request: its hash is pinned, it is within its max-age,
    or (`since`) another process revalidated it after this one asked."""
    state = load_state(cache, url)
    if state is None or not archive_path(cache, url, state.sha256, filename).is_file():
        return None
    recent = since is not None and state.fetched >= since
    return state if state.sha256 in expected or state.fresh_without_request(time.time()) or recent else None


def _conditional_headers(state: UrlState | None) -> dict[str, str]:
    headers = {}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def _fetch(
    session: Any,
    url: str,
    filename: str,
    cache: Path,
    headers: dict[str, str],
    state: UrlState | None,
    package: str,
    expected: frozenset[str],
) -> UrlState:
    import hashlib

    import requests

    shown = strip_credentials(url)
    try:
        with session.get(url, headers=headers, stream=True, timeout=request_timeout()) as response:
            if response.status_code == 304 and state is not None:
                return _save(cache, url, _validated(state, response), needed=False)
            if response.status_code in (502, 503, 504):  # a gateway in front of a host that is down
                raise SourceUnreachable(f"HTTP {response.status_code}", package=package, source=shown)
            if response.status_code != 200:
                raise NetworkError(f"HTTP {response.status_code}", package=package, source=shown)
            scratch = url_dir(cache, url) / "incoming" / _segment(filename, url)
            with temp_beside(scratch) as tmp:
                digest = hashlib.sha256()
                with tmp.open("wb") as out:
                    for chunk in response.iter_content(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                sha = digest.hexdigest()
                if expected and sha not in expected:
                    raise HashMismatch(package=package, source=shown, expected=sorted(expected), got=sha)
                target = archive_path(cache, url, sha, filename)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp.replace(target)
            return _save(cache, url, _new_state(sha, response))
    except requests.RequestException as exc:
        error = SourceUnreachable if _unreachable(exc) else NetworkError
        raise error(f"cannot fetch: {type(exc).__name__}", package=package, source=shown) from None


def _unreachable(exc: Exception) -> bool:
    """The host did not answer: refused, no such host, timed out (a TLS failure is an answer)."""
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def _max_age(response: Any) -> int:
    for part in response.headers.get("Cache-Control", "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "max-age" and value.isdigit():
            return int(value)
        if key in ("no-cache", "no-store"):
            return 0
    return 0


def _new_state(sha: str, response: Any) -> UrlState:
    return UrlState(
        sha,
        response.headers.get("ETag"),
        response.headers.get("Last-Modified"),
        _date(response),
        _max_age(response),
    )


def _validated(state: UrlState, response: Any) -> UrlState:
    etag = response.headers.get("ETag") or state.etag
    modified = response.headers.get("Last-Modified") or state.last_modified
    return UrlState(state.sha256, etag, modified, _date(response), _max_age(response))


def _date(response: Any) -> float:
    """When the response was received (the local clock: max-age is counted from here)."""
    return time.time()


def _save(cache: Path, url: str, state: UrlState, needed: bool = True) -> UrlState:
    """Store what the fetch learned; a 304's new validators may be dropped (a read-only cache)."""
    try:
        atomic_write_text(url_dir(cache, url) / layout.URL_STATE, json.dumps(state.__dict__))
    except OSError:
        if needed:
            raise
    return state
