"""The cache's layout: each family of entries (its directory, marker, how a prune treats it) and each
source's bucket (kind, digest, leaf) with its paths. Every module that reads or writes the cache asks
this one; no other module spells a family's directory name or a bucket's prefix.

A *family* is one top-level directory of the cache (`archive-v0`, `built-wheels-v0`, ...), made of
entries: one unpacked wheel, one built bucket, one build environment, one HTTP response, ...
A *bucket* names one source's built wheels and their `metadata.json`:
`pypi/<sdist filename>` or `<kind>/<digest>/<leaf>` (leaf: a filename, a commit, a revision).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tasks.core.urls import url_digest

Shape = Literal["buckets", "git", "files", "children", "file"]


@dataclass(frozen=True)
class Family:
    """One top-level directory of the cache, what it holds, and how `./doit prune` treats it.

    `shape` says what an entry is: `buckets` (built buckets, three levels down), `git` (bare
    repositories, checkouts, locks), `files` (each file below it), `children` (each child),
    `file` (the family is one file). An entry's last use is its `marker`'s mtime (a file inside a
    directory entry; None: the entry itself). `aged`: `days=N` removes entries unused that long;
    `ci`: `ci=1` keeps it; `kept`: never removed; `transient`: exists only while a run writes it,
    so anything found between runs is a leftover; `completes`: an entry without its marker was
    never completed. `aged_groups` / `ci_groups`: the same for some groups only (git's checkouts
    age, its bare repositories are kept in CI). `lock_entries`: its `.lock` files are entries
    (elsewhere an entry's `.lock` goes with it).
    """

    name: str
    what: str
    shape: Shape = "children"
    marker: str | None = None
    aged: bool = False
    ci: bool = False
    kept: bool = False
    transient: bool = False
    completes: bool = False
    aged_groups: frozenset[str] = frozenset()
    ci_groups: frozenset[str] = frozenset()
    lock_entries: bool = False

    def under(self, cache: Path) -> Path:
        return cache / self.name


WHEEL_MARKER = ".wheelwright-wheel.json"  # an unpacked wheel's completion marker (filename, scripts)
COMPLETE = ".complete"  # a build environment's or an unpacked sdist's completion marker
METADATA_JSON = "metadata.json"  # a built bucket's index of wheels and their core metadata
URL_STATE = "state.json"  # a direct URL's validators and current content
GIT_DB, GIT_CHECKOUTS, GIT_LOCKS = "db", "checkouts", "locks"  # the groups of git-v0
GIT_COMMIT = ".git-commit"  # a finished checkout's marker (names its commit)

ARCHIVE = Family(
    "archive-v0", "unpacked wheels (installs link from here)", marker=WHEEL_MARKER, aged=True, completes=True
)
BUILT_WHEELS = Family("built-wheels-v0", "wheels built from source", "buckets", METADATA_JSON, ci=True)
BUILT_METADATA = Family(
    "built-wheel-metadata-v0", "metadata.json of each built source", "buckets", METADATA_JSON, ci=True
)
WHEEL_METADATA = Family("wheel-metadata-v0", "metadata of remote wheels (locking)", "files", aged=True)
GIT = Family(
    "git-v0",
    "bare repositories, checkouts and their locks",
    "git",
    aged_groups=frozenset({GIT_CHECKOUTS}),
    ci_groups=frozenset({GIT_DB}),
)
BUILD_ENVS = Family(
    "build-envs-v0", "isolated build environments", marker=COMPLETE, aged=True, completes=True
)
SOURCES = Family("sources-v0", "unpacked source archives", marker=COMPLETE, aged=True, completes=True)
SDISTS = Family("sdists-v0", "sdists being downloaded", transient=True)
URL_ARCHIVES = Family(
    "url-archives-v0", "direct URL archives and their validators", marker=URL_STATE, aged=True
)
DOWNLOADS = Family("downloads-v0", "wheels being downloaded", transient=True)
HTTP = Family("http-v0", "HTTP-cached index pages", "files", aged=True)
INDEX_PAGES = Family("index-pages-v0", "index pages' files by version (locking)", "files", aged=True)
INTERPRETERS = Family("interpreters-v0", "interpreter facts (tags, paths)", kept=True)
LOCKS = Family("locks-v0", "lock files", lock_entries=True)
BUILD_LOGS = Family("build-logs-v0", "build backends' output, the last build of each", "files", aged=True)
CHOSEN = Family("chosen-v0", "which file each index pin resolved to", ci=True)  # tiny; names sdists to build
CONFIRMED = Family(
    "confirmed-v0", "when each git/URL source was last confirmed upstream", kept=True
)  # tiny; a down remote's fallback needs it
LOGS = Family("logs", "internal error logs", "files", aged=True)
DOIT_STATE = Family(
    "doit-state.sqlite3", "doit's task state (before state-v0)", "file", kept=True
)  # and its -journal, -wal
STATE = Family("state-v0", "doit's task state, one per project", kept=True)  # <digest(project)>/…

FAMILIES = (  # the cache's families, shown in this order; anything else found is listed after them
    ARCHIVE,
    BUILT_WHEELS,
    BUILT_METADATA,
    WHEEL_METADATA,
    GIT,
    BUILD_ENVS,
    SOURCES,
    SDISTS,
    URL_ARCHIVES,
    DOWNLOADS,
    HTTP,
    INDEX_PAGES,
    INTERPRETERS,
    LOCKS,
    BUILD_LOGS,
    CHOSEN,
    CONFIRMED,
    LOGS,
    DOIT_STATE,
    STATE,
)
BY_NAME = {f.name: f for f in FAMILIES}

# Outside the cache directory:
OUTLINES = Family("outlines-v0", "the no-op path's memo of each run's outline (in WHEELWRIGHT_HOME)")
NO_OPS = Family("noops-v0", "what each environment's last sync left, for a no-op decided before doit starts")
REMOTE_BUILT = Family("built-v0", "the shared store's key prefix of built wheels and their metadata")


def family(name: str) -> Family:
    """The family of a top-level name; one the layout does not know is listed, aged never, kept never
    (but doit's own files beside its state, `doit-state.sqlite3-journal`, `-wal`, are kept like it)."""
    if name in BY_NAME:
        return BY_NAME[name]
    return Family(name, "", kept=name.startswith(DOIT_STATE.name.partition(".")[0] + "."))


# --- buckets ----------------------------------------------------------------------------------

Kind = Literal["pypi", "index", "url", "git", "path", "editable"]
KINDS: tuple[Kind, ...] = ("pypi", "index", "url", "git", "path", "editable")


@dataclass(frozen=True)
class Bucket:
    """Where one source's builds live: `pypi/<leaf>` (the default index) or `<kind>/<digest>/<leaf>`.

    `digest` is the digest of the index, URL, repository or absolute path; `leaf` is the sdist or
    archive filename (index, URL), the commit (git) or the content revision (path, editable).
    """

    kind: Kind
    digest: str
    leaf: str

    @property
    def key(self) -> str:
        """The bucket as a relative path (and as doit values carry it)."""
        return f"{self.group}/{self.leaf}"

    @property
    def group(self) -> str:
        """What a revision belongs to: `pypi`, or `<kind>/<digest>` (one path, one repository...)."""
        return self.kind if self.kind == "pypi" else f"{self.kind}/{self.digest}"

    @classmethod
    def parse(cls, key: str) -> Bucket:
        kind, _, rest = key.partition("/")
        if kind == "pypi":
            return cls("pypi", "", rest)
        if kind not in KINDS:
            raise ValueError(f"not a cache bucket: {key!r}")
        digest, _, leaf = rest.partition("/")
        return cls(kind, digest, leaf)

    @property
    def from_index(self) -> bool:
        """An index's sdist: the leaf is an sdist filename, immutable."""
        return self.kind in ("pypi", "index")

    @property
    def one_revision(self) -> bool:
        """A local directory has one content at a time: its other revisions are stale once built."""
        return self.kind in ("path", "editable")

    @property
    def has_revisions(self) -> bool:
        """Revisions of one source sit side by side (path, git); a prune keeps the newest."""
        return self.kind in ("path", "git")

    def metadata_json(self, cache: Path) -> Path:
        return BUILT_METADATA.under(cache) / self.key / METADATA_JSON

    def wheels_dir(self, cache: Path) -> Path:
        return BUILT_WHEELS.under(cache) / self.key


def index_bucket(index: str, filename: str, default_index: str) -> Bucket:
    """An index's sdist: `pypi/` for the default index, else `index/<digest(index)>/`."""
    if index.rstrip("/") == default_index.rstrip("/"):
        return Bucket("pypi", "", filename)
    return Bucket("index", url_digest(index), filename)


def bucket_key(kind: Kind, digest: str, leaf: str) -> str:
    return Bucket(kind, digest, leaf).key


def group_of(key: str) -> str:
    """`<kind>/<digest>` of a bucket key (`pypi` for the default index)."""
    return Bucket.parse(key).group


def kind_of(key: str) -> str:
    """The kind a bucket key names (`""` when it is not a bucket)."""
    kind = key.partition("/")[0]
    return kind if kind in KINDS else ""


def wheel_metadata_path(cache: Path, kind: Kind, digest: str, filename: str) -> Path:
    """A remote wheel's core metadata (`index/<digest>/` or `url/<digest>/`)."""
    return WHEEL_METADATA.under(cache) / kind / digest / f"{filename}.json"
