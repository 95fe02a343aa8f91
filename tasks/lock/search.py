"""How resolvelib searches: backjumping first, and plain backtracking before any "impossible".

resolvelib 1.2's backjumping is unsound (sarugaku/resolvelib#206): it can skip the decision
that would fix a conflict and report ResolutionImpossible when a solution exists. Its
*optimistic* backjumping, after a cut-off of rounds, rolls back to a copy of the state stack
that has lost the root sentinel, so the next conflict ends the resolution: a top-level
project with more than ~100 releases to walk back through (`a` and `c<2`, where only
`a==199` fits) came out "impossible". So: backjumping without the optimistic mode first
(fast when it works), and when it answers "impossible", the same problem again with
chronological backtracking, which tries every remaining candidate before giving up.
The second pass reads the metadata the first one memoized; it is bounded by `max_rounds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep
from resolvelib.resolvers.resolution import Resolution, _build_result


class _Backjumping(Resolution[Any, Any, Any]):
    """resolvelib's safe backjumping (no optimistic mode and its faulty rollback)."""

    def __init__(self, provider: Any, reporter: Any) -> None:
        super().__init__(provider, reporter)
        self._optimistic_backjumping_ratio = 0.0


class _Backtracking(_Backjumping):
    """Chronological backtracking: with no causes, `_backjump` undoes only the last pin."""

    def _backjump(self, causes: list[Any]) -> bool:
        return super()._backjump([])


def search(provider: Any, requirements: Sequence[Any], max_rounds: int) -> Any:
    """resolvelib's Result for `requirements`; ResolutionImpossible only when backtracking agrees.

    The error raised is the first pass's (its causes name the conflict best).
    """
    try:
        return _build_result(_Backjumping(provider, BaseReporter()).resolve(requirements, max_rounds))
    except ResolutionImpossible as first:
        try:
            state = _Backtracking(provider, BaseReporter()).resolve(requirements, max_rounds)
        except (ResolutionImpossible, ResolutionTooDeep):
            raise first from None
        return _build_result(state)
