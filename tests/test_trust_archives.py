"""Wheels that read two ways, lie about themselves or replace the interpreter; a shared cache that plants one.

End to end through `./doit sync` against the loopback index: each hostile wheel is refused in one
`error:` line naming the package and the wheel, exit status 1, and the environment is as it was (it
still runs Python). The zips are written byte by byte (tests/support/zips.py) where zipfile cannot.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tasks.wheels.zipcheck import archive_problem
from tests.e2e import Run, installed, site_packages, sync, tree_snapshot
from tests.support.index_server import IndexServer
from tests.support.s3 import S3Store, recorded, recording_tree, write_tree
from tests.support.wheels import make_wheel
from tests.support.zips import Entry, entries_of, local_header, raw_zip, wheel_members, with_record
from tests.test_build_e2e import backends  # noqa: F401 (a fixture)
from tests.test_remote_cache import runner, store, warnings  # noqa: F401 (store: a fixture)

pytestmark = pytest.mark.usefixtures("isolated_env")

HOSTILE = "twoway-1.0-py3-none-any.whl"


def lock(tmp_path: Path, index: IndexServer, *lines: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("\n".join([f"--index-url {index.url}", *lines]) + "\n")
    return path


def good_members(tmp_path: Path, name: str = "twoway", body: str = "SHOWN = 'front'\n") -> dict[str, bytes]:
    wheel = make_wheel(tmp_path / "made" / body.split()[0], name, "1.0", files={f"{name}/__init__.py": body})
    return wheel_members(wheel)


def ready_venv(
    tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> tuple[Path, dict[str, tuple[int, int]]]:
    """A synced environment (base==1.0) and a snapshot of its files."""
    make_wheel(wheelhouse, "base", "1.0")
    venv = tmp_path / "venv"
    first = sync(lock(tmp_path, index, "base==1.0"), venv, tmp_path / "cache")
    assert first.code == 0, first.err
    return venv, tree_snapshot(venv)


def assert_refused(run: Run, package: str, *words: str) -> None:
    assert run.code == 1, run.out + run.err
    assert len(run.errors) == 1, run.err
    line = run.errors[0]
    assert line.startswith(f"error: {package}") and all(w in line for w in words), line
    assert "Traceback" not in run.err, run.err


def assert_unchanged(venv: Path, before: dict[str, tuple[int, int]]) -> None:
    assert tree_snapshot(venv) == before
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "print('alive')"], capture_output=True, text=True
    )
    assert done.stdout == "alive\n", done.stderr
    assert installed(venv) == {"base": "1.0"}


def sync_hostile(tmp_path: Path, index: IndexServer, venv: Path, pin: str) -> Run:
    return sync(lock(tmp_path, index, "base==1.0", pin), venv, tmp_path / "cache")


# --- a zip that reads two ways -------------------------------------------------------------------


def appended(tmp_path: Path) -> bytes:
    """A wheel with a second wheel appended: a reader from the back (zipfile) sees the second one."""
    front = raw_zip(entries_of(good_members(tmp_path)))
    back = raw_zip(entries_of(good_members(tmp_path, body="SHOWN = 'back'\n")))
    return front + back


def trailing(tmp_path: Path) -> bytes:
    return raw_zip(entries_of(good_members(tmp_path))) + b"\0" * 100


def local_disagrees(tmp_path: Path) -> bytes:
    """The local header of twoway/__init__.py gives another CRC and size than the central directory."""
    entries = entries_of(good_members(tmp_path))
    for entry in entries:
        if entry.name == "twoway/__init__.py":
            entry.local_crc, entry.local_size = 0x12345678, 5
    return raw_zip(entries)


def duplicated(tmp_path: Path) -> bytes:
    """twoway/__init__.py twice, with different contents (RECORD matches the first)."""
    entries = entries_of(with_record(good_members(tmp_path)))
    entries.insert(1, Entry("twoway/__init__.py", b"SHOWN = 'second'\n"))
    return raw_zip(entries)


def overlapping(tmp_path: Path) -> bytes:
    """twoway/hidden.py lives inside the stored data of twoway/blob.bin (both in RECORD, both readable)."""
    hidden = Entry("twoway/hidden.py", b"HIDDEN = True\n")
    members = with_record(
        {**good_members(tmp_path), "twoway/blob.bin": local_header(hidden), hidden.name: hidden.data}
    )
    entries = [Entry(name, data) for name, data in members.items() if name != hidden.name]
    blobs, at = [], 0
    for entry in entries:
        entry.offset = at
        blobs.append(local_header(entry))
        at += len(blobs[-1])
        if entry.name == "twoway/blob.bin":
            hidden.offset = entry.offset + 30 + len(entry.name)
    return raw_zip([*entries, hidden], b"".join(blobs))


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (appended, ["central directory is not where the end record says"]),
        (trailing, ["100 bytes after the end of central directory record"]),
        (local_disagrees, ["twoway/__init__.py", "CRC-32 305419896 in its local header"]),
        (duplicated, ["two entries named 'twoway/__init__.py'"]),
        (overlapping, ["twoway/hidden.py", "overlaps"]),
    ],
    ids=[
        "appended-archive",
        "trailing-bytes",
        "local-header-differs",
        "duplicate-names",
        "overlapping-entries",
    ],
)
def test_a_zip_that_reads_two_ways_is_refused(
    build: object, words: list[str], tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> None:
    venv, before = ready_venv(tmp_path, index, wheelhouse)
    data = build(tmp_path)  # type: ignore[operator]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # zipfile itself reads it without a word
        assert "twoway/__init__.py" in zf.namelist()
    (wheelhouse / HOSTILE).write_bytes(data)
    run = sync_hostile(tmp_path, index, venv, "twoway==1.0")
    assert_refused(run, "twoway", f"invalid wheel {HOSTILE}", *words)
    assert_unchanged(venv, before)
    assert not list((tmp_path / "cache").glob("archive-v0/*/twoway"))  # nothing unpacked into the cache


def test_a_direct_url_wheel_is_validated_too(tmp_path: Path, index: IndexServer, wheelhouse: Path) -> None:
    venv, before = ready_venv(tmp_path, index, wheelhouse)
    path = tmp_path / "direct" / HOSTILE
    path.parent.mkdir()
    path.write_bytes(appended(tmp_path))
    run = sync_hostile(tmp_path, index, venv, f"twoway @ {path.as_uri()}")
    assert_refused(run, "twoway", f"invalid wheel {HOSTILE}")
    assert_unchanged(venv, before)


# --- a wheel that lies about itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ("Name: liar\nVersion: 2.0\n", "METADATA says liar 2.0"),
        ("Name: honest\nVersion: 1.0\n", "METADATA says honest 1.0"),
    ],
    ids=["version", "name"],
)
def test_metadata_that_contradicts_the_filename_is_refused(
    metadata: str, says: str, tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> None:
    venv, before = ready_venv(tmp_path, index, wheelhouse)
    members = wheel_members(make_wheel(tmp_path / "made", "liar", "1.0"))
    members["liar-1.0.dist-info/METADATA"] = f"Metadata-Version: 2.1\n{metadata}\n".encode()
    (wheelhouse / "liar-1.0-py3-none-any.whl").write_bytes(raw_zip(entries_of(with_record(members))))
    run = sync_hostile(tmp_path, index, venv, "liar==1.0")
    assert_refused(run, "liar", "liar-1.0-py3-none-any.whl", says, "its filename says liar 1.0")
    assert_unchanged(venv, before)


def test_equal_names_and_versions_in_other_spellings_are_accepted(
    tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> None:
    members = wheel_members(make_wheel(tmp_path / "made", "spelled-out", "1.0"))
    members["spelled_out-1.0.dist-info/METADATA"] = (
        b"Metadata-Version: 2.1\nName: Spelled.Out\nVersion: 1.0.0\n\n"
    )
    (wheelhouse / "spelled_out-1.0-py3-none-any.whl").write_bytes(raw_zip(entries_of(with_record(members))))
    run = sync(lock(tmp_path, index, "spelled-out==1.0"), tmp_path / "venv", tmp_path / "cache")
    assert run.code == 0, run.err


# --- a wheel that replaces the interpreter -------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "file"),
    [
        ({"console_scripts": {"python": "shadow:main"}}, "bin/python"),
        ({"console_scripts": {"activate": "shadow:main"}}, "bin/activate"),
        ({"data_scripts": {"python3": "print('not python')\n"}}, "shadow-1.0.data/scripts/python3"),
        (
            {"data_scripts": {f"python3.{sys.version_info[1]}": "pass\n"}},
            f"data/scripts/python3.{sys.version_info[1]}",
        ),
        (
            {"files": {"shadow/__init__.py": "", "shadow-1.0.data/data/pyvenv.cfg": "home = /nowhere\n"}},
            "shadow-1.0.data/data/pyvenv.cfg",
        ),
    ],
    ids=["console-python", "console-activate", "data-python3", "data-python3.N", "data-pyvenv.cfg"],
)
def test_a_wheel_that_replaces_the_interpreter_is_refused(
    options: dict[str, object], file: str, tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> None:
    venv, before = ready_venv(tmp_path, index, wheelhouse)
    files = {"shadow/__init__.py": "def main():\n    pass\n"}
    make_wheel(wheelhouse, "shadow", "1.0", **{"files": files, **options})  # type: ignore[arg-type]
    run = sync_hostile(tmp_path, index, venv, "shadow==1.0")
    assert_refused(run, "shadow", "wheel shadow-1.0-py3-none-any.whl would replace", file)
    assert_unchanged(venv, before)


def test_scripts_that_only_start_like_the_interpreter_are_installed(
    tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> None:
    scripts = {"python-tool": "shadow:main", "activate-global-python-argcomplete": "shadow:main"}
    make_wheel(wheelhouse, "shadow", "1.0", files={"shadow/__init__.py": "def main():\n    pass\n"},
               console_scripts=scripts)  # fmt: skip
    venv = tmp_path / "venv"
    run = sync(lock(tmp_path, index, "shadow==1.0"), venv, tmp_path / "cache")
    assert run.code == 0, run.err
    assert all((venv / "bin" / name).is_file() for name in scripts)


# --- the validator itself (pure) -----------------------------------------------------------------


class _Stream:
    """An output without tell(): zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, data: bytes) -> int:
        return self.buffer.write(data)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("streamed", [False, True], ids=["seekable", "data-descriptors"])
@pytest.mark.parametrize("zip64", [False, True], ids=["zip32", "zip64"])
def test_the_validator_accepts_what_zipfile_writes(streamed: bool, zip64: bool, tmp_path: Path) -> None:
    out = _Stream() if streamed else io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        for n in range(3):
            with zf.open(f"pkg/m{n}.py", "w", force_zip64=zip64) as member:
                member.write(b"x = 1\n" * 100)
        zf.writestr("pkg/empty/", b"")
    data = out.buffer.getvalue() if isinstance(out, _Stream) else out.getvalue()
    assert all(bool(i.flag_bits & 0x08) == streamed for i in zipfile.ZipFile(io.BytesIO(data)).infolist()[:3])
    assert archive_problem(data) is None
    wheel = make_wheel(tmp_path, "plain", "1.0", console_scripts={"plain": "plain:main"})
    assert archive_problem(wheel.read_bytes()) is None


def test_the_validator_names_each_problem(tmp_path: Path) -> None:
    good = raw_zip(entries_of(good_members(tmp_path)))
    assert archive_problem(good) is None
    assert archive_problem(b"") == "no end of central directory record"
    assert archive_problem(good[:-5]) is not None
    assert "not where the end record says" in str(archive_problem(b"\0" * 10 + good))  # prepended bytes
    renamed = entries_of(good_members(tmp_path))
    renamed[0].local_name = renamed[0].name[:-1] + "X"
    assert "its local header names" in str(archive_problem(raw_zip(renamed)))
    for build in (appended, trailing, local_disagrees, duplicated, overlapping):
        assert archive_problem(build(tmp_path)) is not None, build.__name__


# --- the shared cache, checked like the local one -----------------------------------------------


def planted(s3: S3Store, wheel_name: str, members: dict[str, bytes], claims: dict[str, str]) -> None:
    """Replace sdrec's shared entry (same key) with `members` as `wheel_name`, its entry.json consistent
    (its metadata with `claims` in place, as the planted METADATA says)."""
    client = s3.client()
    (entry_key,) = [k for k in s3.objects() if k.endswith("/entry.json") and "/sdrec/" in k]
    entry = json.loads(client.get_object(Bucket=s3.bucket, Key=entry_key)["Body"].read())
    data = raw_zip(entries_of(with_record(members)))
    sha = hashlib.sha256(data).hexdigest()
    base = entry_key.rsplit("/", 1)[0]
    client.put_object(Bucket=s3.bucket, Key=f"{base}/{sha}/{wheel_name}", Body=data)
    metadata = {**entry["metadata"], **claims}
    entry.update(wheel=wheel_name, sha256=sha, size=len(data), metadata=metadata)
    client.put_object(Bucket=s3.bucket, Key=entry_key, Body=json.dumps(entry).encode())


def other_python_tag() -> str:
    minor = sys.version_info[1]
    other = minor + 1 if minor < 13 else minor - 1
    return f"cp3{other}-cp3{other}-manylinux_2_17_x86_64"


def renamed_members(members: dict[str, bytes], old: str, new: str) -> dict[str, bytes]:
    return {k.replace(old, new): v for k, v in members.items()}


def test_a_shared_cache_wheel_is_checked_like_any_wheel(
    store: S3Store,  # noqa: F811
    backends: Path,  # noqa: F811
    index: IndexServer,
    tmp_path: Path,
) -> None:
    sdist_dir = tmp_path / "sdist-src"
    write_tree(sdist_dir / "sdrec-1.0", recording_tree("sdrec", "1.0"))
    shutil.make_archive(str(backends / "sdrec-1.0"), "gztar", sdist_dir, "sdrec-1.0")
    pins = lock(tmp_path, index, "sdrec==1.0")
    log = tmp_path / "builds.log"
    assert runner(tmp_path, "a", pins, f"remote_cache={store.url}").code == 0
    (wheel_key,) = [k for k in store.objects() if k.endswith(".whl")]
    good = wheel_members_of(store.objects()[wheel_key])
    tag = other_python_tag()
    other_tag = {k: v.replace(b"Tag: py3-none-any", f"Tag: {tag}".encode()) for k, v in good.items()}
    meta = "sdrec-1.0.dist-info/METADATA"
    liar = {**good, meta: good[meta].replace(b"Name: sdrec", b"Name: evil")}
    newer = renamed_members(good, "sdrec-1.0.dist-info", "sdrec-2.0.dist-info")
    newer["sdrec-2.0.dist-info/METADATA"] = good[meta].replace(b"Version: 1.0", b"Version: 2.0")
    cases = [
        ("tags", f"sdrec-1.0-{tag}.whl", other_tag, {}, "does not fit Python"),
        ("name", "sdrec-1.0-py3-none-any.whl", liar, {"name": "evil"}, "METADATA says evil 1.0"),
        ("version", "sdrec-2.0-py3-none-any.whl", newer, {"version": "2.0"}, "source is version 1.0"),
    ]
    for case, wheel_name, members, claimed, words in cases:
        planted(store, wheel_name, members, claimed)
        log.unlink(missing_ok=True)
        run = runner(tmp_path, case, pins, f"remote_cache={store.url}")
        assert run.code == 0, run.err
        (line,) = warnings(run)  # warned once, then built here
        assert f"rejected sdrec ({wheel_name}" in line and words in line and "building it locally" in line, (
            line
        )
        assert "wheel sdrec" in recorded(log), case
        venv = tmp_path / case / "venv"
        assert installed(venv) == {"sdrec": "1.0"}, case
        (wheel_file,) = site_packages(venv).glob("sdrec-1.0.dist-info/WHEEL")
        assert "Tag: py3-none-any" in wheel_file.read_text(), case


def wheel_members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_which_names_replace_the_interpreter() -> None:
    from tasks.wheels.trust import identity_problem, protected_name, replaced_environment_file

    refused = ["python", "python3", "python3.12", "pythonw", "python.exe", "activate", "activate.fish"]
    refused += ["Activate.ps1", "activate_this.py", "activate.csh"]
    assert all(protected_name(n) for n in refused)
    kept = ["python-tool", "pythonic", "activate-global-python-argcomplete", "py", "pip", "ipython"]
    assert not any(protected_name(n) for n in kept)
    rows = ["x-1.data/data/share/pyvenv.cfg", "x-1.data/data/lib/x.py", "x-1.data/scripts/tool"]
    assert replaced_environment_file(["tool"], rows, "x-1.data") is None
    assert replaced_environment_file([], ["x-1.data/data/lib/../bin/python3"], "x-1.data") is not None
    assert (
        replaced_environment_file([], ["x-1.data/data/pyvenv.cfg"], "x-1.data") == "x-1.data/data/pyvenv.cfg"
    )
    assert identity_problem("foo_bar-1.0-py3-none-any.whl", "Name: Foo.Bar\nVersion: 1.0.0\n") is None
    assert identity_problem("foo-1.0-py3-none-any.whl", "Name: foo\nVersion: one\n") is not None
