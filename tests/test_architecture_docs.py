"""The architecture as written matches the packages: layers contract, README, docs/how-it-works.md."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def packages() -> set[str]:
    """The library's top-level packages (directories of `tasks/` with an `__init__.py`)."""
    return {p.parent.name for p in (ROOT / "tasks").glob("*/__init__.py")}


def layers() -> list[str]:
    """The layers contract's packages, top to bottom (pyproject.toml)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [name.removeprefix("tasks.") for name in contract["layers"]]


def drawn() -> list[str]:
    """The packages of docs/how-it-works.md's picture, in the order drawn."""
    text = (ROOT / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    return re.findall(r"^tasks/([a-z_]+)/ ", text, flags=re.MULTILINE)


def test_every_package_is_a_layer() -> None:
    assert sorted(layers()) == sorted(packages())


def test_the_picture_draws_every_package_in_layer_order() -> None:
    assert drawn() == layers()


def test_the_readme_lists_every_package_in_layer_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `tasks/` |"))
    assert re.findall(r"`([a-z_]+)`", row) == layers()


def test_every_module_the_docs_name_exists() -> None:
    """A path `tasks/...py` named in the README or docs/ is a file (a renamed module leaves none)."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {m for path in texts for m in re.findall(r"tasks/[a-z_/]+\.py", path.read_text(encoding="utf-8"))}
    assert named and sorted(n for n in named if not (ROOT / n).is_file()) == []
