"""`offline=1` (or PIP_NO_INDEX=1 without find-links): the run works from the cache alone.

A warm cache syncs: doit's state says which fetches and builds are done, their revision checks
are skipped (and said so), and an index pin whose `--hash` is unpacked in the cache needs no
index page. Anything else would need the network: one error naming what would have been fetched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from tasks.core.errors import OfflineMissing
from tasks.core.eventkinds import SkippedOffline
from tasks.core.events import emit
from tasks.run.model import PinJob

if TYPE_CHECKING:
    from tasks.wheels.registry import Fetched

# The run's memory of the skipped checks it has said, so each is said once though three tasks' checks
# ask (fetch, build_meta, build_wheel, in doit's threads of this one process); only `skipped_check`
# touches it.
_said: set[str] = set()


def skipped_check(package: str, source: str) -> None:
    """Say that the revision check of `package` was skipped (it would have asked `source`)."""
    if package in _said:
        return
    _said.add(package)
    emit(SkippedOffline(f"the revision check of {package} ({source})", package=package, source=source))


def fetch_offline(pin: PinJob, cache: Path) -> Fetched:
    """A pin's wheel from the cache without any request, or one error naming what would be fetched."""
    from tasks.wheels.registry import Fetched
    from tasks.wheels.unpacked import MARKER, unpacked_path

    source = pin.line.source
    if not source.direct or source.wheel_ref is not None:
        for sha in sorted(pin.line.sha256s() or _recorded_sha256(pin, cache)):
            entry = unpacked_path(cache, sha)
            if (entry / MARKER).is_file():
                marker = json.loads((entry / MARKER).read_text())
                direct = source.direct_url(sha) if source.direct else None
                if not source.direct:  # the pin resolved to this wheel: its build tasks have nothing to do
                    _remember_wheel(pin, cache, marker["filename"], sha)
                assert pin.version is not None  # require_pins guarantees it
                return Fetched(pin.name, pin.version, marker["filename"], sha, str(entry), direct)
    what = source.describe() if source.direct else f"{pin.name}=={pin.version} from the index"
    raise OfflineMissing(f"offline, and not in the cache: would fetch {what}", package=pin.name)


def _recorded_sha256(pin: PinJob, cache: Path) -> frozenset[str]:
    """An index pin without `--hash`: the sha256 of the wheel its last online fetch chose, if any."""
    from tasks.run.pinkind import recorded_sha256

    sha256 = recorded_sha256(cache, pin, "wheel")
    return frozenset({sha256}) if sha256 else frozenset()


def _remember_wheel(pin: PinJob, cache: Path, filename: str, sha256: str) -> None:
    from tasks.index.pages import DistFile
    from tasks.run.pinkind import remember

    remember(cache, pin, DistFile(filename, url="", hashes=(("sha256", sha256),)))


def refuse_tree(pin: PinJob) -> None:
    """A URL or git source whose tree is not known to this run's state: it would be fetched."""
    source = pin.line.source
    if source.kind in ("url", "git"):
        raise OfflineMissing(
            f"offline, and its source tree is not in the cache: would fetch {source.describe()}",
            package=pin.name,
        )
