"""The upload-date cut-off (`exclude-newer=`): parsing a time or a span, and which files it keeps (pure).

A cut-off is an RFC 3339 time (`2026-10-01T00:00:00Z`, or a date `2026-10-01`, read as UTC
midnight) or a span before now: ISO 8601 (`P7D`, `PT12H`, `P1W`) or words (`7 days`, `12 hours`).
Files are compared by their PEP 700 `upload-time`; a file without one cannot be placed in time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

from tasks.core.errors import ConfigError
from tasks.index.pages import DistFile

_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_WORDS = re.compile(r"^(\d+)\s*(week|day|hour|minute|second)s?$", re.I)
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.I)


def parse_cutoff(text: str, now: datetime) -> datetime:
    """The cut-off `text` names, as an aware UTC time (a span counts back from `now`)."""
    value = text.strip()
    span = _span(value)
    if span is not None:
        return (now - span).astimezone(timezone.utc).replace(microsecond=0)
    moment = parse_time(value)
    if moment is None:
        raise ConfigError(
            f"exclude-newer={text}: give a time (2026-10-01T00:00:00Z, 2026-10-01) or a span (P7D, 7 days)"
        )
    return moment


def _span(value: str) -> timedelta | None:
    words = _WORDS.match(value)
    if words:
        return timedelta(**{words.group(2).lower() + "s": int(words.group(1))})
    iso = _ISO.match(value)
    if iso and value.upper() not in ("P", "PT"):
        weeks, days, hours, minutes, seconds = (int(g or 0) for g in iso.groups())
        return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    return None


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 time or a bare date, as an aware UTC time; None when it is neither."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_cutoff(moment: datetime) -> str:
    """`2026-10-01T00:00:00Z`: how a lock's header keeps the cut-off."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uploaded_by(upload_time: str | None, cutoff: datetime) -> bool | None:
    """Whether a file uploaded at `upload_time` is kept by `cutoff`; None when it has no usable time."""
    if not upload_time:
        return None
    moment = parse_time(upload_time)
    return None if moment is None else moment <= cutoff


def in_time(
    files: Iterable[DistFile], cutoff: datetime, untimed: Callable[[str], None]
) -> tuple[DistFile, ...]:
    """The files uploaded by `cutoff`; one without an upload-time is left out and its index told to
    `untimed` (the index's URL, or the file's own for find-links)."""
    kept = []
    for file in files:
        verdict = uploaded_by(file.upload_time, cutoff)
        if verdict is None:
            untimed(file.index or file.url)
        elif verdict:
            kept.append(file)
    return tuple(kept)
