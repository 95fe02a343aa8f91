"""The one stream-hash-write loop (tasks.core.download.write_stream): refused content leaves nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.core.download import write_stream


class Refused(Exception):
    pass


def test_content_is_hashed_and_renamed_where_its_digest_says(tmp_path: Path) -> None:
    chunks = [b"abc", b"", b"def"]
    want = hashlib.sha256(b"abcdef").hexdigest()
    seen: list[int] = []
    sha, size = write_stream(
        iter(chunks),
        tmp_path / "incoming" / "x.tar.gz",
        place=lambda s: tmp_path / s / "x.tar.gz",
        advance=seen.append,
    )
    assert (sha, size, sum(seen)) == (want, 6, 6)
    assert (tmp_path / want / "x.tar.gz").read_bytes() == b"abcdef"
    assert list((tmp_path / "incoming").iterdir()) == []  # the temp file was renamed away


def test_refused_content_leaves_nothing_behind(tmp_path: Path) -> None:
    def check(sha: str, size: int) -> None:
        raise Refused(f"{sha} {size}")

    target = tmp_path / "dl" / "x.whl"
    with pytest.raises(Refused, match=r" 3$"):
        write_stream(iter([b"abc"]), target, check=check)
    assert list(target.parent.iterdir()) == []


def test_a_stream_that_breaks_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"half"
        raise ConnectionError("dropped")

    target = tmp_path / "dl" / "x.whl"
    with pytest.raises(ConnectionError):
        write_stream(broken(), target)
    assert list(target.parent.iterdir()) == []
