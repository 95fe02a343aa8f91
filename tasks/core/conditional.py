"""A conditional GET through `http.client`: whether a URL is unchanged, asked without requests.

The remote check of a no-op (tasks/run/noop.py) revalidates each URL archive with the validators
its last fetch stored. That question needs neither requests nor urllib3 (about 0.1 s of imports),
as long as nothing in the user's setup is something only the requests session honours:

| the user's setup | requests session (tasks/core/http.py) | here |
|---|---|---|
| `http_proxy`, `https_proxy`, `all_proxy` | through the proxy | not asked (None): the session asks |
| `~/.netrc`, `$NETRC`, a URL's `user:pass@` | credentials sent | not asked (None) |
| `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE` | that bundle verifies TLS | that bundle verifies TLS |
| neither | certifi's bundle | certifi's bundle, host name checked |
| `truststore=1` | the system's store | never called (tasks/run/noop.py declines) |

The answer is True for a 304 (unchanged), False for a 200 (changed, or the server ignores the
validators), and None for anything else: a redirect, another status, a timeout, a refused connection
or a TLS failure. None and False both send the run down the full path, which asks again with retries
and its degraded mode; so this client needs no retries, no redirects and no body.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tasks.core.http import USER_AGENT

if TYPE_CHECKING:
    import http.client
    import ssl

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # requests' order
NETRC_FILES = ("~/.netrc", "~/_netrc")  # requests' (when $NETRC is not set)
TIMEOUT = 10.0  # seconds to connect, and for each read (the session's connect timeout)


def usable(url: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this client may ask about `url`: plain http(s), no credentials, no proxy."""
    environ = os.environ if environ is None else environ
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
        return False
    if any(environ.get(name) or environ.get(name.upper()) for name in PROXY_VARIABLES):
        return False
    return not _netrc_present(environ)


def _netrc_present(environ: Mapping[str, str]) -> bool:
    given = environ.get("NETRC")
    places = (given,) if given is not None else NETRC_FILES
    return any(os.path.exists(os.path.expanduser(place)) for place in places)


def not_modified(url: str, validators: Mapping[str, str], timeout: float = TIMEOUT) -> bool | None:
    """True when `url` answers 304 to `validators` (If-None-Match, If-Modified-Since), False for a 200,
    None when this client cannot tell (see the module's table)."""
    import http.client

    if not validators or not usable(url):
        return None
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",  # as the session asks: a server's ETag may depend on it
        **validators,
    }
    try:
        connection = _connection(parts.scheme, parts.netloc, timeout)
        try:
            connection.request("GET", path, headers=headers)
            status = connection.getresponse().status
        finally:
            connection.close()  # a 200's body is not read: the full path fetches it
    except (OSError, http.client.HTTPException, ValueError):
        return None
    return True if status == 304 else False if status == 200 else None


def _connection(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
    import http.client

    if scheme == "http":
        return http.client.HTTPConnection(netloc, timeout=timeout)
    return http.client.HTTPSConnection(netloc, timeout=timeout, context=_tls_context())


def _tls_context() -> ssl.SSLContext:
    """Verification as the session's: the bundle requests would take from the environment, else certifi's."""
    import ssl

    bundle = next((os.environ[name] for name in CA_BUNDLE_VARIABLES if os.environ.get(name)), None)
    if bundle is None:
        import certifi

        bundle = certifi.where()
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)
