"""The remote checks of a no-op decided before doit starts: each URL or git source asked with the light
clients (`git ls-remote`, a conditional GET on a socket: tasks/core/conditional.py), all at once."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core.urls import strip_credentials
from tasks.run.context import variables

if TYPE_CHECKING:
    from tasks.inputs.sources import GitSource, UrlSource
    from tasks.run.outline import PinOutline


@dataclass(frozen=True)
class Check:
    """A source's remote check: a git ref (`ls-remote`) or a URL archive (conditional GET)."""

    kind: str  # "git" or "url"
    package: str
    url: str
    revision: str  # the revision installed
    ref: str | None = None
    subdirectory: str | None = None
    sha256: str | None = None  # a URL's `#sha256=`
    hashes: list[str] = field(default_factory=list)  # the lock's `--hash` values

    def source(self) -> GitSource | UrlSource:
        from tasks.inputs.sources import GitSource, UrlSource

        if self.kind == "git":
            return GitSource(self.url, self.ref, self.subdirectory)
        return UrlSource(self.url, self.subdirectory, self.sha256)


def checks_of(outlined: Sequence[PinOutline], pins: Mapping[str, Any]) -> list[Check] | None:
    """The remote check of each pin built from a URL or a git ref; None when one cannot be made here."""
    from tasks.run.context import pin_job

    checks = []
    for i, pin in enumerate(outlined):
        if not pin.built or pin.registry:
            continue  # a wheel, or an index file (immutable): nothing upstream to ask
        revision = (pins.get(f"pin{i}") or {}).get("revision")
        job = pin_job(pin.task)
        check = check_of(job.name, job.line.source, job.line.sha256s(), revision)
        if check is None:
            return None
        checks.append(check)
    return checks


def check_of(package: str, source: Any, hashes: frozenset[str], revision: object) -> Check | None:
    """A git or URL source's check, when it can be made without the heavy clients and written down."""
    if not isinstance(revision, str) or source.kind not in ("git", "url"):
        return None  # a local path's revision is a digest of its files: doit's checks compute it
    if strip_credentials(source.url) != source.url:
        return None  # credentials never reach a file
    if source.kind == "git":
        return Check("git", package, source.url, revision, source.ref, source.subdirectory)
    from tasks.core.conditional import usable
    from tasks.run.context import network

    if network().credentials.learned_for_host(source.url) or not usable(source.url):
        return None  # the session would send credentials (or go through a proxy): so must the check
    hashes_given = sorted(hashes)
    return Check("url", package, source.url, revision, None, source.subdirectory, source.sha256, hashes_given)


def check_timeout() -> float | None:
    from tasks.core.conditional import TIMEOUT

    text = variables().get("timeout")
    try:
        seconds = float(text) if text else TIMEOUT
    except ValueError:
        return None
    return min(seconds, TIMEOUT) if 0 < seconds < float("inf") else None


def all_unchanged(checks: Sequence[Check], cache: Path) -> bool:
    """Ask every remote at once; True when each answered the revision installed. Each answer is recorded
    as confirmed (the full path takes it from there instead of asking again)."""
    from tasks.run.degrade import confirm

    answers: list[str | None] = [None] * len(checks)

    def ask(i: int, check: Check) -> None:
        answers[i] = current_revision(check, cache)
        if answers[i] is not None:
            confirm(cache, check.source().describe(), answers[i] or "")

    threads = [threading.Thread(target=ask, args=(i, check)) for i, check in enumerate(checks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return all(answer == check.revision for answer, check in zip(answers, checks, strict=True))


def current_revision(check: Check, cache: Path) -> str | None:
    """The source's revision upstream, asked with the light clients; None when they cannot tell (the
    full path then asks, and says what went wrong)."""
    from tasks.inputs.sources import GitSource

    source = check.source()
    try:
        if isinstance(source, GitSource):
            from tasks.source.git import resolve_ref

            return resolve_ref(source, package=check.package)
        return _url_revision(check, source, cache)
    except Exception:  # in a thread of its own: anything unforeseen is "cannot tell", not a traceback
        return None


def _url_revision(check: Check, source: UrlSource, cache: Path) -> str | None:
    from functools import partial

    from tasks.core.conditional import not_modified, usable
    from tasks.source.url import known_revision

    if not usable(source.url):
        return None
    expected = frozenset(check.hashes) | ({check.sha256.lower()} if check.sha256 else set())
    ask = partial(not_modified, timeout=check_timeout() or 0.0)
    return known_revision(cache, source.url, source.filename, expected, ask)
