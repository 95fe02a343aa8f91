"""Which file each index pin resolved to (a wheel or an sdist), remembered in the cache by the pin's key.

A lock's `--hash` lines cannot tell a wheel from an sdist, and asking the index page would cost a
request on every run. So `fetch:<pkg>` records the file it chose, once, in
`cache/chosen-v0/<digest(pin key)>.json`; the outline reads it to give an sdist pin its
`build_meta`/`build_wheel` tasks, and those tasks rebuild the tree from it without the index.
A new key (another version, other hashes, another index or interpreter) is a new record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from tasks.core import layout
from tasks.core.files import atomic_write_text
from tasks.core.urls import digest, scrub, scrub_text
from tasks.index.pages import DistFile

Kind = Literal["wheel", "sdist"]


def chosen_path(cache: Path, key: str) -> Path:
    """Where the choice of the pin with `key` is kept (the key without credentials, digested)."""
    return cache / layout.CHOSEN.name / f"{digest(scrub_text(key))}.json"


def remember(cache: Path, key: str, file: DistFile) -> None:
    """Record the chosen file; the record is rewritten only when it changes (the outline watches it)."""
    path = chosen_path(cache, key)
    text = json.dumps({"file": scrub(asdict(file))}, sort_keys=True)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write_text(path, text)


def recall(cache: Path, key: str) -> DistFile | None:
    """The file the pin resolved to, or None when it was never fetched (or the record is unreadable)."""
    try:
        data = json.loads(chosen_path(cache, key).read_text(encoding="utf-8"))["file"]
        return DistFile(**{**data, "hashes": tuple(tuple(pair) for pair in data["hashes"])})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def kind_of(cache: Path, key: str) -> Kind | None:
    """The kind of file the pin resolved to, "wheel" or "sdist"; None until its first fetch."""
    file = recall(cache, key)
    if file is None:
        return None
    return "wheel" if file.is_wheel else "sdist"
