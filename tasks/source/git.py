"""Git sources through GitPython: one bare repository per canonical URL, one lock per repository.

A ref resolves to a commit with one `ls-remote` (a full commit sha needs no network); the commit
is fetched into `git-v0/db/<repo>` when missing and checked out once into
`git-v0/checkouts/<repo>/<commit>`.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path

from tasks.core import layout
from tasks.core.errors import (
    GitRefNotFound,
    NetworkError,
    OfflineMissing,
    SourceError,
    SourceUnreachable,
    UnsafeSource,
)
from tasks.core.files import publish_dir, temp_beside
from tasks.core.urls import scrub_text, strip_credentials
from tasks.inputs.sources import GitSource

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
GIT_SCHEMES = ("https", "http", "ssh", "git", "file")  # not ext:: or fd:: (they run commands)
# What git says when the remote did not answer at all (not "not found", not "denied", which are answers).
UNREACHABLE = re.compile(
    r"could not resolve host|could not resolve hostname|failed to connect|couldn't connect|"
    r"connection refused|connection timed out|timed out|network is unreachable|no route to host|"
    r"returned error: 50[234]",
    re.IGNORECASE,
)


def check_source(source: GitSource, *, package: str) -> None:
    """Refuse what git would take as a command or an option: other transports, refs starting with `-`."""
    from urllib.parse import urlsplit

    scheme = urlsplit(source.url).scheme.lower()
    if scheme not in GIT_SCHEMES or "::" in source.url.split("/", 1)[0]:
        raise UnsafeSource(
            f"git URL scheme {scheme or source.url.split(':', 1)[0]!r} is not allowed "
            f"(use one of {', '.join(GIT_SCHEMES)})",
            package=package,
            source=source.describe(),
        )
    if source.ref is not None and (source.ref.startswith("-") or not source.ref.strip()):
        raise UnsafeSource(
            f"git ref {source.ref!r} is not allowed (a ref may not start with '-')",
            package=package,
            source=source.describe(),
        )


def repo_dir(cache: Path, source: GitSource) -> Path:
    return cache / layout.GIT.name / layout.GIT_DB / source.repo_digest


def _lock(cache: Path, source: GitSource) -> AbstractContextManager[None]:
    """Held around fetch-and-checkout of one repository, so runs sharing a cache fetch it once
    (a run that waits says so after a second, as for a wheel's download)."""
    from tasks.core.mutexes import held

    path = cache / layout.GIT.name / layout.GIT_LOCKS / f"{source.repo_digest}.lock"
    return held(path, f"waiting for another fetch of {strip_credentials(source.url)}")


def _refuse_offline(what: str, source: GitSource, package: str, offline: bool) -> None:
    """`offline=1`: a git command that would reach a remote is refused, naming it (a local repository
    needs no network and is used)."""
    if offline and not source.url.startswith(("file:", "/")):
        raise OfflineMissing(
            f"offline, and not in the cache: would run {what}", package=package, source=source.describe()
        )


def resolve_ref(source: GitSource, *, package: str, offline: bool = False) -> str:
    """The commit `source.ref` names upstream (a full sha is returned as it is; `offline`: refused).

    One `git ls-remote` subprocess: the check every rerun makes needs neither GitPython nor its
    import time (check_source has refused other transports and option-like refs first).
    """
    check_source(source, package=package)
    ref = source.ref or "HEAD"
    if FULL_SHA.match(ref):
        return ref
    _refuse_offline(f"git ls-remote {strip_credentials(source.url)} {ref}", source, package, offline)
    import subprocess

    try:
        done = subprocess.run(
            ["git", "ls-remote", source.url, ref], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise NetworkError(
            f"cannot run git: {exc.strerror}", package=package, source=source.describe()
        ) from None
    if done.returncode != 0:
        error = SourceUnreachable if UNREACHABLE.search(done.stderr) else NetworkError
        raise error(
            f"cannot read the git repository {strip_credentials(source.url)}: {_tail(_Failed(done.stderr))}",
            package=package,
            source=source.describe(),
        )
    return _pick(done.stdout, ref, source, package)


class _Failed(Exception):
    """A git command's failure, its stderr kept for `_tail`."""

    def __init__(self, stderr: str):
        super().__init__(stderr)
        self.stderr = stderr


def _pick(out: str, ref: str, source: GitSource, package: str) -> str:
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    wanted = [ref, f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}"]
    for name in wanted:
        for sha, found in rows:
            if found == name:
                return sha
    if re.match(r"^[0-9a-f]{7,39}$", ref):
        raise GitRefNotFound(
            ref,
            cause="abbreviated commits cannot be resolved remotely; give the full sha",
            package=package,
            source=source.describe(),
        )
    raise GitRefNotFound(ref, package=package, source=source.describe())


def has_commit(source: GitSource, commit: str, cache: Path) -> bool:
    """Whether `commit` is in the cache already (checked out, or in the bare clone): no network needed."""
    if (
        cache / layout.GIT.name / layout.GIT_CHECKOUTS / source.repo_digest / commit / layout.GIT_COMMIT
    ).is_file():
        return True
    if not (repo_dir(cache, source) / "HEAD").exists():
        return False
    import git

    return _has_commit(git.Repo(repo_dir(cache, source)), commit)


def checkout(source: GitSource, commit: str, cache: Path, *, package: str, offline: bool = False) -> Path:
    """A checkout of `commit`, fetched into the repository's bare clone when missing (`offline`: refused)."""
    check_source(source, package=package)
    target = cache / layout.GIT.name / layout.GIT_CHECKOUTS / source.repo_digest / commit
    if (target / layout.GIT_COMMIT).is_file():
        return target
    import tarfile  # not at the top: a no-op's `ls-remote` needs none of it

    with _lock(cache, source):
        if (target / layout.GIT_COMMIT).is_file():
            return target
        repo = _bare_repo(cache, source)
        _fetch_commit(repo, source, commit, package, offline)
        try:
            _export(repo, commit, target)
        except (tarfile.TarError, OSError, ValueError) as exc:
            raise SourceError(
                f"cannot check out {commit[:12]}: {exc}", package=package, source=source.describe()
            ) from None
    return target


def _bare_repo(cache: Path, source: GitSource) -> object:
    import git

    path = repo_dir(cache, source)
    if (path / "HEAD").exists():
        return git.Repo(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return git.Repo.init(path, bare=True)


def _has_commit(repo: object, commit: str) -> bool:
    import git

    try:
        repo.git.cat_file("-e", f"{commit}^{{commit}}")  # type: ignore[attr-defined]
        return True
    except git.GitCommandError:
        return False


def _fetch_commit(repo: object, source: GitSource, commit: str, package: str, offline: bool) -> None:
    import git

    if _has_commit(repo, commit):
        return
    _refuse_offline(f"git fetch of commit {commit}", source, package, offline)
    refspecs = [commit] if not source.ref or FULL_SHA.match(source.ref) else [source.ref]
    try:
        for spec in refspecs:
            repo.git.fetch(source.url, spec, "--tags", "--force")  # type: ignore[attr-defined]
        found = _has_commit(repo, commit)
        if not found:
            repo.git.fetch(source.url, "+refs/heads/*:refs/remotes/origin/*", "--tags")  # type: ignore[attr-defined]
            found = _has_commit(repo, commit)
    except git.GitCommandError as exc:
        raise NetworkError(
            f"git fetch failed: {_tail(exc)}", package=package, source=source.describe()
        ) from None
    except (git.exc.UnsafeOptionError, git.exc.UnsafeProtocolError) as exc:
        raise UnsafeSource(
            f"refused by GitPython: {exc}", package=package, source=source.describe()
        ) from None
    if not found:
        raise GitRefNotFound(
            commit,
            cause=f"commit {commit} is not in the repository",
            package=package,
            source=source.describe(),
        )


def _export(repo: object, commit: str, target: Path) -> None:
    """The commit's tree through `git archive`, extracted with the sdist rules (links stay inside)."""
    import tarfile
    from io import BytesIO

    from tasks.source.extract import extract_tar

    with temp_beside(target, directory=True) as tmp:
        data = BytesIO()
        repo.archive(data, commit, format="tar")  # type: ignore[attr-defined]
        data.seek(0)
        with tarfile.open(fileobj=data) as tar:
            extract_tar(tar, tmp)
        (tmp / layout.GIT_COMMIT).write_text(commit)
        publish_dir(tmp, target)


def _tail(exc: Exception) -> str:
    """git's own reason: its first `fatal:`/`error:` line (the last is advice such as
    "and the repository exists."), credentials removed."""
    text = scrub_text(str(getattr(exc, "stderr", "") or exc)).strip()
    lines = [line.strip().strip("'\"").strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for mark in ("fatal:", "error:"):
            if mark in line:
                return line.split(mark, 1)[1].strip()[:300]
    return lines[-1][:300] if lines else type(exc).__name__
