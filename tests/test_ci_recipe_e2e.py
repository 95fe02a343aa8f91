"""docs/ci.md, run as written: its GitHub Actions steps in order, three CI runs on a loopback index.

The workflow's YAML is read from the document; `run:` steps run with bash in a fresh copy of the
project (a new checkout, so a new environment), and actions/cache restore and save are played by
copying `cache/` to and from a store under the keys the workflow computes (restore-keys by prefix,
newest first; a saved key is never overwritten), as GitHub does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e import ROOT
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist_dir, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")
DOC = ROOT / "docs" / "ci.md"
CHECKOUT = ["tasks", "dodo.py", "doit", "requirements", "pyproject.toml"]


def recipes() -> tuple[dict[str, Any], dict[str, Any]]:
    """The GitHub workflow and the GitLab CI file, parsed from the document's YAML blocks."""
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)]
    github = next(b for b in blocks if "jobs" in b)
    gitlab = next(b for b in blocks if "jobs" not in b)
    return github, gitlab


class Runner:
    """One CI runner's worth of GitHub Actions semantics, enough for the recipe's steps."""

    def __init__(self, work: Path, setup: Any) -> None:
        self.work, self.setup = work, setup
        self.store: dict[str, Path] = {}  # key → saved cache, in save order
        self.runs = 0

    def run(self, steps: list[dict[str, Any]]) -> Path:
        """A whole job: a fresh checkout, then every step; the events file of the job."""
        self.runs += 1
        checkout = self.work / f"run{self.runs}"
        events = self.work / f"events{self.runs}.jsonl"
        outputs: dict[str, str] = {}
        for step in steps:
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout"):
                self._checkout(checkout)
            elif uses.startswith("actions/cache/restore"):
                outputs[step["id"]] = self._restore(step["with"], checkout)
            elif uses.startswith("actions/cache/save"):
                key = self._expand(step["with"]["key"], checkout, outputs)
                self.store.setdefault(
                    key, _copy(checkout / step["with"]["path"], self.work / f"saved{self.runs}")
                )
            elif "run" in step:
                env = {
                    **os.environ,
                    "WHEELWRIGHT_EVENTS": str(events),
                    "WHEELWRIGHT_HOME": str(ROOT / ".wheelwright"),
                }
                done = subprocess.run(
                    ["bash", "-e", "-c", step["run"]], cwd=checkout, env=env, capture_output=True, text=True
                )
                assert done.returncode == 0, f"{step['run']}: {done.stdout}\n{done.stderr}"
                with (self.work / f"log{self.runs}.txt").open("a") as log:
                    log.write(f"$ {step['run']}\n{done.stdout}{done.stderr}")
        return events

    def _checkout(self, checkout: Path) -> None:
        checkout.mkdir()
        for name in CHECKOUT:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, checkout / name)
        self.setup(checkout)

    def _restore(self, options: dict[str, str], checkout: Path) -> str:
        primary = self._expand(options["key"], checkout, {})
        prefixes = [primary] + [
            self._expand(k, checkout, {}) for k in options.get("restore-keys", "").splitlines() if k.strip()
        ]
        for prefix in prefixes:
            found = [key for key in self.store if key.startswith(prefix)]
            if found:
                _copy(self.store[found[-1]], checkout / options["path"])
                break
        return primary

    def _expand(self, text: str, checkout: Path, outputs: dict[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if expression == "runner.os":
                return "Linux"
            if expression == "github.run_id":
                return str(self.runs)
            if expression.startswith("hashFiles("):
                return _hash_files(checkout, re.findall(r"'([^']+)'", expression))
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.cache-primary-key", expression)
            assert step, f"the test does not know {expression}"
            return outputs[step.group(1)]

        return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def _hash_files(root: Path, patterns: list[str]) -> str:
    digest = hashlib.sha256()
    for path in sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()}):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _copy(source: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    return target


def built(events: Path) -> list[str]:
    rows = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
    return sorted(
        r["package"] for r in rows if r["kind"] == "built" and r.get("filename", "").endswith(".whl")
    )


def test_both_recipes_run_the_same_shell_steps() -> None:
    github, gitlab = recipes()
    steps = [s["run"] for s in github["jobs"]["sync"]["steps"] if "run" in s]
    assert steps == gitlab["sync"]["script"] == ["./doit sync", "./doit prune ci=1"]
    assert gitlab["sync"]["cache"]["paths"] == ["cache/"] and gitlab["sync"]["cache"]["fallback_keys"]


def test_ci_recipe_builds_once_then_nothing_then_only_the_changed_source(
    index: IndexServer, wheelhouse: Path, tmp_path: Path
) -> None:
    for wheel in (ROOT / ".wheelwright" / "test-wheels").glob("*.whl"):
        shutil.copy(wheel, wheelhouse)
    make_wheel(wheelhouse, "plain", "1.0")
    one = make_sdist_dir(tmp_path / "one", "one", "1.0", backend="flit")
    two = make_sdist_dir(tmp_path / "two", "two", "1.0", backend="flit")

    def setup(checkout: Path) -> None:  # the user's repository: its pipeline and its lock
        (checkout / "pipeline.yaml").write_text(
            f"cache: cache\nindex-url: {index.url}\nenvironments:\n  default:\n"
            "    requirements: requirements/ci.txt\n    path: .venvs/default\n"
        )
        lines = ["plain==1.0", f"one @ {one.as_uri()}", f"two @ {two.as_uri()}"]
        (checkout / "requirements" / "ci.txt").write_text("\n".join(lines) + "\n")

    github, _ = recipes()
    steps = github["jobs"]["sync"]["steps"]
    runner = Runner(tmp_path / "ci", setup)
    (tmp_path / "ci").mkdir()
    assert built(runner.run(steps)) == ["one", "two"]
    assert built(runner.run(steps)) == []  # restored cache, new checkout and environment
    (two / "two" / "__init__.py").write_text('"""two."""\nCHANGED = True\n')
    assert built(runner.run(steps)) == ["two"]
    site = next((tmp_path / "ci" / "run3" / ".venvs" / "default" / "lib").glob("python3*/site-packages"))
    assert "CHANGED = True" in (site / "two" / "__init__.py").read_text()
    saved = runner.store[list(runner.store)[-1]]
    assert not (saved / "archive-v0").exists() and list((saved / "built-wheels-v0").rglob("*.whl"))
