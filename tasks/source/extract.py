"""Safe extraction of source archives (sdists, direct-URL archives, git exports), whatever the Python.

Every member and every link target is checked against the destination before anything is written,
and the members are then written one by one by this module (never by `extractall`), so the result
does not depend on the interpreter's `tarfile` (CVE-2025-4517: long symlink chains defeat the `data`
filter of older Pythons). The rules, on names alone:

- a member's path is relative and made of safe segments (no `..`, no control characters);
- no member lies below a member that is a link (nothing is ever written through a link);
- a symlink is relative, stays inside the tree, and no step of its target is itself a link;
- a hard link names a regular file extracted before it (it is written as a copy);
- devices, fifos and other special members are refused; a link's name appears only once.

A refusal raises ValueError naming the member; callers turn it into their one-line error.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import IO

from tasks.core.safenames import member_parts, segment_problem
from tasks.core.safenames import shown_name as _q  # names quoted in errors, shortened when long

Parts = tuple[str, ...]
_CHUNK = 1 << 20


def extract_archive_file(archive: Path, dest: Path) -> None:
    """Extract a zip or tar archive (any compression tarfile reads) into the empty directory `dest`."""
    if zipfile.is_zipfile(archive):
        extract_zip(archive, dest)
        return
    with tarfile.open(archive) as tar:
        extract_tar(tar, dest)


def extract_tar(tar: tarfile.TarFile, dest: Path) -> None:
    """Check all members of `tar`, then write them into `dest`."""
    members = tar.getmembers()
    planned = check_tar_members(members)
    written: set[Parts] = set()
    for member, parts in planned:
        _write_member(tar, member, parts, dest, written)


def check_tar_members(members: list[tarfile.TarInfo]) -> list[tuple[tarfile.TarInfo, Parts]]:
    """The members with their checked paths; ValueError for the first that breaks a rule."""
    paths = [(m, tuple(member_parts(m.name))) for m in members]
    links = {parts for m, parts in paths if m.issym() or m.islnk()}
    counts = Counter(parts for _, parts in paths)
    planned = []
    for member, parts in paths:
        if not parts:
            continue  # the archive's root itself ("./")
        _check_kind(member)
        _check_not_below_link(member.name, parts, links)
        if parts in links and counts[parts] > 1:
            raise ValueError(f"link member {_q(member.name)} appears more than once")
        if member.issym():
            symlink_target(member.name, parts, member.linkname, links)
        elif member.islnk():
            hardlink_target(member.name, member.linkname, links)
        planned.append((member, parts))
    return planned


def _check_kind(member: tarfile.TarInfo) -> None:
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise ValueError(f"member {_q(member.name)} is a device, fifo or other special file")


def _check_not_below_link(name: str, parts: Parts, links: set[Parts]) -> None:
    for depth in range(1, len(parts)):
        if parts[:depth] in links:
            raise ValueError(f"member {_q(name)} lies below the link {_q('/'.join(parts[:depth]))}")


def symlink_target(name: str, parts: Parts, target: str, links: set[Parts]) -> Parts:
    """Where a symlink points, inside the tree and through no other link; ValueError otherwise."""
    if not target or target.startswith(("/", "\\")):
        raise ValueError(f"link {_q(name)} has an absolute or empty target {_q(target)}")
    current = list(parts[:-1])
    for piece in target.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not current:
                raise ValueError(f"link {_q(name)} points outside the tree ({_q(target)})")
            current.pop()
            continue
        if segment_problem(piece):
            raise ValueError(f"link {_q(name)} has an unsafe target {_q(target)}")
        current.append(piece)
        if tuple(current) in links:
            raise ValueError(f"link {_q(name)} points through another link ({_q(target)})")
    return tuple(current)


def hardlink_target(name: str, target: str, links: set[Parts]) -> Parts:
    """The archive path a hard link copies: relative, inside, not a link and below none."""
    try:
        parts = tuple(member_parts(target))
    except ValueError:
        raise ValueError(f"hard link {_q(name)} points outside the tree ({_q(target)})") from None
    if not parts or any(parts[:depth] in links for depth in range(1, len(parts) + 1)):
        raise ValueError(f"hard link {_q(name)} points to or through a link ({_q(target)})")
    return parts


def _write_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, parts: Parts, dest: Path, written: set[Parts]
) -> None:
    path = dest.joinpath(*parts)
    if member.isdir():
        path.mkdir(parents=True, exist_ok=True)
        return
    _make_parent(path, dest)
    if member.issym():
        os.symlink(member.linkname, path)
    elif member.islnk():
        source = hardlink_target(member.name, member.linkname, set())
        if source not in written:
            raise ValueError(f"hard link {_q(member.name)} names {_q(member.linkname)}, not a file before it")
        _write_file(path, dest.joinpath(*source).open("rb"), member.mode)
        written.add(parts)
    else:
        stream = tar.extractfile(member)
        if stream is None:
            raise ValueError(f"member {_q(member.name)} has no content")
        _write_file(path, stream, member.mode)
        os.utime(path, (member.mtime, member.mtime))
        written.add(parts)


def _make_parent(path: Path, dest: Path) -> None:
    """Create `path`'s directory; a second guard checks that it really resolves inside `dest`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    real, root = os.path.realpath(path.parent), os.path.realpath(dest)
    if real != root and not real.startswith(root + os.sep):
        raise ValueError(f"{_q(path.name)} would be written outside the tree")


def _write_file(path: Path, stream: IO[bytes], mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o755 if mode & 0o100 else 0o644)
    with stream, os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out, _CHUNK)


def extract_zip(archive: Path, dest: Path) -> None:
    """A zip archive: every name checked, links refused (zip has no portable links)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            member_parts(info.filename)
            mode = info.external_attr >> 16
            if mode and (mode & 0o170000) == 0o120000:
                raise ValueError(f"link member {_q(info.filename)} in a zip archive")
        zf.extractall(dest)
