"""Sync planning (pure): install, replace, remove, keep."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from tasks.envs.venv import Installed
from tasks.plan.planner import Wanted, plan_sync


def have(name: str, version: str, direct_url: dict[str, object] | None = None) -> Installed:
    return Installed(canonicalize_name(name), version, Path(f"/x/{name}.dist-info"), direct_url)


def want(name: str, version: str, direct_url: dict[str, object] | None = None) -> Wanted:
    return Wanted(canonicalize_name(name), version, f"{name}-{version}-py3-none-any.whl", "/c", direct_url)


def test_plan_covers_every_case() -> None:
    installed = {
        d.name: d for d in [have("keep", "1.0"), have("up", "1"), have("gone", "3"), have("pip", "23")]
    }
    wanted = {w.name: w for w in [want("keep", "1.0.0"), want("up", "2"), want("new", "1")]}
    plan = plan_sync(installed, wanted)
    assert [w.name for w in plan.install] == ["new"]
    assert [(o.name, n.version) for o, n in plan.replace] == [("up", "2")]
    assert [d.name for d in plan.remove] == ["gone"]
    assert [d.name for d in plan.keep] == ["keep"]


def test_same_version_other_source_is_replaced() -> None:
    url = {"url": "http://127.0.0.1/x.whl", "archive_info": {"hash": "sha256=aa"}}
    stale = {"url": "http://127.0.0.1/x.whl", "archive_info": {"hash": "sha256=bb"}}
    assert plan_sync({"x": have("x", "1", url)}, {"x": want("x", "1", url)}).is_empty  # type: ignore[dict-item]
    plan = plan_sync({"x": have("x", "1", stale)}, {"x": want("x", "1", url)})  # type: ignore[dict-item]
    assert len(plan.replace) == 1
    assert len(plan_sync({"x": have("x", "1", url)}, {"x": want("x", "1")}).replace) == 1  # type: ignore[dict-item]
