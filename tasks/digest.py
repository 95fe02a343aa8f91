"""Canonical URLs and the short digests that name cache buckets (credentials never reach a path)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit


def strip_credentials(url: str) -> str:
    """The URL without user:password@, for logs, errors and cache keys."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def canonical_url(url: str, *, git: bool = False) -> str:
    """Scheme and host lower-cased, credentials and fragment removed; for git also `/` and `.git`."""
    parts = urlsplit(strip_credentials(url))
    path = parts.path
    if git:
        path = path.rstrip("/")
        path = path.removesuffix(".git")
    scheme = parts.scheme.lower()
    if git:
        scheme = scheme.removeprefix("git+")
    return urlunsplit((scheme, parts.netloc.lower(), path, parts.query, ""))


def digest(text: str) -> str:
    """First 16 hex characters of sha256: the bucket name of an index, URL, repository or path."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def url_digest(url: str, *, git: bool = False) -> str:
    return digest(canonical_url(url, git=git))
