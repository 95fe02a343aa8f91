"""The kinds of event: each kind's JSON line (the events file's documented shape) and how a record behaves."""

from __future__ import annotations

import json
import pickle

import pytest

from tasks.core import eventkinds as k
from tasks.core.eventkinds import Change, Event

CHANGES = (
    Change("install", "a", version="1"),
    Change("replace", "b", version="2", old="1"),
    Change("remove", "c", old="0.5"),
)
CHANGES_JSON = [
    {"op": "install", "name": "a", "version": "1"},
    {"op": "replace", "name": "b", "version": "2", "old": "1"},
    {"op": "remove", "name": "c", "old": "0.5"},
]

# Each kind as the events file has always written it: fields left None or at their default are absent.
SHAPES: list[tuple[Event, dict[str, object]]] = [
    (k.Started(task="fetch:a"), {"kind": "started", "task": "fetch:a"}),
    (k.Finished(task="fetch:a"), {"kind": "finished", "task": "fetch:a"}),
    (k.SkippedCheck(task="fetch:a"), {"kind": "skipped_check", "task": "fetch:a"}),
    (k.Failed("bad lock"), {"kind": "failed", "message": "bad lock"}),
    (k.Failed("boom", task="fetch:a"), {"kind": "failed", "message": "boom", "task": "fetch:a"}),
    (k.ProjectUsed("/p: cli"), {"kind": "project", "message": "/p: cli"}),
    (
        k.Progress(package="a", filename="a.whl", bytes=0),
        {"kind": "progress", "package": "a", "filename": "a.whl", "bytes": 0},
    ),
    (
        k.Progress(package="a", filename="a.whl", bytes=5, total=9, message="try 1 failed"),
        {
            "kind": "progress",
            "package": "a",
            "filename": "a.whl",
            "bytes": 5,
            "total": 9,
            "message": "try 1 failed",
        },
    ),
    (
        k.Downloaded(package="a", filename="a.whl", source="http://i/a.whl", bytes=10, seconds=0.5),
        {
            "kind": "downloaded",
            "package": "a",
            "filename": "a.whl",
            "source": "http://i/a.whl",
            "bytes": 10,
            "seconds": 0.5,
        },
    ),
    (
        k.Downloaded(package="a", filename="a.whl", source="remote cache s3://b", bytes=10, path="/c/a.whl"),
        {
            "kind": "downloaded",
            "package": "a",
            "filename": "a.whl",
            "source": "remote cache s3://b",
            "bytes": 10,
            "path": "/c/a.whl",
        },
    ),
    (
        k.Building(package="a", source="/src/a", filename="metadata.json"),
        {"kind": "building", "package": "a", "source": "/src/a", "filename": "metadata.json"},
    ),
    (
        k.Built(package="a", source="/src/a", filename="a.whl", path="/c/a.whl", seconds=1.5, log="/l/a.log"),
        {
            "kind": "built",
            "package": "a",
            "source": "/src/a",
            "filename": "a.whl",
            "path": "/c/a.whl",
            "seconds": 1.5,
            "log": "/l/a.log",
        },
    ),
    (
        k.Reused(package="a", source="/src/a", filename="metadata.json", path="/c/metadata.json"),
        {
            "kind": "reused",
            "package": "a",
            "source": "/src/a",
            "filename": "metadata.json",
            "path": "/c/metadata.json",
        },
    ),
    (
        k.MetadataReady(task="build_meta:a", package="a", path="/c/m.json"),
        {"kind": "metadata", "task": "build_meta:a", "package": "a", "path": "/c/m.json"},
    ),
    (
        k.MetadataReady(task="build_meta:a", package="a", path="/c/m.json", message="asked"),
        {"kind": "metadata", "task": "build_meta:a", "package": "a", "path": "/c/m.json", "message": "asked"},
    ),
    (
        k.BackendOutput(package="a", message="running egg_info"),
        {"kind": "output", "package": "a", "message": "running egg_info"},
    ),
    (k.Installing(path="/v", count=3), {"kind": "installing", "path": "/v", "count": 3}),
    (
        k.DistInstalled(package="a", version="1", filename="a.whl", path="/v"),
        {"kind": "installed", "package": "a", "version": "1", "filename": "a.whl", "path": "/v"},
    ),
    (
        k.DistRemoved(package="a", version="1", path="/v"),
        {"kind": "removed", "package": "a", "version": "1", "path": "/v"},
    ),
    (
        k.SyncSummary(task="dev", path="/v", count=1, created=False, seconds=0.01),
        {"kind": "summary", "task": "dev", "path": "/v", "count": 1, "created": False, "seconds": 0.01},
    ),
    (
        k.SyncSummary(
            task="dev",
            path="/v",
            count=0,
            created=True,
            seconds=0.2,
            changes=CHANGES,
            phases=(("resolve", 0.1),),
            dry=True,
        ),
        {
            "kind": "summary",
            "task": "dev",
            "path": "/v",
            "count": 0,
            "created": True,
            "seconds": 0.2,
            "changes": CHANGES_JSON,
            "phases": {"resolve": 0.1},
            "dry": True,
        },
    ),
    (
        k.Planned(package="a", version="?", message="build", source="/src/a"),
        {"kind": "planned", "package": "a", "version": "?", "message": "build", "source": "/src/a"},
    ),
    (k.Differs(task="dev", path="/v", changes=()), {"kind": "differs", "task": "dev", "path": "/v"}),
    (
        k.Differs(task="dev", path="/v", changes=CHANGES[:1]),
        {"kind": "differs", "task": "dev", "path": "/v", "changes": CHANGES_JSON[:1]},
    ),
    (
        k.Locked(task="dev", path="/r.txt", count=7, seconds=1.5),
        {"kind": "locked", "task": "dev", "path": "/r.txt", "count": 7, "seconds": 1.5},
    ),
    (
        k.Locked(
            task="dev",
            path="/r.txt",
            count=7,
            seconds=1.5,
            changes=CHANGES,
            dry=True,
            created=True,
            message="m",
        ),
        {
            "kind": "locked",
            "task": "dev",
            "path": "/r.txt",
            "count": 7,
            "seconds": 1.5,
            "changes": CHANGES_JSON,
            "dry": True,
            "created": True,
            "message": "m",
        },
    ),
    (
        k.WheelhouseFilled(task="wheelhouse:dev", path="/w", count=2),
        {"kind": "wheelhouse", "task": "wheelhouse:dev", "path": "/w", "count": 2},
    ),
    (k.Warned("careful"), {"kind": "warning", "message": "careful"}),
    (
        k.Warned("a==1 is yanked", package="a", version="1"),
        {"kind": "warning", "message": "a==1 is yanked", "package": "a", "version": "1"},
    ),
    (k.Warned("read-only", path="/s"), {"kind": "warning", "message": "read-only", "path": "/s"}),
    (k.Waiting("waiting for /v"), {"kind": "waiting", "message": "waiting for /v"}),
    (k.Waiting("waiting", path="/l"), {"kind": "waiting", "message": "waiting", "path": "/l"}),
    (
        k.SkippedOffline("the revision check of a", package="a", source="git"),
        {"kind": "offline", "message": "the revision check of a", "package": "a", "source": "git"},
    ),
    (
        k.SkippedOffline("index revalidation", task="dev"),
        {"kind": "offline", "message": "index revalidation", "task": "dev"},
    ),
    (
        k.Unverified("down", package="a", source="git"),
        {"kind": "unverified", "message": "down", "package": "a", "source": "git"},
    ),
    (
        k.CacheUsage(path="/c", bytes=0, count=0),
        {"kind": "cache_usage", "path": "/c", "bytes": 0, "count": 0},
    ),
    (
        k.CacheUsage(path="archive-v0", bytes=5, count=1, message="unpacked wheels"),
        {"kind": "cache_usage", "path": "archive-v0", "bytes": 5, "count": 1, "message": "unpacked wheels"},
    ),
    (
        k.Pruned(path="x", bytes=3, message="unused"),
        {"kind": "pruned", "path": "x", "bytes": 3, "message": "unused"},
    ),
    (
        k.PruneDone(path="/c", count=1, bytes=3, message="3 B before"),
        {"kind": "prune_done", "path": "/c", "count": 1, "bytes": 3, "message": "3 B before"},
    ),
]


@pytest.mark.parametrize(("event", "shape"), SHAPES, ids=[f"{e.kind}-{i}" for i, (e, _) in enumerate(SHAPES)])
def test_each_kind_keeps_its_json_line(event: Event, shape: dict[str, object]) -> None:
    assert json.loads(json.dumps(event.as_json())) == shape


def test_every_kind_has_a_shape_and_its_own_name() -> None:
    kinds = Event.__subclasses__()
    assert {type(e) for e, _ in SHAPES} == set(kinds)
    assert len({c.kind for c in kinds}) == len(kinds) == 27


def test_a_record_is_made_like_a_dataclass_and_frozen() -> None:
    built = k.Built("a", "/src/a", "a.whl", "/c/a.whl", 1.5)
    assert built == k.Built(
        package="a", source="/src/a", filename="a.whl", path="/c/a.whl", seconds=1.5, log=None
    )
    assert built != k.Reused("a", "/src/a", "a.whl", "/c/a.whl") and hash(built) == hash(
        k.Built(*built.__dict__.values())
    )
    assert repr(k.Started("t")) == "Started(task='t')" and pickle.loads(pickle.dumps(built)) == built
    match built:
        case k.Built(package, _, filename):
            assert (package, filename) == ("a", "a.whl")
    with pytest.raises(AttributeError, match="frozen"):
        built.seconds = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="needs task"):
        k.Started()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="no field package"):
        k.Started(task="t", package="a")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 1 fields, got 2"):
        k.Started("t", "u")  # type: ignore[call-arg]
