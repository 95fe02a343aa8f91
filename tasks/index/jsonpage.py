"""A PEP 691 page's files without holding the page decoded: each entry's offset in the page's text.

A project page lists every file ever released (5,000 for some projects, 2 MB of JSON); a
resolution looks at a few versions of it. Decoded whole, the pages of 200 projects are over a
million Python objects (120 MB) held until the resolution ends, and the garbage collector walks
them again and again. Instead, the page is read once entry by entry with `json`'s own scanner,
every value checked to be valid JSON (as `json.loads` of the whole page would), and only each
entry's filename and offset are kept: an entry is decoded again from the text when its version
is looked at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# the C scanner json.loads uses: the value at an offset, and where it ends
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_space = re.compile(r"[ \t\n\r]*")


def filename_offsets(text: str) -> list[tuple[Any, int]]:
    """The `filename` of each entry of the page's top-level `files` array, with the entry's offset.
    ValueError, KeyError or TypeError when `json.loads(text)["files"]` would fail or give something
    other than a list, or an entry is not an object with a `filename`."""
    try:
        return _files(text)
    except StopIteration as stop:  # what the scanner raises where no JSON value starts
        raise ValueError(f"no JSON value at offset {stop.value}") from None
    except IndexError:
        raise ValueError("the page ends early") from None


def entry_at(text: str, start: int) -> Any:
    """The entry that starts at `start` (an offset `filename_offsets` gave for this text)."""
    try:
        return _scan(text, start)[0]
    except StopIteration:
        raise ValueError(f"no JSON value at offset {start}") from None


def _files(text: str) -> list[tuple[Any, int]]:
    pos = _skip(text, 0)
    if text[pos] != "{":
        raise TypeError("the page is not a JSON object")
    found: list[tuple[Any, int]] | None = None
    pos = _skip(text, pos + 1)
    if text[pos] == "}":
        raise KeyError("files")
    while True:
        if text[pos] != '"':
            raise ValueError(f"a key expected at offset {pos}")
        key, pos = _scan(text, pos)
        pos = _expect(text, pos, ":")
        if key == "files":  # as json.loads, the last of duplicate keys wins
            found, pos = _array(text, pos)
        else:
            pos = _scan(text, pos)[1]
        pos = _skip(text, pos)
        closing = text[pos]
        pos = _skip(text, pos + 1)
        if closing == "}":
            break
        if closing != ",":
            raise ValueError(f"',' or '}}' expected at offset {pos}")
    if pos != len(text):
        raise ValueError(f"extra data at offset {pos}")
    if found is None:
        raise KeyError("files")
    return found


def _array(text: str, pos: int) -> tuple[list[tuple[Any, int]], int]:
    """The entries' filenames in the array at `pos`, with their offsets; and where the array ends."""
    if text[pos] != "[":
        raise TypeError("files is not a list")
    entries: list[tuple[Any, int]] = []
    pos = _skip(text, pos + 1)
    if text[pos] == "]":
        return entries, pos + 1
    while True:
        entry, end = _scan(text, pos)
        if type(entry) is not dict:
            raise TypeError(f"a file entry is not an object (offset {pos})")
        entries.append((entry["filename"], pos))  # the entry itself is dropped: few are looked at
        pos = _skip(text, end)
        separator = text[pos]
        pos = _skip(text, pos + 1)
        if separator == "]":
            return entries, pos
        if separator != ",":
            raise ValueError(f"',' or ']' expected at offset {pos}")


def _expect(text: str, pos: int, char: str) -> int:
    pos = _skip(text, pos)
    if text[pos] != char:
        raise ValueError(f"{char!r} expected at offset {pos}")
    return _skip(text, pos + 1)


def _skip(text: str, pos: int) -> int:
    return _space.match(text, pos).end()  # type: ignore[union-attr]  # `[ ...]*` always matches
