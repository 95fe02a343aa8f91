"""The variable registry and pipeline.yaml's schema: pure checks, no run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tasks.core.errors import UsageError
from tasks.inputs.project import find_config, init_text, project_dir, user_cache_dir
from tasks.inputs.schema import check, line_of
from tasks.inputs.variables import BY_NAME, DEV_TASKS, TASKS, task_help, tasks_help, unknown_variable, value

ROOT = Path(__file__).resolve().parent.parent


def test_every_variable_the_code_reads_is_declared() -> None:
    read = re.compile(
        r"""(?:\bvalue|\bflag|\bvariable|variables\(\)\.get|options\.get)\(\s*["']([\w-]+)["']"""
    )
    names = {m for path in (ROOT / "tasks").rglob("*.py") for m in read.findall(path.read_text())}
    assert names and names <= set(BY_NAME), names - set(BY_NAME)
    assert {"check", "dry", "timeout", "days", "max-size", "link", "upgrade"} <= names
    every_task = {t for v in BY_NAME.values() for t in v.tasks}
    assert every_task <= set(TASKS) | set(DEV_TASKS)


def test_undeclared_name_fails_at_once() -> None:
    with pytest.raises(KeyError, match="not declared"):
        value("chek")


@pytest.mark.parametrize(
    ("names", "tasks", "error"),
    [
        (["check", "dry"], ["sync"], None),
        (["chek"], ["sync"], "unknown variable 'chek' for sync (did you mean check?)"),
        (["chek"], [], "unknown variable 'chek' for sync (did you mean check?)"),
        (["upgrade"], ["sync:default"], "unknown variable 'upgrade' for sync (upgrade= is for lock)"),
        (["upgrade"], ["sync", "lock"], None),
        (["zzz"], ["prune"], "unknown variable 'zzz' for prune"),
        (["max-size", "ci"], ["prune"], None),
        (["req", "venv"], ["build_meta:alpha"], None),
    ],
)
def test_unknown_variable(names: list[str], tasks: list[str], error: str | None) -> None:
    assert unknown_variable(names, tasks) == error


def test_help_texts() -> None:
    sync = task_help("sync:default")
    assert (
        sync.startswith("sync: ") and "  check= " in sync and "(default: 0)" in sync and "days=" not in sync
    )
    assert "test" not in tasks_help("wheelwright", dev=False).split()
    assert "test" in tasks_help("./doit", dev=True).split()


YAML = "cache: c\nenvironments:\n  app:\n    requirements: r.txt\n    path: [a]\n"


def test_schema_names_file_line_and_key(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "pipeline.yaml"
    with pytest.raises(UsageError) as caught:
        check(yaml.safe_load(YAML), path, YAML)
    assert str(caught.value) == f"{path}:5: environments.app.path: expected a string, got a list"
    assert line_of(YAML, ("environments", "app")) == 3
    check(
        {"cache": "c", "environments": {"a": {"requirements": ["x", "y"], "path": "p", "no-index": True}}},
        path,
        "",
    )


def test_project_discovery_and_defaults(tmp_path: Path) -> None:
    deep = tmp_path / "p" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) is None or not str(find_config(deep)).startswith(str(tmp_path))
    (tmp_path / "p" / "pyproject.toml").write_text("")
    assert project_dir(None, deep) == tmp_path / "p"
    (tmp_path / "p" / "a" / "pipeline.yaml").write_text("")
    assert find_config(deep) == tmp_path / "p" / "a" / "pipeline.yaml"
    assert user_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/wheelwright")
    assert user_cache_dir({"HOME": "/h"}) == Path("/h/.cache/wheelwright")
    text = init_text(tmp_path / "p", {})
    assert "requirements: requirements.txt" in text and "path: .venv" in text
    assert "path: .venv " in init_text(tmp_path / "p", {"VIRTUAL_ENV": "/active"})  # not committed there
    assert "path: env " in init_text(tmp_path / "p", {"VIRTUAL_ENV": str(tmp_path / "p" / "env")})
