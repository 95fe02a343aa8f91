"""`lock` builds only when it must: a version's metadata from any of its wheels, even another platform's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import doit
from tests.support.wheels import make_sdist, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")

UNBUILDABLE = {  # its backend is on no index: building it for metadata fails at once
    "pyproject.toml": (
        '[build-system]\nrequires = ["no-such-backend"]\nbuild-backend = "no_such_backend"\n\n'
        '[project]\nname = "native"\nversion = "1.0"\ndependencies = ["lib"]\n'
    )
}


@pytest.mark.parametrize("pep658", [True, False], ids=["pep658", "ranges"])
def test_another_platforms_wheel_gives_the_metadata_without_a_build(
    index, wheelhouse: Path, tmp_path: Path, pep658: bool
) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    index.metadata_files = pep658
    make_wheel(wheelhouse, "native", "1.0", requires_dist=["lib>=2"], tag="cp39-cp39-win_amd64")
    make_wheel(
        wheelhouse, "native", "1.0", requires_dist=["lib>=2"], tag="cp312-cp312-manylinux_2_17_aarch64"
    )
    make_sdist(wheelhouse, "native", "1.0", files=UNBUILDABLE)
    make_wheel(wheelhouse, "lib", "1.0")
    make_wheel(wheelhouse, "lib", "2.0")
    req.write_text(f"-i {index.url}\nnative\n")

    run = doit("lock", f"req={req}", f"out={out}", f"cache={cache}")
    assert run.code == 0, run.err
    text = out.read_text()
    assert "native==1.0" in text and "lib==2.0" in text
    assert index.count("/files/native-1.0.tar.gz") == 0  # the sdist was never fetched, so never built
    assert not (cache / "build-logs-v0").exists()
    warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(
        "warning: native==1.0 has no wheel for this target ("
    )
    assert warnings[0].endswith("): only its sdist, which a sync must build")
