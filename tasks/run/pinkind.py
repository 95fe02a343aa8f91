"""The one answer to "is this pin a wheel or built from source?", and the record it rests on for index pins.

| pin | its kind | known |
|---|---|---|
| direct wheel (URL or path ending `.whl`) | "wheel" | from the lock |
| direct URL archive, git ref, local project | "sdist" (built from source) | from the lock |
| index pin | the kind of the file its first fetch chose | from the record, None until then |

A lock's `--hash` lines cannot tell a wheel from an sdist, and asking the index page would cost a
request on every run. So `fetch:<pkg>` records the file it chose, once, in
`cache/chosen-v0/<digest(choice key)>.json`; the outline reads it (and watches it, under the same
key) to give an sdist pin its `build_meta`/`build_wheel` tasks, and those tasks rebuild the tree
from it without the index. Every reader and writer is handed the pin and asks it for its one
`choice_key`: a new key (another version, other hashes, another index or interpreter) is a new record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from tasks.core import layout
from tasks.core.files import atomic_write_text
from tasks.core.urls import digest, scrub, scrub_text
from tasks.index.pages import DistFile

if TYPE_CHECKING:
    from tasks.inputs.sources import Source

Kind = Literal["wheel", "sdist"]  # "sdist": anything built from source (an sdist, URL archive, git, path)


class Pin(Protocol):
    """A pin as the run knows it: a `PinJob` from the lock, or a `PinOutline` from the memo."""

    @property
    def choice_key(self) -> str:
        """What an index pin's record is kept under; "" for a direct reference (it has no record)."""
        ...

    @property
    def known_kind(self) -> Kind | None:
        """The kind known without the record: a direct reference's, or the outline's as planned."""
        ...


def kind_of(cache: Path, pin: Pin) -> Kind | None:
    """The pin's kind, "wheel" or "sdist"; None for an index pin that was never fetched."""
    if pin.known_kind is not None:
        return pin.known_kind
    file = recall(cache, pin)
    return None if file is None else file_kind(file)


def source_kind(source: Source) -> Kind | None:
    """What a pin's own source says: a direct reference is a wheel by its filename, else built from
    source; an index pin's kind is known only from the file its fetch chose (None here)."""
    if not source.direct:
        return None
    return "wheel" if source.wheel_name is not None else "sdist"


def file_kind(file: DistFile) -> Kind:
    return "wheel" if file.is_wheel else "sdist"


def record_path(cache: Path, pin: Pin) -> Path:
    """Where the choice of an index pin is kept (its key without credentials, digested)."""
    return cache / layout.CHOSEN.name / f"{digest(scrub_text(pin.choice_key))}.json"


def remember(cache: Path, pin: Pin, file: DistFile) -> None:
    """Record the chosen file; the record is rewritten only when it changes (the outline watches it)."""
    path = record_path(cache, pin)
    text = json.dumps({"file": scrub(asdict(file))}, sort_keys=True)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write_text(path, text)


def recall(cache: Path, pin: Pin) -> DistFile | None:
    """The file an index pin resolved to, or None when it was never fetched (or the record is unreadable)."""
    if not pin.choice_key:
        return None
    try:
        data = json.loads(record_path(cache, pin).read_text(encoding="utf-8"))["file"]
        return DistFile(**{**data, "hashes": tuple(tuple(pair) for pair in data["hashes"])})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def recorded_sha256(cache: Path, pin: Pin, kind: Kind) -> str | None:
    """The sha256 of the file an index pin's fetch chose, when that file is of `kind`."""
    file = recall(cache, pin)
    return file.sha256 if file is not None and file_kind(file) == kind else None
