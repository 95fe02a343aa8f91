"""Cache care: what the cache holds (`./doit cache`) and removing what nothing can use (`./doit prune`).

Three parts: `scan` reads the cache into entries (one unit of a family: an unpacked wheel, a
built bucket, a build environment, an HTTP response, ...; families and markers are
`tasks/core/layout.py`'s); `rules` decides what a prune removes and why, a pure function of the
scan (`plan_prune`); `remove` does it under the cache's exclusive lock and reports (`prune`,
`report`). `options` reads `days=`, `ci=` and `max-size=` from the command line.

Stale, always removed:
* leftovers of killed runs: temp files and directories, interrupted downloads (`downloads-v0`,
  `sdists-v0`), entries without their completion marker;
* built wheels and metadata of superseded revisions: for a local path, every revision but the
  newest (and all of them once the path is gone); for a git repository, every commit but the
  newest built and those a task in doit's state last used (another environment's branch); a
  `built-wheels-v0` bucket without its `metadata.json`; git checkouts of commits whose build is gone;
* older downloads of a direct URL (not the content its `state.json` names);
* HTTP responses past their use: expired and without a validator (ETag, Last-Modified), so they
  can never be served or revalidated again.
`days=N`: also unpacked wheels, unpacked sdists, build environments, git checkouts, remote wheel
metadata, HTTP responses, URL downloads and logs unused for N days (an entry's last use is its
marker's mtime, stamped on reuse). `ci=1`: keep only built wheels, their metadata, git databases,
doit's state and the interpreter facts. `max-size=SIZE`: then remove least recently used entries
until the cache fits. Never removed: doit's state, the interpreter facts, the cache lock files.
"""
