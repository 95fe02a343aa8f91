"""One run's HTTP (`Network`): its sessions, the credentials they send, offline, and the read timeout.

Index pages are cached by CacheControl (the implementation pip uses) in `cache/http-v0/`;
archives go through a session without that cache, streamed to disk by `tasks.core.download`.
Both sessions send credentials by host through `tasks.core.auth.HostAuth` (pip's rule), and parse
their CA bundle once per `Network`, not per connection (`tasks.core.tls`); the HTTP cache never
stores a credential (a response that varies on Authorization keeps only its hash).

Offline (`Network(offline=True)`, for `offline=1`), no session opens a socket: the index session
answers from its HTTP cache however old the entry is, and anything else is one `OfflineMissing`
naming the URL it would have fetched.

Nothing here is process-wide: the run layer makes one `Network` from its configuration
(`tasks.run.context.network`) and hands it to the code that fetches; its sessions are made
on first use and shared by the run's threads.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any, NoReturn

from tasks.core import layout
from tasks.core.auth import Credentials, HostAuth
from tasks.core.tls import Trust

CONNECT_TIMEOUT = 10.0  # seconds to open a connection, at most (never more than the read timeout)
DEFAULT_READ_TIMEOUT = 15.0  # seconds one read may wait for data (`timeout=` changes it)
BUDGET_FACTOR = 3  # a file is retried only while less than this many read timeouts have passed


def read_timeout_from(value: str) -> float:
    """`timeout=SECONDS` as a number; ValueError unless it is a positive, finite number."""
    seconds = float(value)
    if not 0 < seconds < float("inf"):
        raise ValueError("the timeout must be a positive number of seconds")
    return seconds


class Network:
    """What one run's requests share: its sessions, its credentials, offline or not, its read timeout.

    `index_session(cache)` and `file_session()` are made on first use and then shared by every
    thread of the run; `timeouts()` and `retry_budget()` are what every request and every download's
    bounded retry loop use, so they all agree on `timeout=`.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        offline: bool = False,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.credentials = credentials if credentials is not None else Credentials()
        self.offline = offline
        self.read_timeout = read_timeout
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str], Any] = {}
        self.trust = Trust()  # its sessions' CA bundles, each parsed once

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts for one request, as requests takes them."""
        return min(CONNECT_TIMEOUT, self.read_timeout), self.read_timeout

    def retry_budget(self) -> float:
        """Seconds after a file's first try past which no new try starts."""
        return BUDGET_FACTOR * self.read_timeout

    def index_session(self, cache_root: Path) -> Any:
        """The run's session whose GETs are HTTP-cached under `cache_root/http-v0`."""
        key = ("index", str(cache_root))
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = _make_index_session(cache_root / layout.HTTP.name, self)
            return self._sessions[key]

    def file_session(self) -> Any:
        """The run's session for archives: retries, no HTTP cache (archives live in their own cache)."""
        key = ("files", "")
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = _make_file_session(self)
            return self._sessions[key]


def refuse(url: str) -> NoReturn:
    """Offline: the one error for a request that would have gone out."""
    from tasks.core.errors import OfflineMissing
    from tasks.core.urls import strip_credentials

    raise OfflineMissing(f"offline, and not in the cache: would fetch {strip_credentials(url)}")


RETRY_STATUSES = (429, 500, 502, 503, 504)  # 429 too: retried with backoff when it has no Retry-After


def _retry(read: int = 5) -> Any:
    """urllib3's retries; `read=0` leaves read timeouts to the caller's own bounded loop."""
    from urllib3.util.retry import Retry

    return Retry(
        total=5,
        connect=5,
        read=read,
        status=5,
        backoff_factor=0.25,
        backoff_max=8,  # seconds between two tries at most
        retry_after_max=30,  # a server's Retry-After is honoured up to this many seconds
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )


USER_AGENT = "wheelwright/0.1"  # every request's (the light revalidation's too: tasks.core.conditional)


def _user_agent() -> str:
    return USER_AGENT


def _make_index_session(directory: Path, net: Network) -> Any:
    import requests
    from cachecontrol import CacheControlAdapter
    from cachecontrol.caches import FileCache

    from tasks.core.tls import shared_trust

    session = requests.Session()
    session.headers["User-Agent"] = _user_agent()
    session.auth = HostAuth(net.credentials)
    online = shared_trust(_storing_adapter(CacheControlAdapter), net.trust)
    kind = _offline_adapter() if net.offline else online
    adapter = kind(
        cache=FileCache(str(directory)),  # headers and body in one file, replaced atomically
        serializer=_secret_free_serializer(),
        max_retries=_retry(),
        pool_connections=8,
        pool_maxsize=16,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _make_file_session(net: Network) -> Any:
    import requests
    from requests.adapters import HTTPAdapter

    from tasks.core.tls import shared_trust

    session = requests.Session()
    session.headers["User-Agent"] = _user_agent()
    session.auth = HostAuth(net.credentials)
    kind = _refusing_adapter() if net.offline else shared_trust(HTTPAdapter, net.trust)
    adapter = kind(max_retries=_retry(read=0), pool_connections=8, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def storable(headers: Any) -> bool:
    """Whether CacheControl could store a response with these headers, or must see it to drop an
    entry (`no-store`): it stores only what has an ETag, an Expires or a Cache-Control max-age."""
    return any(name in headers for name in ("etag", "expires", "cache-control"))


def _storing_adapter(base: Any) -> Any:
    """CacheControl's adapter, except that a response it can never store is read straight through.

    CacheControl spools every response body to a temporary file while it is read, to store it at
    the end; an index that sends no validators and no max-age (some mirrors) paid that disk write
    for every page, to throw it away. A 304 (which refreshes a stored entry) and the permanent
    redirects it always stores still go through CacheControl.
    """
    from cachecontrol.controller import PERMANENT_REDIRECT_STATUSES
    from requests.adapters import HTTPAdapter

    class StoringAdapter(base):  # type: ignore[misc]
        def build_response(self, request: Any, response: Any, from_cache: bool = False, **kw: Any) -> Any:
            direct = not from_cache and response.status != 304 and not storable(response.headers)
            if direct and response.status not in PERMANENT_REDIRECT_STATUSES:
                built = HTTPAdapter.build_response(self, request, response)
                built.from_cache = False  # type: ignore[attr-defined]  # as CacheControl marks its own
                return built
            return super().build_response(request, response, from_cache, **kw)

    return StoringAdapter


def _offline_adapter() -> Any:
    """CacheControl's adapter that answers from its cache however stale, and never sends a request."""
    from cachecontrol import CacheControlAdapter

    class OfflineCacheAdapter(CacheControlAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            cached = self.controller._load_from_cache(request) if request.method == "GET" else None
            if cached is None:
                return refuse(request.url)
            return self.build_response(request, cached, from_cache=True)

    return OfflineCacheAdapter


def _refusing_adapter() -> Any:
    from requests.adapters import HTTPAdapter

    class RefusingAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            refuse(request.url)

    return RefusingAdapter


SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


def _hashed(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _without_secrets(request: Any) -> Any:
    """A copy of `request` whose credential headers hold their hash instead of their value."""
    copy = request.copy()
    for name in list(copy.headers):
        if name.lower() in SECRET_HEADERS:
            copy.headers[name] = _hashed(copy.headers[name])
    return copy


def _secret_free_serializer() -> Any:
    """CacheControl's serializer, except a `Vary: Authorization` entry stores a hash, not the secret."""
    from cachecontrol.serialize import Serializer

    class SecretFreeSerializer(Serializer):
        def dumps(self, request: Any, response: Any, body: bytes | None = None) -> bytes:
            return bytes(super().dumps(_without_secrets(request), response, body))

        def loads(self, request: Any, data: bytes, body_file: Any = None) -> Any:
            return super().loads(_without_secrets(request), data, body_file)

    return SecretFreeSerializer()
