"""`./doit lock` end to end for the resolver's policies (issue 22), against a loopback index."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import Run, doit
from tests.support.wheels import make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")


def lock(req: Path, *extra: str) -> Run:
    out, cache = req.with_suffix(".txt"), req.parent / "cache"
    return doit("lock", f"req={req}", f"out={out}", f"cache={cache}", *extra)


def pins(req: Path) -> dict[str, str]:
    found = {}
    for line in req.with_suffix(".txt").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            found[name] = rest.split()[0]
    return found


def test_walks_back_through_300_releases_to_the_one_that_fits(
    index: Any, wheelhouse: Path, tmp_path: Path
) -> None:
    """Only a release from long ago fits the input's cap on a transitive dependency."""
    for n in range(1, 301):
        make_wheel(wheelhouse, "a", str(n), requires_dist=[f"b=={n}"])
        make_wheel(wheelhouse, "b", str(n), requires_dist=["c>=2" if n >= 200 else "c<2"])
    for version in ("1.0", "2.0", "3.0"):
        make_wheel(wheelhouse, "c", version)
    req = tmp_path / "walk.in"
    req.write_text(f"-i {index.url}\na\nc<2\n")
    started = time.perf_counter()
    run = lock(req)
    seconds = time.perf_counter() - started
    assert run.code == 0, run.err
    assert pins(req) == {"a": "199", "b": "199", "c": "1.0"}
    print(f"300-release walk back: {seconds:.1f} s")
