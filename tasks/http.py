"""HTTP sessions: retries with backoff, and an RFC 9111 cache for index pages.

Index pages are cached by CacheControl (the implementation pip uses) in `cache/http-v0/`;
archives go through a session without that cache, streamed to disk by `tasks.download`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_sessions: dict[tuple[str, str], Any] = {}

RETRY_STATUSES = (500, 502, 503, 504)


def _retry() -> Any:
    from urllib3.util.retry import Retry

    return Retry(
        total=5,
        connect=5,
        read=5,
        status=5,
        backoff_factor=0.25,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )


def _user_agent() -> str:
    return "wheelwright/0.1"


def index_session(cache_root: Path) -> Any:
    """A shared session whose GETs are HTTP-cached under `cache_root/http-v0`."""
    key = ("index", str(cache_root))
    with _lock:
        if key not in _sessions:
            _sessions[key] = _make_index_session(cache_root / "http-v0")
        return _sessions[key]


def _make_index_session(directory: Path) -> Any:
    import requests
    from cachecontrol import CacheControlAdapter
    from cachecontrol.caches import FileCache

    session = requests.Session()
    session.headers["User-Agent"] = _user_agent()
    adapter = CacheControlAdapter(
        cache=FileCache(str(directory)),  # headers and body in one file, replaced atomically
        max_retries=_retry(),
        pool_connections=8,
        pool_maxsize=16,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def file_session() -> Any:
    """A shared session for archives: retries, no HTTP cache (archives live in their own cache)."""
    key = ("files", "")
    with _lock:
        if key not in _sessions:
            _sessions[key] = _make_file_session()
        return _sessions[key]


def _make_file_session() -> Any:
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.headers["User-Agent"] = _user_agent()
    adapter = HTTPAdapter(max_retries=_retry(), pool_connections=8, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
