"""`python -m tasks ARGS` (what `./doit` runs): doit on this project's dodo.py, with pip's exit statuses.

doit exits 2 when any task is not run because one it depends on failed, so a plain failed task
(a missing package, `check=1` finding a difference) would look like an internal error. Here a run
whose failures are all project errors exits 1; an internal error stays 2, a bad command 3.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from doit.doit_cmd import DoitMain

    from tasks.stages.common import outcome

    class Main(DoitMain):  # type: ignore[misc]
        BIN_NAME = "./doit"  # in doit's own messages ("Type ./doit list ...")

    backends = {"BACKEND": {"wheelwright-sqlite": "tasks.stages.state:CacheStateDB"}}
    code = int(Main(extra_config=backends).run(argv) or 0)  # `forget`, `info` return None on success
    return 1 if code == 2 and outcome.failed and not outcome.errors else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
