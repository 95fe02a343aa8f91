"""The no-op decided before doit starts (tasks/run/early_noop.py), in parts: what declines it, what its stamps
see, what the lock side leaves out, and how the command line is read before doit reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.inputs.variables import read_before_doit, value
from tasks.run import early_noop as noop
from tasks.run.outline import EnvOutline, Outline


@pytest.fixture
def given() -> Iterator[None]:
    yield
    read_before_doit(None)


@pytest.mark.parametrize(
    "words",
    [["dry=1"], ["check=1"], ["offline=1"], ["verbose=1"], ["report=r.json"], ["timings=t.html"],
     ["shard=1/2"], ["truststore=1"], ["timeout=soon"]],
)  # fmt: skip
def test_what_only_the_full_path_does_declines_it(given: None, words: list[str]) -> None:
    read_before_doit(["sync", *words])
    assert noop.declined()


@pytest.mark.parametrize("words", [[], ["quiet=1"], ["strict=1"], ["timeout=5"], ["dry=0", "offline=no"]])
def test_a_plain_sync_is_not_declined(given: None, words: list[str]) -> None:
    read_before_doit(["sync", *words])
    assert not noop.declined()


def test_pips_no_index_and_the_truststore_environment_decline_it(
    given: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_before_doit(["sync"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert noop.declined()
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("WHEELWRIGHT_TRUSTSTORE", "1")
    assert noop.declined()


def test_the_command_line_is_read_as_doit_reads_it(given: None) -> None:
    read_before_doit(["sync", "req=a=b.txt", "-n", "2", "--opt=x", "quiet=1"])
    assert value("req") == "a=b.txt" and value("quiet") == "1" and value("venv") is None


@pytest.mark.parametrize("argv", [["lock"], ["sync", "-n", "2"], ["sync", "fetch"], ["fetch:pkg"], ["list"]])
def test_only_a_plain_sync_is_decided_early(
    given: None, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unread() -> Path:
        raise AssertionError("the memo is not even read")

    read_before_doit(argv)
    monkeypatch.setattr(noop, "_memo_path", unread)
    assert noop.nothing_to_do(argv) is None
    with pytest.raises(AssertionError):
        noop.nothing_to_do(["sync"])  # a plain sync reads it


def site(tmp_path: Path) -> Path:
    path = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for name in ("a", "b"):
        dist = path / f"{name}-1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Name: {name}\nVersion: 1.0\n\n")
        (dist / "RECORD").write_text("")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return path


@pytest.mark.parametrize("change", ["metadata", "record", "direct_url", "new", "gone", "pyvenv"])
def test_the_environment_stamps_see_what_the_quick_check_reads(tmp_path: Path, change: str) -> None:
    where = site(tmp_path)
    before = noop.env_stamps(str(tmp_path / "venv"), [str(where)])
    if change == "metadata":
        (where / "a-1.0.dist-info" / "METADATA").write_text("Name: a\nVersion: 2.0\n\n")
    elif change == "record":
        (where / "a-1.0.dist-info" / "RECORD").unlink()
    elif change == "direct_url":
        (where / "b-1.0.dist-info" / "direct_url.json").write_text("{}")
    elif change == "new":
        (where / "c-1.0.dist-info").mkdir()
    elif change == "gone":
        (where / "b-1.0.dist-info" / "METADATA").unlink()
        (where / "b-1.0.dist-info" / "RECORD").unlink()
        (where / "b-1.0.dist-info").rmdir()
    else:
        (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /opt/python/bin\n")
    assert noop.env_stamps(str(tmp_path / "venv"), [str(where)]) != before


def test_the_lock_side_leaves_out_what_the_run_itself_changes(tmp_path: Path) -> None:
    env = EnvOutline("cli", "", path=str(tmp_path / "venv"))
    memo = Outline(str(tmp_path / "cache"), [env], [])
    planned = [
        (str(tmp_path / "lock.txt"), "1:1"),
        (str(tmp_path / "venv" / "pyvenv.cfg"), "missing"),
        (str(tmp_path / "cache" / "chosen-v0" / "x.json"), "missing"),
        (str(tmp_path / "venv-other.txt"), "2:2"),  # beside the environment, not in it
    ]
    assert noop._lock_side(planned, memo) == [planned[0], planned[3]]


def test_a_damaged_task_state_is_left_to_the_full_path(tmp_path: Path) -> None:
    state = tmp_path / "doit-state.sqlite3"
    assert noop._state_readable(state)  # none yet: doit makes it
    state.write_bytes(b"")
    assert noop._state_readable(state)
    state.write_bytes(noop.SQLITE_HEADER + b"\x10\x00" * 50)
    assert noop._state_readable(state)
    state.write_bytes(b"\x00not a database" * 20)
    assert not noop._state_readable(state)
