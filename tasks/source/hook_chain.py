"""Two PEP 517 hooks in one backend process: get_requires_for_build_*, then, when it asks for nothing, the
hook the build calls next; each through pyproject-hooks' own in-process script, with its own control dir.

Run by tasks/source/builder.py with a build environment's Python (the standard library only):

    python hook_chain.py <pyproject-hooks' _in_process.py> <first hook> <its dir> <next hook> <its dir>

The next hook's output.json is left in its directory for the builder to hand over when pyproject-hooks asks
for that hook with the same input; when the first hook asks for requirements (or fails), the next one is
not run here, and the builder runs it in a process of its own, as before.
"""

import importlib.util
import json
import os
import sys


def main() -> None:
    here = os.path.normcase(os.path.realpath(os.path.dirname(__file__)))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.realpath(p)) != here]  # not the backend's
    script, first, first_dir, then, then_dir = sys.argv[1:6]
    spec = importlib.util.spec_from_file_location("_in_process", script)
    assert spec is not None and spec.loader is not None
    in_process = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(in_process)
    _run(in_process, script, first, first_dir)
    with open(os.path.join(first_dir, "output.json"), encoding="utf-8") as f:
        answer = json.load(f)
    if answer.get("return_val") == []:  # nothing to install first (a failure answers None)
        sys.stdout.write(f"--- {then}\n")
        sys.stdout.flush()
        _run(in_process, script, then, then_dir)


def _run(in_process: object, script: str, hook: str, control: str) -> None:
    sys.argv = [script, hook, control]
    in_process.main()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
