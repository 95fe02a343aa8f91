"""The prune's options from the command line: `days=N`, `ci=1`, `max-size=SIZE` (`error:` when wrong)."""

from __future__ import annotations

from tasks.core.errors import ConfigError
from tasks.run.care.rules import Policy

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20}
_UNITS |= {"mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


def policy_from_variables() -> Policy:
    """`days=N`, `ci=1` and `max-size=SIZE` from the command line."""
    from tasks.inputs.variables import value

    days, ci, size = value("days"), value("ci"), value("max-size")
    return Policy(
        days=_number(days, "days", "a number of days, such as days=30") if days else None,
        ci=_flag(ci),
        max_size=parse_size(size) if size else None,
    )


def _number(text: str, name: str, example: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(f"{name}={text}: give {example}")
    return value


def _flag(text: str | None) -> bool:
    if text in (None, "", "0", "no", "false"):
        return False
    if text in ("1", "yes", "true"):
        return True
    raise ConfigError(f"ci={text}: give ci=1 or ci=0")


def parse_size(text: str) -> int:
    """`500M`, `2G`, `1.5GiB`, `1048576` (binary units) in bytes."""
    number = text.strip()
    digits = number.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
    unit = number[len(digits) :].strip().lower()
    try:
        value = float(digits)
    except ValueError:
        value = -1.0
    if value < 0 or unit not in _UNITS:
        raise ConfigError(f"max-size={text}: give a size such as max-size=500M or max-size=2G")
    return int(value * _UNITS[unit])
