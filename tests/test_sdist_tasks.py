"""Index sdists as tasks (`build_meta:<pkg>`, `build_wheel:<pkg>`) and PEP 517 config_settings, end to end."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.e2e import doit, site_packages, sync, tree_snapshot
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel
from tests.test_build_e2e import backends as backends_fixture
from tests.test_build_e2e import lock_file, metadata_files

backends = backends_fixture  # the pinned build backends on the loopback index (a fixture)

pytestmark = pytest.mark.usefixtures("isolated_env")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def built(cache: Path) -> list[Path]:
    return sorted((cache / "built-wheels-v0").rglob("*.whl"))


def test_index_sdist_tasks_cold_fresh_and_rehashed(
    index: IndexServer, backends: Path, tmp_path: Path
) -> None:
    index.max_age = 0  # pages revalidated on every read, so the republished sdist below is seen
    sdist = make_sdist(backends, "sdonly", "1.0", backend="setuptools", requires_dist=["dep"])
    make_wheel(backends, "dep", "1.0")
    lock = lock_file(
        tmp_path / "lock.txt", index.url, f"sdonly==1.0 --hash=sha256:{sha256(sdist)}", "dep==1.0"
    )
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    words = (f"req={lock}", f"venv={venv}", f"cache={cache}")

    listed = doit("list", "--all", *words)
    assert "build_meta:sdonly" in listed.out and "build_wheel:sdonly" in listed.out, listed.out + listed.err
    meta = doit("build_meta:sdonly", *words)  # cold: nothing known about the pin yet
    assert meta.code == 0, meta.err
    (path,) = metadata_files(cache)
    bucket = path.parent.relative_to(cache / "built-wheel-metadata-v0")
    assert bucket.parts[0] == "index" and bucket.name == "sdonly-1.0.tar.gz"
    assert f"build_meta:sdonly: {path}" in meta.out
    assert json.loads(path.read_text())["prepared"]["requires-dist"] == ["dep"] and built(cache) == []
    wheel = doit("build_wheel:sdonly", *words)
    assert wheel.code == 0, wheel.err
    assert [w.name for w in built(cache)] == ["sdonly-1.0-py3-none-any.whl"]
    assert built(cache)[0].parent.relative_to(cache / "built-wheels-v0") == bucket

    before = tree_snapshot(cache / "built-wheel-metadata-v0"), tree_snapshot(cache / "built-wheels-v0")
    index.clear_log()
    again = doit("build_wheel:sdonly", *words)
    assert again.code == 0, again.err
    assert again.ran == (), again.ran
    assert index.requests == []  # the pin's kind and sha256 came from what the first run recorded
    assert (
        tree_snapshot(cache / "built-wheel-metadata-v0"),
        tree_snapshot(cache / "built-wheels-v0"),
    ) == before
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert not any(t.startswith("build_") for t in first.ran)  # sdonly's wheel is the one built above
    assert not any("sdonly" in r.path for r in index.requests)  # no page of the sdist's project read

    info = doit("info", "build_wheel:sdonly", *words)
    assert info.code == 0 and "build_meta:sdonly" in info.out, info.out + info.err
    assert doit("forget", "build_meta:sdonly", *words).code == 0
    forgotten = doit("build_meta:sdonly", *words)
    assert forgotten.code == 0 and "build_meta:sdonly" in forgotten.ran
    assert tree_snapshot(cache / "built-wheels-v0") == before[1]  # ran again, reused metadata.json

    republished = make_sdist(
        tmp_path / "new", "sdonly", "1.0", backend="setuptools", files={"sdonly/extra.py": "EXTRA = 1\n"}
    )
    shutil.copy(republished, backends / sdist.name)
    lock_file(lock, index.url, f"sdonly==1.0 --hash=sha256:{sha256(republished)}", "dep==1.0")
    rebuilt = sync(lock, venv, cache)
    assert rebuilt.code == 0, rebuilt.err
    assert "build_meta:sdonly" in rebuilt.ran and "build_wheel:sdonly" in rebuilt.ran
    assert json.loads(path.read_text())["source"]["sha256"] == sha256(republished)
    (wheel_file,) = built(cache)  # the stale wheel is gone, the new one has the new file
    assert "sdonly/extra.py" in zipfile.ZipFile(wheel_file).namelist()


def test_index_wheel_pins_pass_through_quietly(index: IndexServer, backends: Path, tmp_path: Path) -> None:
    make_wheel(backends, "plain", "1.0")
    lock = lock_file(tmp_path / "lock.txt", index.url, "plain==1.0")
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert "fetch:plain" in first.ran and not any(t.startswith("build_") for t in first.ran)
    assert "build_" not in first.out  # nothing printed about the build tasks of a wheel pin
    listed = doit("list", "--all", f"req={lock}", f"venv={venv}", f"cache={cache}")
    assert "fetch:plain" in listed.out and "build_meta:plain" not in listed.out  # known now: a wheel
    second = sync(lock, venv, cache)
    assert second.code == 0 and set(second.ran) == {"sync:cli", "sync"}, second.out + second.err


# --- config_settings --------------------------------------------------------------------------

BACKEND = '''
"""An in-tree backend that logs each build_wheel call and puts the `flavour` setting in the wheel."""
import base64, hashlib, json, os, zipfile

LOG = {log!r}
NAME, VERSION = {name!r}, "1.0"
METADATA = f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n"
WHEEL = "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(directory, config_settings=None):
    info = os.path.join(directory, f"{{NAME}}-{{VERSION}}.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write(METADATA)
    return os.path.basename(info)


def digest(text):
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def build_wheel(directory, config_settings=None, metadata_directory=None):
    settings = config_settings or {{}}
    with open(LOG, "a") as log:
        log.write(json.dumps([NAME, settings]) + "\\n")
    files = {{
        f"{{NAME}}_flavour.py": f"FLAVOUR = {{settings.get('flavour')!r}}\\n",
        f"{{NAME}}-{{VERSION}}.dist-info/METADATA": METADATA,
        f"{{NAME}}-{{VERSION}}.dist-info/WHEEL": WHEEL,
    }}
    record = [f"{{p}},sha256={{digest(t)}},{{len(t.encode())}}" for p, t in files.items()]
    record.append(f"{{NAME}}-{{VERSION}}.dist-info/RECORD,,")
    filename = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{{NAME}}-{{VERSION}}.dist-info/RECORD", "\\n".join(record) + "\\n")
    return filename
'''


def recording_project(root: Path, name: str, log: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (root / "backend.py").write_text(BACKEND.format(log=str(log), name=name))
    return root


def builds(log: Path) -> list[list[object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def flavour(venv: Path, name: str) -> str:
    return (site_packages(venv) / f"{name}_flavour.py").read_text()


def test_a_changed_config_setting_rebuilds_exactly_one_source(index: IndexServer, tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    one, two = (
        recording_project(tmp_path / "one", "one", log),
        recording_project(tmp_path / "two", "two", log),
    )
    lines = [f"two @ {two.as_uri()} -C flavour=plain"]
    lock = lock_file(
        tmp_path / "lock.txt", index.url, f"one @ {one.as_uri()} --config-settings flavour=red", *lines
    )
    cache, venv = tmp_path / "cache", tmp_path / "venv"
    first = sync(lock, venv, cache)
    assert first.code == 0, first.err
    assert sorted(builds(log)) == [["one", {"flavour": "red"}], ["two", {"flavour": "plain"}]]
    assert flavour(venv, "one") == "FLAVOUR = 'red'\n"
    assert sync(lock, venv, cache).code == 0 and len(builds(log)) == 2  # fresh: nothing built

    lock_file(lock, index.url, f"one @ {one.as_uri()} --config-settings=flavour=blue", *lines)
    changed = sync(lock, venv, cache)
    assert changed.code == 0, changed.err
    assert builds(log)[2:] == [["one", {"flavour": "blue"}]]  # one rebuilt, two untouched
    assert flavour(venv, "one") == "FLAVOUR = 'blue'\n" and flavour(venv, "two") == "FLAVOUR = 'plain'\n"
    entries = [json.loads(p.read_text()) for p in metadata_files(cache)]
    assert sorted(e["source"].get("config_settings", {}).get("flavour") for e in entries) == ["blue", "plain"]


def test_pipeline_config_settings_apply_to_every_build_of_the_env(index: IndexServer, tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    one, two = (
        recording_project(tmp_path / "one", "one", log),
        recording_project(tmp_path / "two", "two", log),
    )
    lock = lock_file(
        tmp_path / "lock.txt", index.url, f"one @ {one.as_uri()}", f"two @ {two.as_uri()} -C flavour=own"
    )
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        f"cache: {tmp_path / 'cache'}\nenvironments:\n  e:\n    requirements: {lock}\n"
        f"    path: {tmp_path / 'venv'}\n    config-settings: {{flavour: env}}\n"
    )
    run = doit("sync", f"config={config}")
    assert run.code == 0, run.err
    assert sorted(builds(log)) == [["one", {"flavour": "env"}], ["two", {"flavour": "own"}]]  # the line wins


def test_lock_keeps_config_settings_on_the_line(index: IndexServer, tmp_path: Path) -> None:
    log = tmp_path / "builds.log"
    one = recording_project(tmp_path / "one", "one", log)
    (tmp_path / "in.in").write_text(
        f"-i {index.url}\none @ {one.as_uri()} --config-settings flavour=red -C x=1\n"
    )
    run = doit(
        "lock", f"req={tmp_path / 'in.in'}", f"out={tmp_path / 'out.txt'}", f"cache={tmp_path / 'cache'}"
    )
    assert run.code == 0, run.err
    text = (tmp_path / "out.txt").read_text()
    assert f"one @ {one.as_uri()} --config-settings flavour=red --config-settings x=1" in text, text
