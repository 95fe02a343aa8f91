"""The command line's `key=value` variables and wheelwright's tasks: one registry, checked before a run.

Every variable a task reads is declared here once (name, the tasks it applies to, meaning,
default); `value(name)` is the one way to read one, so an undeclared name fails at once in
development. `unknown_variable` turns a misspelt word (`chek=1`) into one line before anything
runs; `task_help` and `tasks_help` are what `wheelwright help [TASK]` prints. Pure data and
string work: nothing here imports doit's loader or parses a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# wheelwright's tasks, one line each (what `wheelwright help` lists); developer tasks apart.
TASKS: dict[str, str] = {
    "sync": "make each environment equal its lock exactly (install, replace, remove)",
    "lock": "resolve loose requirements (requirements.in, `in:`) into a pinned, hashed lock",
    "fetch": "only fetch: download, verify and unpack each pin into the cache",
    "build_meta": "write one source's metadata.json (`build_meta:<pkg>`) and say where",
    "build_wheel": "build, or reuse, one source's wheel for the target interpreter",
    "cache": "the size and entry count of each bucket family of the cache",
    "prune": "remove cache entries nothing can use any more (remote=1: the shared build cache's)",
    "wheelhouse": "copy every wheel of an environment's lock, with a simple index, into dir=DIR",
    "init": "write a commented pipeline.yaml for this project from what it finds",
}
DEV_TASKS: dict[str, str] = {
    "test": "wheelwright's own test suite, then ruff, mypy and the import contracts",
    "test_wheels": "download the build backends the tests serve from their loopback index",
}

_PLAN = ("sync", "lock", "fetch", "build_meta", "build_wheel", "wheelhouse")  # tasks that plan from the locks
_ALL = (*_PLAN, "cache", "prune", "init")
_INSTALL = ("sync", "fetch", "build_meta", "build_wheel", "wheelhouse")  # tasks that fetch and build
_BUILD = ("build_meta", "build_wheel")


@dataclass(frozen=True)
class Variable:
    name: str
    tasks: tuple[str, ...]
    meaning: str
    default: str


VARIABLES: tuple[Variable, ...] = (
    Variable("config", _ALL, "the pipeline.yaml to use", "found here or in a parent directory"),
    Variable("cache", _ALL, "the cache root (also WHEELWRIGHT_CACHE)", "`cache:`, else the user cache"),
    Variable("req", _PLAN, "a lock to sync (venv=), or a loose input to lock (out=)", "pipeline.yaml"),
    Variable("venv", _PLAN, "the environment to sync req= into", "pipeline.yaml"),
    Variable("out", ("lock",), "the lock that `lock req=FILE.in` writes", "pipeline.yaml"),
    Variable("python", _PLAN, "the target interpreter (a command or a path)", "wheelwright's"),
    Variable("upgrade", ("lock",), "1: revalidate every pin; pkg[,pkg]: only those", "keep the lock's pins"),
    Variable("hashes", ("lock",), "0: write the lock without --hash lines", "1"),
    Variable("link", ("sync",), "how files reach the environment: hardlink, copy or symlink", "hardlink"),
    Variable("dry", ("sync", "lock"), "1: say what sync or lock would change, change nothing", "0"),
    Variable("check", ("sync", "lock"), "1: as dry=1, and exit 1 when the environment or lock differs", "0"),
    Variable("offline", _PLAN, "1: no network; use what the cache holds (also PIP_NO_INDEX)", "0"),
    Variable("timeout", _ALL, "seconds one read may wait for data", "15"),
    Variable("remote_cache", (*_PLAN, "prune"), "URL of a shared build cache (s3://, file://), or off",
             "`remote-cache:`"),
    Variable("strict", _INSTALL, "1: a source whose remote is down fails (no last build used)", "0"),
    Variable("exclude-newer", ("lock",), "upload-date cut-off: a time (2026-10-01T00:00:00Z) or a span (P7D)",
             "the lock's own, else none"),
    Variable("python-version", ("lock",), "lock for Python 3.9 without its interpreter", "python='s"),
    Variable("pre", _PLAN, "1: pre-releases allowed for every package (pip's --pre)", "0"),
    Variable("only-binary", _PLAN, "names (or :all:) taken only as wheels (pip's --only-binary)", "none"),
    Variable("no-binary", _PLAN, "names (or :all:) always built from sdists (pip's --no-binary)", "none"),
    Variable("prefer-binary", _PLAN, "1: an older release with a wheel before a newer sdist-only one", "0"),
    Variable("extras", ("lock", "sync"), "pyproject extras to lock, pylock extras to sync", "none"),
    Variable("groups", ("lock", "sync"), "dependency groups to lock, or pylock groups to sync", "none"),
    Variable("self", ("lock",), "1: lock the pyproject project itself too, as -e .", "0"),
    Variable("shard", _BUILD, "K/N: build only shard K of N of the sources (a CI matrix job)", "all"),
    Variable("dir", ("wheelhouse",), "the directory to fill with the wheels and their index", "required"),
    Variable("remote", ("prune",), "1: prune the shared build cache instead of the local one", "0"),
    Variable("timings", _ALL, "write a self-contained HTML timings page of the run to FILE", "none"),
    Variable("truststore", _ALL, "1: TLS checked with the system's certificates", "0"),
    Variable("report", _ALL, "write one JSON report of the run to FILE", "none"),
    Variable("quiet", _ALL, "1: errors only (also -q)", "0"),
    Variable("verbose", _ALL, "1: each task run, and build backends' output live", "0"),
    Variable("days", ("prune",), "also remove unpacked entries unused for N days", "keep them"),
    Variable("ci", ("prune",), "1: keep only what is expensive to make again (builds, git)", "0"),
    Variable("max-size", ("prune",), "then remove least recently used entries over SIZE (K, M, G)", "none"),
    Variable("unit", ("test",), "1: the unit tests only (no ./doit run, subprocess or server)", "0"),
)  # fmt: skip
BY_NAME: dict[str, Variable] = {v.name: v for v in VARIABLES}
NAMES: tuple[str, ...] = tuple(BY_NAME)


_before_doit: dict[str, str] | None = None  # the words read by `read_before_doit`, until doit reads them


def read_before_doit(argv: Sequence[str] | None) -> None:
    """Take the variables from `argv` as doit will (a word not starting with `-` that holds `=`), for
    what runs before doit starts (a no-op decided early: tasks/run/early_noop.py); None hands back to doit."""
    global _before_doit
    if argv is None:
        _before_doit = None
        return
    words = [arg.split("=", 1) for arg in argv if arg and arg[0] != "-" and "=" in arg]
    _before_doit = {name: text for name, text in words}


def value(name: str) -> str | None:
    """The variable `name` from the command line (None when not given); `name` must be declared."""
    if name not in BY_NAME:
        raise KeyError(f"variable {name!r} is not declared in tasks/inputs/variables.py")
    if _before_doit is not None:
        got: object = _before_doit.get(name)
    else:
        from doit import get_var

        got = get_var(name, None)
    return str(got) if got else None


def _group(task: str) -> str:
    return task.partition(":")[0]


def unknown_variable(names: Iterable[str], tasks: Sequence[str]) -> str | None:
    """The error for the first variable none of `tasks` takes, with a did-you-mean; None if all fit."""
    groups = [_group(t) for t in tasks if _group(t) in TASKS or _group(t) in DEV_TASKS] or ["sync"]
    for name in names:
        takes = [g for g in groups if name in BY_NAME and g in BY_NAME[name].tasks]
        if takes:
            continue
        known = sorted({v.name for v in VARIABLES if set(groups) & set(v.tasks)})
        import difflib  # only for the error: not on the path of a run that goes on

        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if name in BY_NAME:
            hint = f" ({name}= is for {', '.join(BY_NAME[name].tasks)})"
        return f"unknown variable {name!r} for {', '.join(dict.fromkeys(groups))}{hint}"
    return None


def task_help(task: str) -> str:
    """`wheelwright help TASK`: its line, then every variable it takes with meaning and default."""
    group = _group(task)
    doc = TASKS.get(group) or DEV_TASKS.get(group) or "not a wheelwright task"
    rows = [v for v in VARIABLES if group in v.tasks]
    width = max((len(v.name) for v in rows), default=0) + 2
    lines = [f"{group}: {doc}", ""]
    if rows:
        lines.append("variables (NAME=VALUE on the command line):")
        lines += [f"  {v.name + '=':<{width}} {v.meaning} (default: {v.default})" for v in rows]
    else:
        lines.append("takes no variables")
    return "\n".join(lines) + "\n"


def tasks_help(program: str, dev: bool) -> str:
    """`wheelwright help`: each task in one line (developer tasks only in wheelwright's checkout)."""
    table = {**TASKS, **(DEV_TASKS if dev else {})}
    width = max(len(name) for name in table) + 2
    lines = [f"usage: {program} [TASK[:NAME] ...] [NAME=VALUE ...]   (no task: sync)", "", "tasks:"]
    lines += [f"  {name:<{width}} {doc}" for name, doc in table.items()]
    lines += ["", f"`{program} help TASK` (or `{program} TASK --help`) lists the variables a task takes."]
    return "\n".join(lines) + "\n"
