"""`lock exclude-newer=`: files uploaded after the cut-off are left out (PEP 700 `upload-time`)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.lock.cutoff import format_cutoff, parse_cutoff
from tests.e2e import doit
from tests.support.wheels import make_wheel
from tests.test_lock_e2e import lock, pins

pytestmark = pytest.mark.usefixtures("isolated_env")


def test_a_time_or_a_span() -> None:
    now = datetime(2026, 12, 2, 8, 0, 0, tzinfo=timezone.utc)
    assert format_cutoff(parse_cutoff("2026-10-01T00:00:00Z", now)) == "2026-10-01T00:00:00Z"
    assert format_cutoff(parse_cutoff("2026-10-01", now)) == "2026-10-01T00:00:00Z"
    assert format_cutoff(parse_cutoff("2026-10-01T02:00:00+02:00", now)) == "2026-10-01T00:00:00Z"
    assert format_cutoff(parse_cutoff("P7D", now)) == "2026-11-25T08:00:00Z"
    assert format_cutoff(parse_cutoff("7 days", now)) == "2026-11-25T08:00:00Z"
    assert format_cutoff(parse_cutoff("PT12H", now)) == "2026-12-01T20:00:00Z"
    with pytest.raises(ConfigError, match="exclude-newer=soon"):
        parse_cutoff("soon", now)


def test_the_cut_off_chooses_an_older_version_and_the_lock_keeps_it(
    index, wheelhouse: Path, tmp_path: Path
) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    for version, when in (("1.0", "2026-01-10T00:00:00Z"), ("2.0", "2026-09-30T23:59:59Z")):
        make_wheel(wheelhouse, "lib", version)
        index.uploaded(f"lib-{version}-py3-none-any.whl", when)
    make_wheel(wheelhouse, "lib", "3.0")
    index.uploaded("lib-3.0-py3-none-any.whl", "2026-10-01T00:00:01.5Z")
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    index.uploaded("app-1.0-py3-none-any.whl", "2026-01-01T00:00:00Z")
    req.write_text(f"-i {index.url}\napp\n")

    run = lock(req, out, cache, "exclude-newer=2026-10-01T00:00:00Z")
    assert run.code == 0, run.err
    assert pins(out) == {"app": "1.0", "lib": "2.0"}
    assert "# exclude-newer: 2026-10-01T00:00:00Z" in out.read_text()

    written = out.read_text()
    check = lock(req, out, cache, "upgrade=1", "check=1")  # a check resolves with the lock's cut-off
    assert check.code == 0 and "up to date" in check.out, check.out + check.err
    assert lock(req, out, cache, "upgrade=1").code == 0  # and so does a relock
    assert out.read_text() == written
    assert lock(req, out, cache, "exclude-newer=2026-01-31").code == 0  # an earlier one
    assert pins(out) == {"app": "1.0", "lib": "1.0"}


def test_a_file_without_upload_time_is_left_out_with_one_warning(
    index, wheelhouse: Path, tmp_path: Path
) -> None:
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    make_wheel(wheelhouse, "lib", "1.0")
    make_wheel(wheelhouse, "lib", "2.0")
    make_wheel(wheelhouse, "other", "1.0")
    index.uploaded("lib-1.0-py3-none-any.whl", "2026-01-10T00:00:00Z")
    index.uploaded("other-1.0-py3-none-any.whl", "2026-01-10T00:00:00Z")
    for name in ("lib-2.0-py3-none-any.whl", "other-1.0-py3-none-any.whl"):
        index.uploaded(name, None)
    make_wheel(wheelhouse, "other", "0.9")
    index.uploaded("other-0.9-py3-none-any.whl", "2026-01-10T00:00:00Z")
    req.write_text(f"-i {index.url}\nlib\nother\n")
    run = lock(req, out, cache, "exclude-newer=P7D")
    assert run.code == 0, run.err
    assert pins(out) == {"lib": "1.0", "other": "0.9"}
    warnings = [line for line in run.err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {index.url} gives no upload-time for some files: left out, "
        "as exclude-newer cannot place them"
    ]


def test_pipeline_yaml_gives_an_environment_its_cut_off(index, wheelhouse: Path, tmp_path: Path) -> None:
    for version, when in (("1.0", "2026-01-10T00:00:00Z"), ("2.0", "2026-10-02T00:00:00Z")):
        make_wheel(wheelhouse, "lib", version)
        index.uploaded(f"lib-{version}-py3-none-any.whl", when)
    (tmp_path / "web.in").write_text("lib\n")
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"cache: {tmp_path / 'cache'}\nindex-url: {index.url}\nenvironments:\n"
        "  web:\n    in: web.in\n    requirements: web.txt\n    path: envs/web\n"
        "    exclude-newer: 2026-10-01T00:00:00Z\n"
    )
    run = doit("lock", f"config={config}")
    assert run.code == 0, run.err
    assert pins(tmp_path / "web.txt") == {"lib": "1.0"}


def test_a_pylock_keeps_its_cut_off_in_its_tool_table(index, wheelhouse: Path, tmp_path: Path) -> None:
    import tomllib

    req, out, cache = tmp_path / "requirements.in", tmp_path / "pylock.toml", tmp_path / "cache"
    for version, when in (("1.0", "2026-01-10T00:00:00Z"), ("2.0", "2026-10-02T00:00:00Z")):
        make_wheel(wheelhouse, "lib", version)
        index.uploaded(f"lib-{version}-py3-none-any.whl", when)
    req.write_text(f"-i {index.url}\nlib\n")

    def locked() -> tuple[dict[str, str], dict[str, str]]:
        doc = tomllib.loads(out.read_text())
        return {p["name"]: p["version"] for p in doc["packages"]}, doc["tool"]["wheelwright"]

    assert lock(req, out, cache, "exclude-newer=2026-10-01").code == 0
    versions, tool = locked()
    assert versions == {"lib": "1.0"} and tool["exclude-newer"] == "2026-10-01T00:00:00Z"
    relock = lock(req, out, cache, "upgrade=1")  # no cut-off given: the lock's own is kept
    assert relock.code == 0, relock.err
    assert locked() == (versions, tool)
