"""Reading CacheControl's stored responses (its file cache under `http-v0`, written by `core/http.py`).

The format is CacheControl's own: `cc=4,` then a msgpack map whose `response.headers` are the
stored headers. Only a prune reads it, to find responses that can never be used again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredResponse:
    """What decides whether a stored response can still be used: a validator, and its expiry."""

    validator: bool  # an ETag or Last-Modified: it can be revalidated, whatever its age
    expires: float | None  # from Date + max-age, or Expires; None when it says neither


def stored_response(path: Path) -> StoredResponse | None:
    """The stored response at `path`; None when it is not a readable CacheControl entry."""
    headers = stored_headers(path)
    if headers is None:
        return None
    return StoredResponse("etag" in headers or "last-modified" in headers, expiry(headers))


def stored_headers(path: Path) -> dict[str, str] | None:
    """The response headers of a CacheControl file-cache entry (`cc=4,` + msgpack), lower-cased."""
    import msgpack  # type: ignore[import-untyped]  # CacheControl's serializer: only when a prune reads it

    try:
        data = path.read_bytes()
        if not data.startswith(b"cc=4,"):
            return None
        cached = msgpack.loads(data[5:], raw=False)
        headers = cached["response"]["headers"]
        return {str(k).lower(): str(v) for k, v in headers.items()}
    except (OSError, ValueError, KeyError, TypeError, msgpack.UnpackException):
        return None


def expiry(headers: dict[str, str]) -> float | None:
    """When a response expires: Date + max-age, else Expires; None when it says neither."""
    from email.utils import parsedate_to_datetime

    try:
        date = parsedate_to_datetime(headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None
    for directive in headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return date + int(value)
    try:
        return parsedate_to_datetime(headers["expires"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None
