"""A conditional GET on a socket: whether a URL is unchanged, asked without requests or http.client.

The remote check of a no-op (tasks/run/early_noop.py) revalidates each URL archive with the validators
its last fetch stored. That question needs one request and the status line of the answer: not
requests and urllib3 (about 0.1 s of imports), and not http.client either, whose import of the
email package costs more instructions than everything else such a check does. It is asked here only
when nothing in the user's setup is something only the requests session honours:

| the user's setup | requests session (tasks/core/http.py) | here |
|---|---|---|
| `http_proxy`, `https_proxy`, `all_proxy` | through the proxy | not asked (None): the session asks |
| `~/.netrc`, `$NETRC`, a URL's `user:pass@` | credentials sent | not asked (None) |
| a URL or validator that needs quoting | quoted | not asked (None) |
| `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE` | that bundle verifies TLS | that bundle verifies TLS |
| neither | certifi's bundle | certifi's bundle, host name checked |
| `truststore=1` | the system's store | never called (tasks/run/early_noop.py declines) |

The answer is True for a 304 (unchanged), False for a 200 (changed, or the server ignores the
validators), and None for anything else: a redirect, another status, a timeout, a refused connection
or a TLS failure. None and False both send the run down the full path, which asks again with retries
and its degraded mode; so this client needs no retries, no redirects and no body.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from tasks.core.http import USER_AGENT

if TYPE_CHECKING:
    import socket
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
    if not validators or not usable(url):
        return None
    parts = urlsplit(url)
    request = _request(parts, validators)
    if request is None:
        return None
    try:
        status = _status(parts, request, timeout)
    except (OSError, ValueError):  # refused, timed out, TLS refused (ssl.SSLError is an OSError), bad port
        return None
    return True if status == 304 else False if status == 200 else None


def _request(parts: SplitResult, validators: Mapping[str, str]) -> bytes | None:
    """The GET as it goes on the wire; None when the URL or a validator would need quoting or checking
    that only the session does (anything but printable ASCII)."""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Host": parts.netloc,
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "gzip, deflate",  # as the session asks: a server's ETag may depend on it
        **validators,
        "Connection": "close",
    }
    texts = [target, *headers, *headers.values()]
    if not all(text.isascii() and text.isprintable() for text in texts) or " " in target:
        return None
    lines = [f"GET {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _status(parts: SplitResult, request: bytes, timeout: float) -> int | None:
    """Send `request`, read the status line, hang up (a 200's body is not read: the full path fetches it)."""
    import socket

    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = host.encode("ascii") if host.isascii() else host  # bytes: no idna codec to import
    with socket.create_connection((address, port), timeout=timeout) as plain:  # type: ignore[arg-type]
        if parts.scheme != "https":
            plain.sendall(request)
            return _status_code(plain)
        with _tls_context().wrap_socket(plain, server_hostname=host) as tls:
            tls.sendall(request)
            return _status_code(tls)


def _status_code(connection: socket.socket) -> int | None:
    """The code of the response's status line (`HTTP/1.1 304 Not Modified`); None for anything else."""
    head = b""
    while b"\r\n" not in head and len(head) < 8192:
        chunk = connection.recv(4096)
        if not chunk:
            break
        head += chunk
    version, _, rest = head.partition(b"\r\n")[0].partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or not code.isdigit() or rest[3:4] not in (b"", b" "):
        return None
    return int(code)


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
