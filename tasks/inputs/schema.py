"""pipeline.yaml's schema: the keys it may have and their types, checked in one pass before any use.

A wrong file is one line naming the file, the line and the key, with a did-you-mean where one
fits (`pipeline.yaml:2: unknown key 'enviroments' (did you mean environments?)`). The line
numbers come from composing the YAML again, only when there is an error to show.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from tasks.core.errors import UsageError

STR = "a string"
STRS = "a string or a list of strings"
LIST = "a list of strings"
BOOL = "true or false"
MAP = "a mapping"
TIME = "a time (2026-10-01T00:00:00Z) or a span (P7D)"

INDEX_KEYS = {
    "index-url": STR,
    "extra-index-urls": LIST,
    "find-links": LIST,
    "no-index": BOOL,
    "pre": BOOL,
    "prefer-binary": BOOL,
    "only-binary": STRS,
    "no-binary": STRS,
}
TOP_KEYS = {"cache": STR, "remote-cache": STR, "python-version": STR, "environments": MAP, **INDEX_KEYS}
ENV_KEYS = {
    "requirements": STRS,
    "in": STRS,
    "path": STR,
    "python": STR,
    "python-version": STR,
    "config-settings": MAP,
    "exclude-newer": TIME,
    "extras": STRS,
    "groups": STRS,
    "self": BOOL,
    **INDEX_KEYS,
}
REQUIRED_ENV_KEYS = ("requirements", "path")


def _fits(value: object, kind: str) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == MAP:
        return isinstance(value, dict)
    if kind == TIME:
        import datetime

        return isinstance(value, (str, datetime.date))  # YAML reads an unquoted time as a datetime
    if kind == LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return "nothing" if value is None else names.get(type(value), type(value).__name__)


def check(data: Mapping[str, object], path: Path, text: str) -> None:
    """Raise UsageError for the first unknown key or wrong type in pipeline.yaml's `data`."""
    _check_mapping(data, TOP_KEYS, (), path, text)
    envs = data.get("environments")
    if not isinstance(envs, dict):
        return
    for name, settings in envs.items():
        where = ("environments", str(name))
        if not isinstance(settings, dict):
            raise _error(
                path, text, where, f"environments.{name}: expected {MAP}, got {_type_name(settings)}"
            )
        _check_mapping(settings, ENV_KEYS, where, path, text)
        for key in REQUIRED_ENV_KEYS:
            if key not in settings:
                raise _error(path, text, where, f"environments.{name}: `{key}:` is missing")


def _check_mapping(
    data: Mapping[str, object], keys: Mapping[str, str], where: tuple[str, ...], path: Path, text: str
) -> None:
    for key, value in data.items():
        dotted = ".".join((*where, str(key)))
        if key not in keys:
            close = difflib.get_close_matches(str(key), list(keys), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(keys)})"
            raise _error(path, text, (*where, str(key)), f"unknown key {dotted!r}{hint}")
        kind = keys[key]
        if not _fits(value, kind):
            quote = " (quote it)" if isinstance(value, (int, float)) and kind in (STR, STRS) else ""
            raise _error(
                path, text, (*where, str(key)), f"{dotted}: expected {kind}, got {_type_name(value)}{quote}"
            )


def _error(path: Path, text: str, where: tuple[str, ...], message: str) -> UsageError:
    line = line_of(text, where)
    return UsageError(f"{path}{f':{line}' if line else ''}: {message}")


def line_of(text: str, where: tuple[str, ...]) -> int | None:
    """The 1-based line of the key at `where` (a path of mapping keys) in YAML `text`; None if unknown."""
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in where:
        if not isinstance(node, yaml.MappingNode):
            return line
        match = next(((k, v) for k, v in node.value if str(k.value) == key), None)
        if match is None:
            return line
        line, node = match[0].start_mark.line + 1, match[1]
    return line
