"""Core metadata (METADATA / PKG-INFO) as the JSON dict the metadata caches store, and back."""

from __future__ import annotations

from email.parser import HeaderParser
from typing import Any

# Multiple-use fields, stored as lists; the rest are stored as single strings.
_LISTS = {"requires-dist", "provides-extra", "classifier", "project-url", "dynamic"}
_KEEP = {"metadata-version", "name", "version", "requires-python", "summary", *_LISTS}


def parse_core_metadata(text: str) -> dict[str, Any]:
    """The fields resolution and sync need, from a METADATA or PKG-INFO text."""
    message = HeaderParser().parsestr(text)
    data: dict[str, Any] = {}
    for key, value in message.items():
        field = key.lower()
        if field not in _KEEP:
            continue
        if field in _LISTS:
            data.setdefault(field, []).append(str(value).strip())
        else:
            data.setdefault(field, str(value).strip())
    data.setdefault("requires-dist", [])
    data.setdefault("provides-extra", [])
    return data
