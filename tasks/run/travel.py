"""Locks that travel: a path the input wrote relative is written relative to the lock's directory.

A lock committed with its project then syncs from any checkout against that checkout's tree
(reading a lock resolves its relative paths from the lock's directory, as pip does). A path the
input wrote absolute stays absolute: nothing here invents one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from tasks.inputs.requirements import IndexOptions, RequirementsFile


def shown_from(path: Path, base: Path) -> str:
    """`path` relative to `base`, as a lock writes it (`.`, `./sub`, `../lib`)."""
    shown = Path(os.path.relpath(path, base)).as_posix()
    return shown if shown.startswith(".") else f"./{shown}"


def relative_paths(reqs: RequirementsFile, base: Path) -> dict[str, str]:
    """A path the input wrote relative stays relative in the lock: file URL → path from the lock's
    directory (`.`, `./sub`, `../lib`), as uv writes `-e .`; an absolute one stays as it was."""
    from tasks.inputs.sources import PathSource

    found: dict[str, str] = {}
    for line in reqs.requirements:
        source = line.source
        if isinstance(source, PathSource) and source.relative:
            found[source.path.as_uri()] = shown_from(source.path, base)
    return found


def relative_find_links(index: IndexOptions, files: Iterable[Path], base: Path) -> IndexOptions:
    """`-f DIR` / `--find-links DIR` written relative in an input file stays relative in the lock."""
    written = {}
    for path in files:
        for folder in _relative_links(path):
            written[str((path.parent / folder).resolve())] = shown_from(path.parent / folder, base)
    links = tuple(written.get(link, link) for link in index.find_links)
    return replace(index, find_links=links) if links != index.find_links else index


def _relative_links(path: Path) -> list[str]:
    from tasks.inputs.requirements import logical_lines

    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    found = []
    for _, line in logical_lines(text):
        for option in ("--find-links=", "--find-links ", "-f "):
            if line.startswith(option):
                value = line[len(option) :].strip()
                if value and "://" not in value and not os.path.isabs(os.path.expanduser(value)):
                    found.append(value)
    return found
