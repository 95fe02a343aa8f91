"""The `wheelwright` command (and `python -m tasks`, what `./doit` runs): doit on tasks/dodo.py.

Before doit starts: `--version`, `help [TASK]` / `TASK --help` from the variable registry,
`init`, a misspelt variable refused (exit 3), and a sync with nothing to do (tasks/run/early_noop.py).
Exit statuses as pip's: doit exits 2 when a task is not run because one it depends on failed, so a
run whose failures are all project errors exits 1; an internal error stays 2, a bad command 3;
Ctrl-C says one line, exits 130.
"""

from __future__ import annotations

import os
import sys
from typing import Any

USAGE = 3
INTERRUPTED = 130
DOIT_COMMANDS = frozenset(
    {"run", "list", "info", "help", "forget", "ignore", "clean", "dumpdb", "strace", "tabcompletion",
     "auto", "reset-dep"}
)  # fmt: skip


def program() -> str:
    """How the user called us: `./doit` in wheelwright's checkout, else `wheelwright`."""
    from tasks.inputs.project import command_name

    return command_name()


def version_text() -> str:
    from doit.version import VERSION

    from tasks import __version__

    return f"wheelwright {__version__} (doit {'.'.join(str(p) for p in VERSION)})\n"


def _words(argv: list[str]) -> tuple[list[str], list[str]]:
    """The positional words (tasks, a doit command) and the variables' names, as doit splits them."""
    words = [a for a in argv if not a.startswith("-") and "=" not in a]
    names = [a.split("=", 1)[0] for a in argv if not a.startswith("-") and "=" in a]
    return words, names


def before_doit(argv: list[str]) -> int | None:
    """Answer what doit need not load the pipeline for; None lets doit run."""
    from tasks.inputs.variables import DEV_TASKS, TASKS, task_help, tasks_help, unknown_variable

    words, names = _words(argv)
    first = argv[0] if argv else ""
    if first == "--version":
        sys.stdout.write(version_text())
        return 0
    if first in ("--help", "-h"):
        sys.stdout.write(tasks_help(program(), developing()))
        return 0
    if first == "help" and len(words) <= 1:
        sys.stdout.write(tasks_help(program(), developing()) + "\ndoit's commands:\n")
        return None  # doit's own help follows, listing its commands
    task_words = [w for w in words if w.partition(":")[0] in {**TASKS, **DEV_TASKS}]
    if (first == "help" and task_words) or (task_words and {"--help", "-h"} & set(argv)):
        sys.stdout.write(task_help(task_words[0]))
        return 0
    if first == "init":
        return init_project()
    if words and words[0] in DOIT_COMMANDS and words[0] != "run":
        return None
    problem = unknown_variable(names, task_words)
    if problem:
        sys.stderr.write(f"error: {problem}\n")
        return USAGE
    return None


def developing() -> bool:
    """Whether this run is in wheelwright's own checkout (developer tasks shown and run)."""
    from tasks.inputs.project import is_own_checkout

    return is_own_checkout()


def init_project() -> int:
    """`wheelwright init`: write a commented pipeline.yaml for the project here, and print it."""
    from tasks.core.errors import WheelwrightError
    from tasks.inputs.project import write_init

    try:
        path, text = write_init()
    except WheelwrightError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return USAGE
    sys.stderr.write(f"wrote {path}:\n")
    sys.stdout.write(text)
    return 0


def locking(argv: list[str]) -> bool:
    """Whether doit will run a `lock` task (`lock`, `lock:ENV`)."""
    words, _ = _words(argv)
    if words and words[0] in DOIT_COMMANDS and words[0] != "run":
        return False
    return any(word.partition(":")[0] == "lock" for word in words)


def dodo_members() -> dict[str, Any]:
    """tasks/dodo.py's members, for doit; importing it plans the run (it reads the command line's words)."""
    import inspect

    from tasks import dodo

    return dict(inspect.getmembers(dodo))


def warm_up_lock(argv: list[str]) -> None:
    """A lock's TLS trust, loaded in a thread from now on (tasks/run/warmup.py). A failure is left to
    the lock itself, which meets it again and reports it."""
    from tasks.inputs.variables import read_before_doit

    read_before_doit(argv)
    try:
        from tasks.run.warmup import warm_up_lock

        warm_up_lock()
    except Exception:
        pass
    finally:
        read_before_doit(None)  # from here on, doit reads the command line


def run_doit(argv: list[str]) -> int:
    from tasks.stages.doitmain import PipelineLoader, doit_main

    loader = PipelineLoader(dodo_members, start_collecting)
    backends = {"BACKEND": {"wheelwright-sqlite": "tasks.stages.state:CacheStateDB"}}
    code = int(doit_main(loader, program(), backends).run(argv) or 0)  # forget, info: None

    from tasks.stages.common import outcome

    return 1 if code == 2 and outcome.failed and not outcome.errors else code


def start_collecting() -> None:
    """Garbage collection on again, from the work on: `command` starts without it, because the start
    (the modules, doit, the plan) makes objects that live to the end of the run, and walking them
    over and over is a few percent of a small lock's CPU. What is alive now is frozen, so later
    collections skip it too."""
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def quiet_words(argv: list[str]) -> list[str]:
    """`-q`/`--quiet` means `quiet=1` (errors only) when tasks run; doit's run command has no such option."""
    words, _ = _words(argv)
    if words and words[0] in DOIT_COMMANDS and words[0] != "run":
        return argv  # `list -q` and the like are doit's own
    return ["quiet=1" if arg in ("-q", "--quiet") else arg for arg in argv]


def no_op(argv: list[str]) -> int | None:
    """0 when a plain sync has nothing to do, decided before doit is even imported (tasks/run/early_noop.py):
    the run's views report it as doit's no-op would. None lets doit run."""
    from tasks.inputs.variables import read_before_doit

    read_before_doit(argv)
    try:
        from tasks.run.early_noop import nothing_to_do

        decided = nothing_to_do(argv)
        if decided is None:
            return None
        from tasks.console.choose import choose_views

        choose_views()
        decided.report()
        return 0
    finally:
        read_before_doit(None)  # from here on, doit reads the command line


def main(argv: list[str] | None = None) -> int:
    argv = quiet_words(sys.argv[1:] if argv is None else argv)
    try:
        early = before_doit(argv)
        if early is None and locking(argv):  # never a no-op sync: early_noop is not loaded
            warm_up_lock(argv)
        elif early is None:
            start_collecting()
            early = no_op(argv)
        return early if early is not None else run_doit(argv)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted; the next run picks up where this one stopped\n")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(INTERRUPTED)  # worker threads mid-download are not waited for; doit saved its state


def command() -> None:
    """The `wheelwright` console script."""
    import atexit
    import gc

    # Registered first, so it runs after every other exit handler: what is still alive then is
    # frozen, and the interpreter's final garbage collections skip it instead of walking it all
    # again (0.15 s after a small lock, 0.5 s after a 191-pin one). Files are closed by the code
    # that opened them, never by the collector; the memory goes back with the process.
    atexit.register(gc.freeze)
    gc.disable()  # while the modules load: see start_collecting
    sys.exit(main())


if __name__ == "__main__":
    command()
