"""Error classes: one per failure kind, with its facts as fields, one line as text, pickled whole."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import pytest

from tasks.core import errors
from tasks.core.errors import (
    BuildError,
    CacheEntryDamaged,
    GitRefNotFound,
    HashMismatch,
    IncompatibleWheel,
    IndexUnavailable,
    InstallError,
    MetadataMismatch,
    NoMatchingDistribution,
    SourceError,
    UnsafeSource,
    WheelwrightError,
)
from tasks.envs.interpreter import Interpreter
from tasks.inputs.sources import GitSource, PathSource
from tasks.source.git import resolve_ref
from tasks.wheels.direct import fetch_direct_wheel
from tests.support.wheels import make_wheel

SAMPLES = [
    HashMismatch(package="demo", source="http://127.0.0.1:1/demo.whl", expected=["bb", "aa"], got="cc"),
    GitRefNotFound("nope", package="demo", source="git+file:///r@nope"),
    IncompatibleWheel(
        package="demo", source="/w/demo.whl", filename="demo-1-cp99-none-any.whl", python="3.11"
    ),
    MetadataMismatch(package="demo", found="other"),
    NoMatchingDistribution("no file fits", package="demo==1.0", source="http://127.0.0.1:1/simple"),
    SourceError("path does not exist", package="demo", source="/nowhere"),
    UnsafeSource("git URL scheme 'ext' is not allowed", package="demo", source="ext::sh"),
    CacheEntryDamaged("RECORD mismatch", package="demo", source="/c/archive-v0/ab"),
    WheelwrightError("plain", package=None, source=None),
]


def fields(error: BaseException) -> dict[str, object]:
    return dict(vars(error))


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_pickling_keeps_class_fields_and_line(error: WheelwrightError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert fields(again) == fields(error)
    assert str(again) == str(error) and again.args == error.args


def test_hash_mismatch_fields_and_line() -> None:
    source = "http://127.0.0.1:1/demo.whl"
    error = HashMismatch(package="demo", source=source, expected=["aa", "bb"], got="cc")
    assert error.expected == ("aa", "bb") and error.got == "cc"
    assert str(error) == "demo (http://127.0.0.1:1/demo.whl): hash mismatch: expected sha256 aa, bb, got cc"


def test_incompatible_wheel_is_an_install_error_with_fields(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "demo", "1.0", tag="cp99-cp99-manylinux_2_17_x86_64")
    interp = Interpreter("/py", "/p", "/p", "3.11.7", {}, ("py3-none-any",), {}, {})
    with pytest.raises(IncompatibleWheel) as caught:
        fetch_direct_wheel("demo", PathSource(wheel), frozenset(), interp, tmp_path / "cache")  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, InstallError) and not isinstance(error, BuildError)
    assert (error.filename, error.python, error.package) == (wheel.name, "3.11.7", "demo")
    assert str(error) == f"demo ({wheel}): wheel {wheel.name} does not fit Python 3.11.7"


def test_missing_git_ref_names_the_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    who = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    env = {**os.environ, **who}
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "one"], check=True, env=env
    )
    source = GitSource(repo.as_uri(), "no-such-branch")
    with pytest.raises(GitRefNotFound) as caught:
        resolve_ref(source, package="demo")
    error = caught.value
    assert isinstance(error, SourceError) and isinstance(error, BuildError)  # `except BuildError` still holds
    assert error.ref == "no-such-branch" and error.package == "demo"
    assert str(error) == f"demo ({source.describe()}): git ref 'no-such-branch' does not exist"


def test_index_error_is_renamed_without_an_alias() -> None:
    assert issubclass(NoMatchingDistribution, IndexUnavailable)
    assert not hasattr(errors, "IndexError_")
