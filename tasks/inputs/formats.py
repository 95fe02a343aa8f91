"""pip's format control: which projects may install from wheels and which from sdists.

`--only-binary` and `--no-binary` take comma-separated project names, `:all:` or `:none:`, and
exclude each other name by name (pip's `handle_mutual_excludes`): the later option wins. The
options are kept as written, in order, from every layer (pip's configuration and PIP_* variables,
pipeline.yaml, the requirement files), and folded here into one decision per project, which
both the lock (the finder's usable files) and the sync (the file fetched) ask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name

ONLY_BINARY, NO_BINARY = "--only-binary", "--no-binary"


@dataclass(frozen=True)
class Formats:
    """The folded options: names (canonical) or ":all:" in each set."""

    no_binary: frozenset[str] = frozenset()
    only_binary: frozenset[str] = frozenset()

    def allowed(self, name: str) -> tuple[bool, bool]:
        """(wheel allowed, sdist allowed) for `name`: pip's get_allowed_formats, first rule that applies."""
        name = canonicalize_name(name)
        if name in self.only_binary:
            return True, False
        if name in self.no_binary:
            return False, True
        if ":all:" in self.only_binary:
            return True, False
        if ":all:" in self.no_binary:
            return False, True
        return True, True

    def binary_ok(self, name: str) -> bool:
        return self.allowed(name)[0]

    def source_ok(self, name: str) -> bool:
        return self.allowed(name)[1]

    def restricts(self, name: str) -> bool:
        return self.allowed(name) != (True, True)


def fold(options: Iterable[tuple[str, str]]) -> Formats:
    """`(option, value)` pairs in the order given, as pip applies them."""
    no_binary: set[str] = set()
    only_binary: set[str] = set()
    for option, value in options:
        target, other = (only_binary, no_binary) if option == ONLY_BINARY else (no_binary, only_binary)
        _apply(value, target, other)
    return Formats(frozenset(no_binary), frozenset(only_binary))


def _apply(value: str, target: set[str], other: set[str]) -> None:
    names = [n.strip() for n in value.split(",") if n.strip()]
    while ":all:" in names:
        other.clear()
        target.clear()
        target.add(":all:")
        names = names[names.index(":all:") + 1 :]
        if ":none:" not in names:
            return
    for name in names:
        if name == ":none:":
            target.clear()
            continue
        canonical = canonicalize_name(name)
        other.discard(canonical)
        target.add(canonical)


def check_value(value: str) -> str | None:
    """Why `value` is not a valid --only-binary/--no-binary value, or None."""
    if not value:
        return "needs a value (project names, :all: or :none:)"
    if value.startswith("-"):
        return f"takes project names, :all: or :none:, not {value!r}"
    return None
