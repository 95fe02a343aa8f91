"""Configuration: pipeline.yaml environments, command-line variables, and the index as pip sees it."""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from tasks.core.errors import ConfigError, UsageError
from tasks.inputs.formats import NO_BINARY, ONLY_BINARY, Formats, check_value, fold
from tasks.inputs.project import (
    CONFIG_NAME,
    default_env_path,
    default_input,
    default_lock,
    find_config,
    project_dir,
    user_cache_dir,
    user_cwd,
)
from tasks.inputs.requirements import IndexOptions


@dataclass(frozen=True)
class EnvSpec:
    """One environment to sync: its name, lock file(s), target directory, interpreter."""

    name: str
    requirements: tuple[Path, ...]
    path: Path | None  # None: lock only (no environment to sync)
    python: str
    sources: tuple[Path, ...] = ()  # loose `*.in` inputs that `lock` compiles into requirements[0]
    index: IndexOptions = field(default_factory=IndexOptions)
    config_settings: tuple[tuple[str, str], ...] = ()  # `config-settings:` for every build of the env
    exclude_newer: str | None = None  # `exclude-newer:` the lock's upload-date cut-off (a time or a span)
    python_version: str | None = None  # `python-version`: lock for this Python without its interpreter
    extras: tuple[str, ...] = ()  # pyproject extras to lock, or pylock extras to sync (`extras=dev,docs`)
    groups: tuple[str, ...] = ()  # PEP 735 groups to lock, or pylock groups to sync (`groups=test`)
    with_self: bool = False  # a pyproject input: lock the project itself too, as `-e .` (`self=1`)


@dataclass(frozen=True)
class Pipeline:
    """Everything the tasks need to know before touching the network."""

    cache: Path
    envs: tuple[EnvSpec, ...]
    config_file: Path  # read when it exists (its stamp is an input of the outline memo either way)
    remote_cache: str | None = None  # `s3://bucket/prefix` of a shared build cache, or `off`
    project: Path | None = None  # the project's directory (pipeline.yaml's, else pyproject.toml's)
    found: bool = True  # pipeline.yaml exists (False: the defaults of tasks.inputs.project)


def _path(value: str, base: Path) -> Path:
    return (base / os.path.expanduser(value)).resolve()


def load_pipeline(variables: Mapping[str, str], config_file: Path | None = None) -> Pipeline:
    """The pipeline for this run: `req=`/`venv=` on the command line, else pipeline.yaml found up the
    tree from the user's directory (`config=` wins), else the defaults (tasks.inputs.project)."""
    cwd = user_cwd()
    if config_file is None and variables.get("config"):
        config_file = _path(variables["config"], cwd)
        if not config_file.is_file():
            raise UsageError(f"config={variables['config']}: {config_file} does not exist")
    config_file = config_file or find_config(cwd)
    found = config_file is not None and config_file.is_file()
    project = project_dir(config_file if found else None, cwd)
    config_file = config_file or project / CONFIG_NAME
    data = _read_yaml(config_file) if found else {}
    base = config_file.parent
    cache_value = variables.get("cache") or os.environ.get("WHEELWRIGHT_CACHE")
    if cache_value:
        cache = _path(cache_value, cwd)
    elif "cache" in data:
        cache = _path(str(data["cache"]), base)
    else:
        cache = user_cache_dir()
    default_index = _index_from_yaml(data, config_file).merged(_index_from_vars(variables))
    wanted = variables.get("python-version") or data.get("python-version")
    python_version = _python_version(wanted, config_file)
    if variables.get("req") or variables.get("venv") or variables.get("out"):
        envs: tuple[EnvSpec, ...] = (_env_from_vars(variables, cwd, default_index),)
    elif found:
        envs = _envs_from_yaml(data, base, config_file, default_index)
    else:
        envs = (_default_env(project, variables, default_index),)
    envs = tuple(
        env if env.python_version or not python_version else replace(env, python_version=python_version)
        for env in envs
    )
    remote = (
        variables.get("remote_cache")
        or os.environ.get("WHEELWRIGHT_REMOTE_CACHE")
        or data.get("remote-cache")
    )
    return Pipeline(
        cache=cache,
        envs=envs,
        config_file=config_file,
        remote_cache=str(remote) if remote else None,
        project=project,
        found=found,
    )


def _default_env(project: Path, variables: Mapping[str, str], index: IndexOptions) -> EnvSpec:
    """No pipeline.yaml: requirements.txt (or pylock.toml) into $VIRTUAL_ENV or .venv, locked from
    requirements.in (or pyproject.toml)."""
    return EnvSpec(
        name="default",
        requirements=(default_lock(project),),
        path=default_env_path(project),
        python=variables.get("python") or sys.executable,
        sources=(default_input(project),),
        index=index,
    )


def _read_yaml(path: Path) -> dict[str, object]:
    import yaml

    from tasks.inputs.schema import check

    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not YAML: {' '.join(str(exc).split())}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}:1: expected a mapping of keys (cache:, environments:, ...) at the top level"
        )
    check(data, path, text)
    return data


def _env_from_vars(variables: Mapping[str, str], cwd: Path, index: IndexOptions) -> EnvSpec:
    """`req=FILE venv=DIR` syncs FILE into DIR; `req=FILE.in out=FILE.txt` locks FILE.in into FILE.txt."""
    req, venv, out = variables.get("req"), variables.get("venv"), variables.get("out")
    if not req or not (venv or out):
        raise ConfigError(
            "give req=FILE with venv=DIR (sync) or out=FILE (lock), or neither to use pipeline.yaml"
        )
    python = variables.get("python") or sys.executable
    path = _path(venv, cwd) if venv else None
    spec = EnvSpec(
        "cli",
        (_path(req, cwd),),
        path,
        python,
        index=index,
        extras=_names(variables.get("extras")),
        groups=_names(variables.get("groups")),
        with_self=_flag(variables.get("self")),
    )
    if out:
        return replace(spec, requirements=(_path(out, cwd),), sources=(_path(req, cwd),))
    return spec


def _names(value: object) -> tuple[str, ...]:
    """`dev,docs` (a variable) or `[dev, docs]` (pipeline.yaml) as a tuple of names."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _flag(value: object) -> bool:
    return str(value or "").lower() in ("1", "true", "yes", "on")


def _envs_from_yaml(
    data: Mapping[str, object], base: Path, config_file: Path, index: IndexOptions
) -> tuple[EnvSpec, ...]:
    envs = data.get("environments") or {}
    if not isinstance(envs, dict):
        raise ConfigError(f"{config_file}: `environments` must map names to settings")
    return tuple(_env_from_yaml(str(n), s, base, config_file, index) for n, s in envs.items())


def _as_paths(value: object, base: Path) -> tuple[Path, ...]:
    items = value if isinstance(value, list) else [value] if value else []
    return tuple(_path(str(item), base) for item in items)


def _env_from_yaml(
    name: str, settings: object, base: Path, config_file: Path, index: IndexOptions
) -> EnvSpec:
    if not isinstance(settings, dict) or "requirements" not in settings or "path" not in settings:
        raise ConfigError(f"{config_file}: environment {name!r} needs `requirements` and `path`")
    python = str(settings.get("python") or sys.executable)
    own_index = _index_from_yaml(settings, config_file)
    return EnvSpec(
        name=name,
        requirements=_as_paths(settings["requirements"], base),
        path=_path(str(settings["path"]), base),
        python=python,
        sources=_as_paths(settings.get("in"), base),
        index=index.merged(own_index),
        config_settings=_config_settings(settings.get("config-settings"), name, config_file),
        exclude_newer=str(settings["exclude-newer"]) if settings.get("exclude-newer") else None,
        python_version=_python_version(settings.get("python-version"), config_file),
        extras=_names(settings.get("extras")),
        groups=_names(settings.get("groups")),
        with_self=_flag(settings.get("self")),
    )


def _python_version(value: object, where: Path) -> str | None:
    """`python-version: "3.9"` (or `3.9.18`): a target version for the lock, no interpreter needed."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    parts = text.split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or parts[0] != "3":
        raise ConfigError(f"{where}: python-version takes a version like 3.9 or 3.9.18, not {text!r}")
    return text


def _config_settings(value: object, env: str, config_file: Path) -> tuple[tuple[str, str], ...]:
    """`config-settings: {key: value}` (a value may be a list, passed as a repeated key)."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(f"{config_file}: environment {env!r}: `config-settings` must map keys to values")
    pairs = []
    for key, setting in value.items():
        for item in setting if isinstance(setting, list) else [setting]:
            text = str(item).lower() if isinstance(item, bool) else "" if item is None else str(item)
            pairs.append((str(key), text))
    return tuple(pairs)


def _index_from_yaml(data: Mapping[str, object], config_file: Path) -> IndexOptions:
    extra = data.get("extra-index-urls") or []
    links = data.get("find-links") or []
    if not isinstance(extra, list) or not isinstance(links, list):
        raise ConfigError(f"{config_file}: extra-index-urls and find-links are lists")
    index_url = data.get("index-url")
    return IndexOptions(
        index_url=str(index_url) if index_url else None,
        extra_index_urls=tuple(str(u) for u in extra),
        find_links=tuple(str(u) for u in links),
        no_index=bool(data.get("no-index", False)),
        pre=_yes(data.get("pre")),
        prefer_binary=_yes(data.get("prefer-binary")),
        formats=_formats(data, str(config_file)),
    )


def _index_from_vars(variables: Mapping[str, str]) -> IndexOptions:
    """`pre=1`, `prefer-binary=1`, `only-binary=a,b`, `no-binary=:all:` on the command line."""
    return IndexOptions(
        pre=_yes(variables.get("pre")),
        prefer_binary=_yes(variables.get("prefer-binary")),
        formats=_formats(variables, "the command line"),
    )


def _yes(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _formats(data: Mapping[str, object], where: str) -> tuple[tuple[str, str], ...]:
    """`only-binary`/`no-binary`: a comma-separated string or a list of names, `:all:`, `:none:`."""
    found = []
    for option in (NO_BINARY, ONLY_BINARY):
        value = data.get(option[2:])
        if value is None:
            continue
        text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if (problem := check_value(text)) is not None:
            raise ConfigError(f"{where}: {option[2:]} {problem}")
        found.append((option, text))
    return tuple(found)


# --- pip's configuration -------------------------------------------------------------------


def pip_config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files in the order pip loads them (later ones win)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs] + [Path("/etc/pip.conf")]
    if not (env_file and Path(env_file).exists()):
        home = Path(environ.get("HOME", "~")).expanduser()
        xdg_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def _pip_settings(environ: Mapping[str, str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for path in pip_config_files(environ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                settings.update(parser.items(section))
    for key, value in environ.items():
        if key.startswith("PIP_"):
            settings[key[4:].lower().replace("_", "-")] = value
    return settings


def pip_index_options(environ: Mapping[str, str] | None = None) -> IndexOptions:
    """The index options pip would use from its config files and PIP_* variables."""
    settings = _pip_settings(os.environ if environ is None else environ)
    no_index = settings.get("no-index", "").lower() in ("1", "true", "yes", "on")
    return IndexOptions(
        index_url=settings.get("index-url") or None,
        extra_index_urls=tuple(settings.get("extra-index-url", "").split()),
        find_links=tuple(settings.get("find-links", "").split()),
        no_index=no_index,
        pre=_yes(settings.get("pre")),
        prefer_binary=_yes(settings.get("prefer-binary")),
        formats=_formats(settings, "pip's configuration"),
    )


def pip_default_index() -> str:
    """The index pip in the pipeline's own environment uses when nothing is configured."""
    from pip._internal.models.index import PyPI  # the installed pip's own default

    return str(PyPI.simple_url)


@dataclass(frozen=True)
class Indexes:
    """The index URLs to search in order (first that has a project wins), and find-links.

    Without credentials: the run makes its `tasks.core.auth.Credentials` from the layers' URLs as
    written (`index_urls`) and its sessions add them per host at request time.
    """

    urls: tuple[str, ...]
    find_links: tuple[str, ...]
    pre: bool = False
    prefer_binary: bool = False
    formats: Formats = field(default_factory=Formats)


def effective_indexes(layers: list[IndexOptions], default: str | None = None) -> Indexes:
    """Combine option layers, lowest precedence first (pip config, pipeline.yaml, requirements)."""
    combined = IndexOptions()
    for layer in layers:
        combined = combined.merged(layer)
    urls: tuple[str, ...] = ()
    if combined.no_index:
        links = combined.find_links
    else:
        primary = combined.index_url or default or pip_default_index()
        urls = tuple(dict.fromkeys(_clean(u).rstrip("/") for u in (primary, *combined.extra_index_urls)))
        links = tuple(_clean(u) for u in combined.find_links)
    return Indexes(urls, links, combined.pre, combined.prefer_binary, fold(combined.formats))


def _clean(url: str) -> str:
    """The URL without its `user:password@` (the run's Credentials carry those: `index_urls`)."""
    from tasks.core.auth import split_credentials

    return split_credentials(url)[0]


def index_urls(layers: Iterable[IndexOptions]) -> list[str]:
    """Every index and find-links URL the layers name, as written (credentials and all), lowest
    precedence first: what a run makes its `tasks.core.auth.Credentials` from."""
    return [
        url
        for layer in layers
        for url in (layer.index_url, *layer.extra_index_urls, *layer.find_links)
        if url is not None
    ]
