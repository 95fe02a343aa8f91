"""HTTP credentials per host, in memory only, sent by pip's rule.

Credentials come from a URL's own `user:password@`, from the configured index URLs (learned
when `tasks.inputs.config.effective_indexes` reads them), or from `~/.netrc` (or `$NETRC`), at request
time. They are kept per netloc (host and port) and sent to that netloc only: an index's
credentials go with its own files (absolute URLs on the same host), never to another host.
Nothing here is ever written to disk.
"""

from __future__ import annotations

import base64
import threading
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

_lock = threading.Lock()
_known: dict[str, tuple[str, str]] = {}
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


def remember(url: str) -> str:
    """Learn the credentials in `url` for its host; returns the URL without them."""
    clean, credentials = split_credentials(url)
    if credentials is not None and urlsplit(clean).hostname:
        with _lock:
            _known[netloc_key(clean)] = credentials
    return clean


def forget_all() -> None:
    """Drop every learned credential (tests)."""
    with _lock:
        _known.clear()


def credentials_for(url: str) -> tuple[str, str] | None:
    """What to send with a request for `url`: its own, its host's, or `.netrc`'s; else None."""
    clean, own = split_credentials(url)
    if own is not None:
        remember(url)
        return own
    with _lock:
        known = _known.get(netloc_key(clean))
    if known is not None:
        return known
    return _from_netrc(clean)


def learned_for_host(url: str) -> bool:
    """Whether credentials were learned for `url`'s host (from a URL or an index; `.netrc` not read)."""
    with _lock:
        return netloc_key(split_credentials(url)[0]) in _known


def _from_netrc(url: str) -> tuple[str, str] | None:
    from requests.utils import get_netrc_auth

    found = get_netrc_auth(url)
    return (found[0], found[1]) if found else None


def basic_header(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class HostAuth:
    """A requests auth handler: the credentials of the request's own host, and its URL kept clean.

    Set as `session.auth`; requests then neither reads `.netrc` nor a URL's credentials by
    itself, so both are done here. On a redirect to another host requests drops the header.
    """

    def __call__(self, request: Any) -> Any:
        credentials = credentials_for(request.url)
        request.url = split_credentials(request.url)[0]
        if credentials is not None and "Authorization" not in request.headers:
            request.headers["Authorization"] = basic_header(*credentials)
        return request
