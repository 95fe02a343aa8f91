"""Configuration: pip's files and variables, layered index options, pipeline.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.inputs.config import effective_indexes, load_pipeline, pip_index_options
from tasks.inputs.requirements import IndexOptions


def test_pip_config_files_and_env_vars(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = http://127.0.0.1:1/a\nextra-index-url = http://127.0.0.1:2/b\n")
    env = {"PIP_CONFIG_FILE": str(conf), "HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert pip_index_options(env).index_url == "http://127.0.0.1:1/a"
    env["PIP_INDEX_URL"] = "http://127.0.0.1:3/c"
    options = pip_index_options(env)
    assert options.index_url == "http://127.0.0.1:3/c"
    assert options.extra_index_urls == ("http://127.0.0.1:2/b",)


def test_devnull_config_file_disables_every_file(tmp_path: Path) -> None:
    (tmp_path / ".config" / "pip").mkdir(parents=True)
    (tmp_path / ".config" / "pip" / "pip.conf").write_text("[global]\nindex-url = http://127.0.0.1:1/x\n")
    env = {"PIP_CONFIG_FILE": os.devnull, "HOME": str(tmp_path)}
    assert pip_index_options(env).index_url is None


def test_layers_later_wins_extras_accumulate_no_index() -> None:
    pip = IndexOptions(index_url="http://127.0.0.1:1/pip", extra_index_urls=("http://127.0.0.1:2/e",))
    req = IndexOptions(index_url="http://127.0.0.1:3/req/")
    got = effective_indexes([pip, req], default="http://127.0.0.1:9/default")
    assert got.urls == ("http://127.0.0.1:3/req", "http://127.0.0.1:2/e")
    assert effective_indexes([IndexOptions(no_index=True, find_links=("/w",))]).urls == ()


def test_default_index_is_what_pip_reports_when_nothing_is_configured() -> None:
    from pip._internal.models.index import PyPI

    assert effective_indexes([]).urls == (PyPI.simple_url.rstrip("/"),)


def test_pipeline_yaml_and_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(
        "cache: c\nindex-url: http://127.0.0.1:1/s\nenvironments:\n"
        "  web:\n    requirements: [a.txt, b.txt]\n    path: .venvs/web\n    python: python3\n"
    )
    pipe = load_pipeline({}, cfg)
    (web,) = pipe.envs
    assert pipe.cache == tmp_path / "c"
    assert web.requirements == (tmp_path / "a.txt", tmp_path / "b.txt")
    assert web.path == tmp_path / ".venvs" / "web" and web.index.index_url == "http://127.0.0.1:1/s"
    monkeypatch.setenv("WHEELWRIGHT_CWD", str(tmp_path / "cwd"))
    cli = load_pipeline({"req": "r.txt", "venv": "v", "cache": "k"}, cfg)
    assert cli.envs[0].requirements == (tmp_path / "cwd" / "r.txt",)
    assert cli.cache == tmp_path / "cwd" / "k"
    with pytest.raises(ConfigError):
        load_pipeline({"req": "r.txt"}, cfg)


@pytest.mark.usefixtures("isolated_env")
def test_the_projects_own_pipeline_yaml_is_the_default() -> None:
    """With no config= and no req=, the project's pipeline.yaml names the environments (and the cache)."""
    root = Path(__file__).resolve().parent.parent
    pipeline = load_pipeline({})
    assert [env.name for env in pipeline.envs] == ["default"]
    assert pipeline.envs[0].path == root / ".venvs" / "default"
    assert pipeline.cache == root / "cache"


def test_format_options_fold_across_layers_as_pip_applies_them(tmp_path: Path) -> None:
    """PIP_* variables, pipeline.yaml, then the requirement files: the later option wins, name by name."""
    env = {"PIP_CONFIG_FILE": os.devnull, "HOME": str(tmp_path), "PIP_NO_BINARY": ":all:", "PIP_PRE": "1"}
    pip = pip_index_options(env)
    assert pip.pre and pip.formats == (("--no-binary", ":all:"),)
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        "only-binary: [numpy, Scipy]\nprefer-binary: true\npython-version: '3.9'\n"
        "environments:\n  dev:\n    requirements: dev.txt\n    path: venv\n    python-version: '3.12'\n"
        "  ci:\n    requirements: ci.txt\n    path: ci\n"
    )
    pipeline = load_pipeline({}, config)
    assert [env.python_version for env in pipeline.envs] == ["3.12", "3.9"]
    yaml_layer = pipeline.envs[0].index
    files = IndexOptions(formats=(("--no-binary", "scipy"),))
    got = effective_indexes([pip, yaml_layer, files], default="http://127.0.0.1:9/")
    assert got.pre and got.prefer_binary
    assert got.formats.allowed("numpy") == (True, False)  # only-binary from pipeline.yaml
    assert got.formats.allowed("scipy") == (False, True)  # the file's no-binary took it back
    assert got.formats.allowed("other") == (False, True)  # PIP_NO_BINARY=:all:
    assert effective_indexes([files, IndexOptions(formats=(("--only-binary", ":all:"),))]).formats.allowed(
        "scipy"
    ) == (True, False)
    with pytest.raises(ConfigError, match=r"python-version takes a version like 3\.9"):
        config.write_text("python-version: 'py39'\n")
        load_pipeline({}, config)
