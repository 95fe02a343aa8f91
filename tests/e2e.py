"""Helpers for end-to-end tests: run ./doit as a user would, and look inside environments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOIT = [sys.executable, "-m", "tasks"]  # what ./doit runs


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    ran: tuple[str, ...] = ()  # the tasks doit executed (not up to date), from the run's `started` events

    @property
    def errors(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("error:")]


def doit(
    *words: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> Run:
    """`./doit WORDS` in the project root, from `cwd` as the user's directory."""
    environ = dict(os.environ if env is None else env)
    environ["WHEELWRIGHT_CWD"] = str(cwd or ROOT)
    with tempfile.TemporaryDirectory() as scratch:
        events = Path(scratch) / "events.jsonl"
        environ.setdefault("WHEELWRIGHT_EVENTS", str(events))
        done = subprocess.run(
            [*DOIT, *words], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout
        )
        return Run(done.returncode, done.stdout, done.stderr, started_tasks(events))


def started_tasks(events: Path) -> tuple[str, ...]:
    """The tasks a run executed, in order (doit reports `started` only for tasks that were not up to date)."""
    if not events.is_file():
        return ()
    rows = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
    return tuple(row["task"] for row in rows if row.get("kind") == "started" and row.get("task"))


def sync(req: Path, venv: Path, cache: Path, *extra: str) -> Run:
    return doit("sync", f"req={req}", f"venv={venv}", f"cache={cache}", *extra)


def installed(venv: Path) -> dict[str, str]:
    """name → version of every distribution in the environment (read with its own Python)."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout
    data: dict[str, str] = json.loads(out)
    return data


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def tree_snapshot(path: Path) -> dict[str, tuple[int, int]]:
    """Every file below `path` with its size and mtime: equal snapshots mean nothing was written."""
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if p.is_file() and "doit-state" not in p.name
    }
