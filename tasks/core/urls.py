"""Canonical URLs and the short digests that name cache buckets (credentials never reach a path).

Also the one place that removes credentials from what is kept: `strip_credentials` for one URL,
`scrub_text` for any text that may hold URLs (keys, errors), `scrub` for JSON-like values, and
`redact_url` for files the user keeps (a lock), where a `${VAR}` reference may stay as written.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s\"'<>]*@")
_ENV_REF = re.compile(r"\$\{[A-Za-z0-9_]+\}")


def strip_credentials(url: str) -> str:
    """The URL without user:password@, for logs, errors and cache keys."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def scrub_text(text: str) -> str:
    """`text` with the user:password@ of every URL in it removed (keys, memos, error lines)."""
    return _USERINFO.sub(r"\g<scheme>", text) if "@" in text else text


def scrub(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with credentials removed from every string in it."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v) for v in value)
    return value


def redact_url(url: str) -> str:
    """For a file the user keeps: credentials removed, unless the secret is a `${VAR}` reference."""
    userinfo, at, _ = urlsplit(url).netloc.rpartition("@")
    if not at:
        return url
    user, colon, password = userinfo.partition(":")
    if _ENV_REF.fullmatch(password if colon else user):
        return url
    return strip_credentials(url)


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
