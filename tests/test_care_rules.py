"""The prune's rules (pure): what `plan_prune` removes from a scan, and why. Fake scans, no disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.core.httpcache import StoredResponse
from tasks.run.care.options import parse_size
from tasks.run.care.rules import DAY, Policy, plan_prune
from tasks.run.care.scan import Entry, Scan

CACHE = Path("/nonexistent/cache")  # nothing here exists: a rule that reads the disk finds nothing
NOW = 1_000_000_000.0
META, WHEELS = CACHE / "built-wheel-metadata-v0", CACHE / "built-wheels-v0"


def built(bucket: str, used: float, source: str = "/src", gone: bool = False) -> list[Entry]:
    """A built bucket: its metadata.json entry and its wheels."""
    group = bucket.rsplit("/", 1)[0]
    return [
        Entry("built-wheel-metadata-v0", META / bucket, 10, used, group, True, source, gone),
        Entry("built-wheels-v0", WHEELS / bucket, 1000, used, group, True),
    ]


def entry(family: str, name: str, used: float = NOW, size: int = 100, **kw: object) -> Entry:
    return Entry(family, CACHE / family / name, size, used, directory=True, **kw)  # type: ignore[arg-type]


def removed(entries: list[Entry], policy: Policy | None = None, **kw: object) -> dict[str, str]:
    scan = Scan(CACHE, entries, **kw)  # type: ignore[arg-type]
    return {str(r.path.relative_to(CACHE)): r.reason for r in plan_prune(scan, policy or Policy(), NOW)}


def test_a_fresh_cache_loses_nothing() -> None:
    entries = [*built("pypi/p-1.tar.gz", NOW), entry("archive-v0", "a" * 64), entry("interpreters-v0", "x")]
    assert removed(entries) == {}


def test_leftovers_of_stopped_runs_go() -> None:
    entries = [
        entry("archive-v0", ".abc.tmp"),
        entry("downloads-v0", "0123"),
        entry("sdists-v0", "beef"),
        entry("build-envs-v0", "half", used=0.0),  # a directory without its .complete
        entry("build-envs-v0", "whole"),
    ]
    assert removed(entries) == {
        "archive-v0/.abc.tmp": "left over by a run that was stopped",
        "downloads-v0/0123": "left over by a download",
        "sdists-v0/beef": "left over by a download",
        "build-envs-v0/half": "never completed",
    }


def test_older_revisions_of_a_path_go_with_their_wheels_and_the_newest_stays() -> None:
    entries = [*built("path/d1/old", NOW - 10), *built("path/d1/new", NOW)]
    gone = removed(entries)
    assert set(gone) == {"built-wheel-metadata-v0/path/d1/old", "built-wheels-v0/path/d1/old"}
    assert gone["built-wheel-metadata-v0/path/d1/old"] == "revision old of /src was superseded by new"


def test_every_revision_of_a_path_that_is_gone_goes() -> None:
    entries = [*built("path/d1/r1", NOW, "/gone", gone=True)]
    assert removed(entries) == {
        "built-wheel-metadata-v0/path/d1/r1": "/gone no longer exists",
        "built-wheels-v0/path/d1/r1": "/gone no longer exists",
    }


def test_a_commit_another_environment_uses_stays_and_checkouts_follow_their_builds() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    entries = [*built(f"git/r1/{a}", NOW - 20), *built(f"git/r1/{b}", NOW - 10), *built(f"git/r1/{c}", NOW)]
    entries += [
        Entry("git-v0", CACHE / "git-v0/checkouts/r1" / x, 5, NOW, "checkouts", True) for x in (a, b, c)
    ]
    entries += [Entry("git-v0", CACHE / "git-v0/db/r1", 5, NOW, "db", True)]
    gone = removed(entries, live={f"git/r1/{b}"})
    assert set(gone) == {
        f"built-wheel-metadata-v0/git/r1/{a}",
        f"built-wheels-v0/git/r1/{a}",
        f"git-v0/checkouts/r1/{a}",
    }
    assert gone[f"git-v0/checkouts/r1/{a}"] == "a checkout of a commit no build uses"


def test_index_and_url_buckets_are_never_superseded() -> None:
    entries = [
        *built("pypi/p-1.tar.gz", NOW - 10),
        *built("pypi/p-2.tar.gz", NOW),
        *built("url/u1/x.zip", 1.0),
    ]
    assert removed(entries) == {}


def test_wheels_without_metadata_go() -> None:
    orphan = Entry("built-wheels-v0", WHEELS / "url/u1/x.zip", 1000, NOW, "url/u1", True)
    assert removed([orphan]) == {"built-wheels-v0/url/u1/x.zip": "no metadata.json names these wheels"}


def test_only_the_current_download_of_a_url_stays() -> None:
    old, new = "0" * 64, "1" * 64
    url = entry("url-archives-v0", "u1", current=new, downloads=(old, new))
    assert removed([url]) == {f"url-archives-v0/u1/{old}": "an older download of this URL"}


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (None, "not a readable HTTP cache entry"),
        (StoredResponse(validator=False, expires=NOW - 1), "expired, with nothing to revalidate it by"),
        (StoredResponse(validator=False, expires=None), "expired, with nothing to revalidate it by"),
        (StoredResponse(validator=False, expires=NOW + 60), None),
        (StoredResponse(validator=True, expires=NOW - 1), None),
    ],
)
def test_an_http_response_goes_once_it_can_never_be_used(
    response: StoredResponse | None, reason: str
) -> None:
    http = Entry("http-v0", CACHE / "http-v0/a/b/c", 100, NOW, response=response)
    assert removed([http]) == ({"http-v0/a/b/c": reason} if reason else {})


def test_days_removes_what_ages_and_keeps_what_is_kept() -> None:
    old = NOW - 40 * DAY
    entries = [
        entry("archive-v0", "w", old),
        entry("build-envs-v0", "e", old),
        entry("interpreters-v0", "i", old),
        entry("chosen-v0", "c.json", old),
        Entry("git-v0", CACHE / "git-v0/db/r1", 5, old, "db", True),
        entry("sources-v0", "s", NOW - 5 * DAY),
        *built("pypi/p-1.tar.gz", old),
    ]
    gone = removed(entries, Policy(days=30))
    assert gone == {"archive-v0/w": "unused for 40 days", "build-envs-v0/e": "unused for 40 days"}


def test_ci_keeps_only_builds_git_databases_chosen_files_and_what_is_never_removed() -> None:
    entries = [
        entry("archive-v0", "w"),
        entry("http-v0", "h", response=StoredResponse(True, None)),
        entry("interpreters-v0", "i"),
        entry("chosen-v0", "c.json"),
        Entry("git-v0", CACHE / "git-v0/db/r1", 5, NOW, "db", True),
        Entry("doit-state.sqlite3", CACHE / "doit-state.sqlite3", 5, NOW),
        Entry("doit-state.sqlite3-journal", CACHE / "doit-state.sqlite3-journal", 5, NOW),
        *built("pypi/p-1.tar.gz", NOW),
    ]
    assert set(removed(entries, Policy(ci=True))) == {"archive-v0/w", "http-v0/h"}


def test_max_size_removes_the_least_recently_used_first_and_a_build_with_its_wheels() -> None:
    entries = [
        entry("archive-v0", "recent", NOW, size=400),
        *built("pypi/old-1.tar.gz", NOW - 100),
        entry("archive-v0", "older", NOW - 50, size=400),
        entry("locks-v0", "x.lock", 1.0, size=1),
    ]
    gone = removed(entries, Policy(max_size=500))
    assert set(gone) == {
        "built-wheel-metadata-v0/pypi/old-1.tar.gz",
        "built-wheels-v0/pypi/old-1.tar.gz",
        "archive-v0/older",
    }


def test_the_cache_lock_files_are_never_removed() -> None:
    lock = entry("locks-v0", "cache.lock", 1.0, size=1)
    assert removed([lock], Policy(days=0, ci=True, max_size=0), locks=frozenset({lock.path})) == {}


def test_sizes_on_the_command_line() -> None:
    assert [parse_size(s) for s in ("1048576", "500M", "2G", "1.5GiB", "3kb")] == [
        1 << 20, 500 << 20, 2 << 30, int(1.5 * (1 << 30)), 3 << 10,
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="max-size=lots"):
        parse_size("lots")
