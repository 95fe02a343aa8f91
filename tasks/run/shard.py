"""`shard=K/N`: which built sources one runner of a CI matrix builds.

A source belongs to shard K of N when the sha256 of its name, as a number, is K-1 modulo N: a fact
of the name alone, not of what a runner's cache happens to know (an index pin never fetched gets
build tasks until its fetch finds a wheel), so the shards of a matrix are disjoint and together
hold every source, whatever each runner's cache holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

from tasks.core.errors import UsageError

T = TypeVar("T")


def parse_shard(value: str | None) -> tuple[int, int] | None:
    """`K/N` (1 ≤ K ≤ N) → (K, N); None for no value; UsageError (exit 3) for anything else."""
    if not value:
        return None
    k, slash, n = value.strip().partition("/")
    if not (slash and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise UsageError(f"shard={value!r}: expected K/N with 1 <= K <= N (shard=2/4 is the second of four)")
    return int(k), int(n)


def in_shard(items: Sequence[T], names: Sequence[str], shard: tuple[int, int] | None) -> list[T]:
    """The items of shard K/N (all of them without a shard); `names[i]` is `items[i]`'s stable name."""
    if shard is None:
        return list(items)
    k, n = shard
    return [
        item
        for item, name in zip(items, names, strict=True)
        if int(hashlib.sha256(name.encode()).hexdigest(), 16) % n == k - 1
    ]
