"""HTTP credentials per host, in memory only, sent by pip's rule: `Credentials` and its `HostAuth`.

A run makes one `Credentials` from its configuration (`from_urls`: the index and find-links URLs as
written, `user:password@` and all) and hands it to its `tasks.core.http.Network`, whose sessions send
them through `HostAuth`. A request's own `user:password@` is sent with it and kept for its host (pip
does the same); `~/.netrc` (or `$NETRC`) answers for a host nothing else knows, read at the host's
first request (not at every one: three `stat`s each, on a cold lock's seven hundred requests).
Credentials are kept per netloc (host and port) and sent to that netloc only: an index's credentials
go with its own files (absolute URLs on the same host), never to another host. Nothing here is ever
written to disk, and nothing is process-wide: two `Credentials` never see each other's.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def netloc_key(url: str) -> str:
    """host:port of `url` (lower-cased, default port filled in): what credentials are kept under."""
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        port = 0
    return f"{(parts.hostname or '').lower()}:{port}"


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without its user:password@, and the (user, password) it carried, if any."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (unquote(user), unquote(password))


class Credentials:
    """The credentials one run may send, per host (thread-safe: the run's downloads share it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[str, str]] = {}
        self._netrc: dict[tuple[str | None, str, str], tuple[str, str] | None] = {}  # (NETRC, ~, host)

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> Credentials:
        """The credentials written in `urls` (later URLs win for the same host)."""
        made = cls()
        made.add(urls)
        return made

    def add(self, urls: Iterable[str]) -> None:
        """Keep the credentials written in `urls` too (later URLs win for the same host)."""
        for url in urls:
            self.learn(url)

    def learn(self, url: str) -> str:
        """Keep the credentials in `url` for its host; returns the URL without them."""
        clean, credentials = split_credentials(url)
        if credentials is not None and urlsplit(clean).hostname:
            with self._lock:
                self._known[netloc_key(clean)] = credentials
        return clean

    def learned_for_host(self, url: str) -> bool:
        """Whether credentials were learned for `url`'s host (from a URL or an index; `.netrc` not read)."""
        with self._lock:
            return netloc_key(split_credentials(url)[0]) in self._known

    def for_url(self, url: str) -> tuple[str, str] | None:
        """What to send with a request for `url`: its own, its host's, or `.netrc`'s; else None."""
        clean, own = split_credentials(url)
        if own is not None:
            self.learn(url)
            return own
        with self._lock:
            known = self._known.get(netloc_key(clean))
        if known is not None:
            return known
        return self._from_netrc(clean)

    def _from_netrc(self, url: str) -> tuple[str, str] | None:
        """`.netrc`'s credentials for the URL's host, looked up once per host (and netrc location)."""
        import os

        key = (os.environ.get("NETRC"), os.path.expanduser("~"), urlsplit(url).hostname or "")
        with self._lock:
            if key in self._netrc:
                return self._netrc[key]
        from requests.utils import get_netrc_auth

        found = get_netrc_auth(url)
        credentials = (found[0], found[1]) if found else None
        with self._lock:
            self._netrc[key] = credentials
        return credentials


def basic_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class HostAuth:
    """A requests auth handler: the credentials of the request's own host, and its URL kept clean.

    Set as `session.auth`; requests then neither reads `.netrc` nor a URL's credentials by
    itself, so both are done here. On a redirect to another host requests drops the header.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def __call__(self, request: Any) -> Any:
        credentials = self.credentials.for_url(request.url)
        request.url = split_credentials(request.url)[0]
        if credentials is not None and "Authorization" not in request.headers:
            request.headers["Authorization"] = basic_header(*credentials)
        return request
