"""Direct URL archives: revalidated with their stored ETag/Last-Modified, known by content sha256.

A response within its max-age, or a `#sha256=` that matches what is cached, needs no request.
A 304 keeps the cached archive; a 200 with the same sha256 keeps it too; new content is stale.
Concurrent runs on one cache make one request per URL (the per-file download lock).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core import layout
from tasks.core.files import atomic_write_text
from tasks.core.urls import url_digest

if TYPE_CHECKING:
    from tasks.core.http import Network


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
    net: Network,
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
    from tasks.core.mutexes import download_lock

    if (state := _usable(cache, url, filename, expected, since=None)) is not None:
        return state
    asked = time.time()
    with download_lock(cache, url, filename):
        if (state := _usable(cache, url, filename, expected, since=asked)) is not None:
            return state
        state = load_state(cache, url)
        known = state is not None and archive_path(cache, url, state.sha256, filename).is_file()
        headers = _conditional_headers(state) if known else {}
        return _fetch(net, url, filename, cache, headers, state, package, expected)


def known_revision(
    cache: Path,
    url: str,
    filename: str,
    expected: frozenset[str],
    not_modified: Callable[[str, dict[str, str]], bool | None],
) -> str | None:
    """The URL's revision when it is known without a download: the cached state when it needs no request
    (as `revalidate`), or when `not_modified(url, validators)` says a conditional GET answered 304.
    None when only a fetch can tell (new content, no validators, no answer): `revalidate` then.
    Nothing is written: a no-op leaves the state as it is."""
    if (state := _usable(cache, url, filename, expected, since=None)) is not None:
        return state.sha256
    state = load_state(cache, url)
    if state is None or not archive_path(cache, url, state.sha256, filename).is_file():
        return None
    headers = _conditional_headers(state)
    return state.sha256 if headers and not_modified(url, headers) is True else None


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
    net: Network,
    url: str,
    filename: str,
    cache: Path,
    headers: dict[str, str],
    state: UrlState | None,
    package: str,
    expected: frozenset[str],
) -> UrlState:
    """One conditional GET through the bounded retry loop: a 304 keeps `state`, a 200 is stored by its
    sha256. A host that cannot be reached at all is final at once (the run may fall back on the
    last confirmed build, `tasks.run.degrade`)."""
    from tasks.core.download import fetch

    got = fetch(
        net, url, url_dir(cache, url) / "incoming" / _segment(filename, url),
        package=package, expected=expected, headers=headers,
        place=lambda sha: archive_path(cache, url, sha, filename), unreachable_is_final=True,
    )  # fmt: skip
    if got.not_modified and state is not None:
        return _save(cache, url, _validated(state, got.headers), needed=False)
    return _save(cache, url, _new_state(got.sha256, got.headers))


def _max_age(headers: Mapping[str, str]) -> int:
    for part in headers.get("Cache-Control", "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "max-age" and value.isdigit():
            return int(value)
        if key in ("no-cache", "no-store"):
            return 0
    return 0


def _new_state(sha: str, headers: Mapping[str, str]) -> UrlState:
    return UrlState(sha, headers.get("ETag"), headers.get("Last-Modified"), _date(), _max_age(headers))


def _validated(state: UrlState, headers: Mapping[str, str]) -> UrlState:
    etag = headers.get("ETag") or state.etag
    modified = headers.get("Last-Modified") or state.last_modified
    return UrlState(state.sha256, etag, modified, _date(), _max_age(headers))


def _date() -> float:
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
