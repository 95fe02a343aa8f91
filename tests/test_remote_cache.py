"""A fleet of runners sharing one build cache on a real S3 API (moto's server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tasks.envs.interpreter import Interpreter
from tests.e2e import Run, doit, installed, site_packages
from tests.support.s3 import SECRET, S3Store, aws_environment, recorded, recording_tree, s3_store, write_tree
from tests.test_build_e2e import backends, git, lock_file  # noqa: F401 (backends: a fixture)

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Store]:
    with s3_store() as s3:
        for key, value in aws_environment(s3.endpoint, tmp_path).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("WW_TEST_BUILD_LOG", str(tmp_path / "builds.log"))
        yield s3


@pytest.fixture
def fleet(backends: Path, tmp_path: Path, index) -> Path:  # noqa: F811
    """Three recorded sources (an index sdist, a git repository, a local directory) and their lock."""
    sdist_dir = tmp_path / "sdist-src"
    write_tree(sdist_dir / "sdrec-1.0", recording_tree("sdrec", "1.0"))
    shutil.make_archive(str(backends / "sdrec-1.0"), "gztar", sdist_dir, "sdrec-1.0")
    repo = write_tree(tmp_path / "repo", recording_tree("gitrec", "1.0"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    local = write_tree(tmp_path / "local", recording_tree("pathrec", "1.0"))
    lines = ["sdrec==1.0", f"gitrec @ git+{repo.as_uri()}@main", f"pathrec @ {local.as_uri()}"]
    return lock_file(tmp_path / "lock.txt", index.url, *lines)


def runner(tmp_path: Path, name: str, lock: Path, *extra: str, epoch: str | None = None) -> Run:
    """One CI runner's sync: its own cache, venv and events file; the shared store from the environment.

    `epoch`: the runner's SOURCE_DATE_EPOCH, which flit stamps into its wheels (so runners' wheels differ).
    """
    env = dict(os.environ, WHEELWRIGHT_EVENTS=str(tmp_path / f"{name}.events"))
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    words = [f"req={lock}", f"venv={tmp_path / name / 'venv'}", f"cache={tmp_path / name / 'cache'}"]
    return doit("sync", *words, *extra, env=env)


def events(tmp_path: Path, name: str, kind: str) -> list[dict[str, object]]:
    path = tmp_path / f"{name}.events"
    found = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [e for e in found if e["kind"] == kind]


def built(tmp_path: Path, name: str) -> set[str]:
    return {str(e["package"]) for e in events(tmp_path, name, "built")}


def taken(tmp_path: Path, name: str) -> set[str]:
    return {str(e["package"]) for e in events(tmp_path, name, "downloaded") if "remote" in str(e["source"])}


def metadata_jsons(cache: Path) -> dict[str, str]:
    root = cache / "built-wheel-metadata-v0"
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("metadata.json")}


def records(venv: Path) -> dict[str, str]:
    """Each installed distribution's RECORD: equal RECORDs mean byte-identical installed files."""
    return {p.parent.name: p.read_text() for p in site_packages(venv).glob("*.dist-info/RECORD")}


def warnings(run: Run) -> list[str]:
    return [line for line in run.err.splitlines() if line.startswith("warning:")]


def test_runner_b_takes_every_build_from_runner_a(store: S3Store, fleet: Path, tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    a = runner(tmp_path, "a", fleet, f"remote_cache={store.url}")
    assert a.code == 0, a.err
    assert sorted(line for line in recorded(log) if line.startswith("wheel")) == [
        "wheel gitrec",
        "wheel pathrec",
        "wheel sdrec",
    ]
    uploaded = store.objects()
    assert len([k for k in uploaded if k.endswith("/entry.json")]) == 3
    assert len([k for k in uploaded if k.endswith(".whl")]) == 3
    log.unlink()

    os.environ["WHEELWRIGHT_REMOTE_CACHE"] = store.url  # B names the store the other way
    try:
        b = runner(tmp_path, "b", fleet)
    finally:
        del os.environ["WHEELWRIGHT_REMOTE_CACHE"]
    (tmp_path / "b.events").rename(tmp_path / "b-first.events")
    assert b.code == 0, b.err
    assert recorded(log) == [] and built(tmp_path, "b-first") == set()  # B built nothing at all
    assert taken(tmp_path, "b-first") == {"sdrec", "gitrec", "pathrec"}
    assert warnings(b) == []
    assert installed(tmp_path / "b" / "venv") == installed(tmp_path / "a" / "venv")
    assert records(tmp_path / "b" / "venv") == records(tmp_path / "a" / "venv")
    assert metadata_jsons(tmp_path / "b" / "cache") == metadata_jsons(tmp_path / "a" / "cache")
    again = runner(tmp_path, "b", fleet, f"remote_cache={store.url}")
    assert again.code == 0 and recorded(log) == [] and taken(tmp_path, "b") == set(), again.err

    commit_project_recorded(tmp_path / "repo")
    b2 = runner(tmp_path, "b", fleet, f"remote_cache={store.url}")
    assert b2.code == 0, b2.err
    assert recorded(log) == ["metadata gitrec", "wheel gitrec"]  # only the changed source
    assert len([k for k in store.objects() if k.endswith("/entry.json")]) == 4
    log.unlink()
    a2 = runner(tmp_path, "a", fleet, f"remote_cache={store.url}")
    assert a2.code == 0, a2.err
    assert recorded(log) == [] and taken(tmp_path, "a") == {"gitrec"}  # A took B's new build
    assert "SECOND = 2" in (site_packages(tmp_path / "a" / "venv") / "gitrec" / "__init__.py").read_text()
    assert records(tmp_path / "a" / "venv") == records(tmp_path / "b" / "venv")


def commit_project_recorded(repo: Path) -> None:
    write_tree(repo, recording_tree("gitrec", "1.0", "SECOND = 2\n"))
    git(repo, "commit", "-q", "-am", "second")


def test_a_corrupt_object_is_rejected_and_rebuilt(store: S3Store, fleet: Path, tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    assert runner(tmp_path, "a", fleet, f"remote_cache={store.url}").code == 0
    (key,) = [k for k in store.objects() if k.endswith(".whl") and "/sdrec/" in k]
    store.client().put_object(Bucket=store.bucket, Key=key, Body=b"PK\x03\x04 not the wheel")
    log.unlink()
    c = runner(tmp_path, "c", fleet, f"remote_cache={store.url}")
    assert c.code == 0, c.err
    (line,) = warnings(c)
    assert "rejected sdrec" in line and "expected sha256" in line, line
    assert [r for r in recorded(log) if r.startswith("wheel")] == ["wheel sdrec"]  # only the corrupt one
    assert installed(tmp_path / "c" / "venv") == installed(tmp_path / "a" / "venv")
    log.unlink()
    d = runner(tmp_path, "d", fleet, f"remote_cache={store.url}")  # the rebuild repaired the store
    assert d.code == 0 and warnings(d) == [] and recorded(log) == [], d.err


def test_two_runners_uploading_the_same_keys_at_once(store: S3Store, fleet: Path, tmp_path: Path) -> None:
    done: dict[str, Run] = {}
    epochs = {"a": "1600000000", "b": "1700000000"}  # the two runners' wheels differ in their bytes
    both = [
        threading.Thread(
            target=lambda n=n: done.__setitem__(
                n, runner(tmp_path, n, fleet, f"remote_cache={store.url}", epoch=epochs[n])
            )
        )
        for n in ("a", "b")
    ]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(timeout=300)
    assert done["a"].code == 0 and done["b"].code == 0, done["a"].err + done["b"].err
    assert warnings(done["a"]) == warnings(done["b"]) == []  # a lost race is no fault
    entries = {k: json.loads(v) for k, v in store.objects().items() if k.endswith("/entry.json")}
    assert len(entries) == 3
    c = runner(tmp_path, "c", fleet, f"remote_cache={store.url}")
    assert c.code == 0 and built(tmp_path, "c") == set(), c.err
    wheels = {p.name: p.read_bytes() for p in (tmp_path / "c" / "cache" / "built-wheels-v0").rglob("*.whl")}
    assert {e["wheel"]: e["sha256"] for e in entries.values()} == {
        name: hashlib.sha256(data).hexdigest() for name, data in wheels.items()
    }  # every entry names the very wheel C took
    for name, data in wheels.items():  # ... which one of the runners built, whole
        of_runner = [
            hashlib.sha256(p.read_bytes()).hexdigest() for p in local_wheels(tmp_path, ("a", "b"), name)
        ]
        assert hashlib.sha256(data).hexdigest() in of_runner, name  # (A's and B's differ when both built)


def local_wheels(tmp_path: Path, runners: tuple[str, ...], name: str) -> list[Path]:
    """The wheel called `name` each runner has in its own cache (built there, or taken from the store)."""
    return [p for r in runners for p in (tmp_path / r / "cache" / "built-wheels-v0").rglob(name)]


def test_the_first_entry_of_a_key_wins(store: S3Store) -> None:
    """Two runners publishing one key: the second entry is refused (If-None-Match), not written over."""
    from tasks.core.objectstore import open_store

    shared, key = open_store(store.url), "built-v0/pkg/k1/entry.json"
    assert shared.put_if_absent(key, b'{"first": true}') is True
    assert shared.put_if_absent(key, b'{"second": true}') is False  # lost the race: harmless
    assert store.objects()[f"fleet/{key}"] == b'{"first": true}'


def test_a_store_stopped_mid_run_still_gives_a_successful_sync(
    store: S3Store, fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, gate = tmp_path / "builds.log", tmp_path / "gate"
    monkeypatch.setenv("WW_TEST_BUILD_GATE", str(gate))
    done: list[Run] = []
    sync = threading.Thread(
        target=lambda: done.append(runner(tmp_path, "a", fleet, f"remote_cache={store.url}"))
    )
    sync.start()
    deadline = time.monotonic() + 120
    while not recorded(log) and time.monotonic() < deadline:  # the first build has started
        time.sleep(0.05)
    store.stop()
    gate.touch()
    sync.join(timeout=300)
    (run,) = done
    assert run.code == 0, run.err
    assert installed(tmp_path / "a" / "venv") == {"sdrec": "1.0", "gitrec": "1.0", "pathrec": "1.0"}
    (line,) = warnings(run)  # one warning for the whole run, then the store is left alone
    assert line.startswith(f"warning: remote cache {store.url}: ") and "building locally" in line


def test_a_store_that_is_down_or_denies_is_one_warning(
    fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in aws_environment("http://127.0.0.1:9", tmp_path).items():  # nothing listens on 9
        monkeypatch.setenv(key, value)
    down = runner(tmp_path, "down", fleet, "remote_cache=s3://wheels/fleet")
    assert down.code == 0, down.err
    (line,) = warnings(down)
    assert "remote cache s3://wheels/fleet: reading" in line
    with denying_server() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        denied = runner(tmp_path, "denied", fleet, "remote_cache=s3://wheels/fleet")
    assert denied.code == 0, denied.err
    (line,) = warnings(denied)
    assert "AccessDenied" in line
    for run in (down, denied):
        assert SECRET not in run.out + run.err
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".log" and "venv" not in path.parts:
            assert SECRET.encode() not in path.read_bytes(), path
    off = runner(tmp_path, "off", fleet, "remote_cache=off")
    assert off.code == 0 and warnings(off) == [], off.err


class _Denying(BaseHTTPRequestHandler):
    """Every S3 request refused, as a bucket policy or wrong credentials refuse it."""

    def _deny(self) -> None:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = _deny

    def log_message(self, *args: object) -> None:
        pass


class denying_server:
    def __enter__(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Denying)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


# --- the pieces, in process ---------------------------------------------------------------------


def test_locations_and_where_the_setting_comes_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.core.errors import ConfigError
    from tasks.inputs.config import load_pipeline
    from tasks.source.remote import Location, parse_location

    assert parse_location("s3://wheels/ci/fleet/") == Location("s3://wheels/ci/fleet/")
    assert str(parse_location("s3://wheels/ci/fleet/")) == "s3://wheels/ci/fleet"
    assert parse_location("file:///srv/wheels") == Location("file:///srv/wheels")
    assert parse_location("memory://t") == Location("memory://t")
    assert parse_location("off") is None and parse_location(None) is None
    for bad in ("https://wheels/x", "s3:///x", "wheels/x", "file://relative/dir", "gs://b/p"):
        with pytest.raises(ConfigError):
            parse_location(bad)
    config = tmp_path / "pipeline.yaml"
    config.write_text("remote-cache: s3://from-yaml/p\nenvironments: {}\n")
    assert load_pipeline({}, config).remote_cache == "s3://from-yaml/p"
    monkeypatch.setenv("WHEELWRIGHT_REMOTE_CACHE", "s3://from-env/p")
    assert load_pipeline({}, config).remote_cache == "s3://from-env/p"
    assert load_pipeline({"remote_cache": "off"}, config).remote_cache == "off"


def _interp(*tags: str) -> Interpreter:
    return Interpreter("/py", "/", "/", "3.11.7", {}, tags, {}, {})


def test_the_key_names_what_decides_the_build_and_nothing_of_the_machine() -> None:
    from tasks.source.remote import remote_key
    from tasks.source.trees import Tree

    tree = Tree(Path("/runner-a/src"), "c0ffee", "path/aaaa/c0ffee", {"path": "/runner-a/src"}, None)
    same = Tree(Path("/runner-b/src"), "c0ffee", "path/bbbb/c0ffee", {"path": "/runner-b/src"}, None)
    key = remote_key("Pkg", tree, _interp("cp311-cp311-linux_x86_64", "py3-none-any"))
    assert key == remote_key("pkg", same, _interp("cp311-cp311-linux_x86_64", "py3-none-any"))
    others = {
        remote_key(
            "pkg", Tree(tree.path, "decade", tree.bucket), _interp("cp311-cp311-linux_x86_64", "py3-none-any")
        ),
        remote_key("pkg", tree, _interp("cp312-cp312-linux_x86_64", "py3-none-any")),
        remote_key("pkg", tree, _interp("cp311-cp311-linux_x86_64", "py3-none-any"), {"--build-option": "x"}),
        remote_key(
            "pkg",
            Tree(tree.path, "c0ffee", tree.bucket, {}, {"url": "u", "subdirectory": "sub"}),
            _interp("cp311-cp311-linux_x86_64", "py3-none-any"),
        ),
        remote_key("other", tree, _interp("cp311-cp311-linux_x86_64", "py3-none-any")),
        remote_key(
            "pkg",
            Tree(tree.path, "c0ffee", tree.bucket, {"config_settings": {"build-option": "y"}}),
            _interp("cp311-cp311-linux_x86_64", "py3-none-any"),
        ),
    }
    assert key not in others and len(others) == 6


def test_a_store_that_never_answers_times_out_into_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loopback socket that accepts and never answers (a fault moto cannot be made to produce)."""
    import socket

    from tasks.core import objectstore
    from tasks.core.events import Event, set_reporter
    from tasks.source.remote import SharedCache, parse_location
    from tasks.source.trees import Tree

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    for key, value in aws_environment(f"http://127.0.0.1:{silent.getsockname()[1]}", tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(objectstore, "READ_TIMEOUT", 0.5)
    seen: list[Event] = []

    class Recorder:
        def event(self, e: Event) -> None:
            seen.append(e)

    previous = set_reporter(Recorder())
    store = SharedCache(parse_location("s3://wheels/fleet"))  # the run's store, handed as a run makes it
    try:
        tree = Tree(tmp_path, "c0ffee", "git/abcd/c0ffee", {}, None)
        assert store.pull("pkg", tree, _interp("py3-none-any"), tmp_path / "cache", None) is None
        assert store.configured() is None  # switched off for the rest of the run: no second wait
        assert store.pull("pkg", tree, _interp("py3-none-any"), tmp_path / "cache", None) is None
    finally:
        set_reporter(previous)
        silent.close()
    (warning,) = [e for e in seen if e.kind == "warning"]
    assert "remote cache s3://wheels/fleet: reading pkg failed" in str(warning.message)
    assert "timeout" in str(warning.message).lower() and SECRET not in str(warning.message)
