"""Project names normalized (PEP 503) without importing packaging.utils on the no-op path, and the
one rule telling a wheel's filename from a source archive's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from packaging.utils import NormalizedName
else:
    NormalizedName = str

__all__ = ["NormalizedName", "canonicalize_name", "is_wheel_filename"]

_SEPARATORS = re.compile(r"[-_.]+")


def canonicalize_name(name: str) -> NormalizedName:
    """The same result as packaging.utils.canonicalize_name, for the light paths."""
    return cast("NormalizedName", _SEPARATORS.sub("-", name).lower())


def is_wheel_filename(filename: str) -> bool:
    """A wheel (`.whl`, PEP 427); anything else a distribution is named by is built from source."""
    return filename.endswith(".whl")
