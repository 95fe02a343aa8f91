"""Typed values across doit's boundary (tasks.run.values); a pin's one kind (tasks.run.pinkind)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.core.errors import BuildError
from tasks.index.pages import DistFile
from tasks.run.outline import PinOutline
from tasks.run.pinkind import kind_of, record_path, recorded_sha256, remember
from tasks.run.values import BuiltMetadata, WheelPassed, to_values, tree_from, wheel_from
from tasks.source.trees import Tree
from tasks.wheels.registry import Fetched


def test_trees_and_wheels_survive_doits_json_unchanged(tmp_path: Path) -> None:
    tree = Tree(tmp_path, "abc", "git/0123/abc", {"url": "https://example.invalid/r"}, {"url": "u"}, True)
    wheel = Fetched("a", "1.0", "a-1.0-py3-none-any.whl", "f" * 64, str(tmp_path), {"url": "u"}, "abc")
    assert tree_from(json.loads(json.dumps(to_values(tree)))) == tree
    assert wheel_from(json.loads(json.dumps(to_values(wheel)))) == wheel
    # the keys are doit's saved state and what the uptodate checks read: they stay as they were
    assert set(to_values(tree)) == {"path", "revision", "bucket", "info", "direct_url", "editable"}
    assert to_values(BuiltMetadata("abc", "/m.json")) == {"revision": "abc", "metadata": "/m.json"}
    assert to_values(WheelPassed()) == {"wheel": True}
    with pytest.raises(BuildError, match="not fetched"):
        tree_from(None)


def test_an_index_pins_kind_is_its_record_under_its_one_key(tmp_path: Path) -> None:
    unknown = PinOutline("a", '{"key": 1}', "doc", choice_key='{"hashes": ["f"]}')
    assert kind_of(tmp_path, unknown) is None and unknown.built and unknown.registry
    remember(tmp_path, unknown, DistFile("a-1.0.tar.gz", "u", (("sha256", "f" * 64),)))
    assert record_path(tmp_path, unknown).is_file()
    assert kind_of(tmp_path, unknown) == "sdist"
    assert recorded_sha256(tmp_path, unknown, "sdist") == "f" * 64
    assert recorded_sha256(tmp_path, unknown, "wheel") is None
    other = PinOutline("a", '{"key": 1}', "doc", choice_key='{"hashes": ["g"]}')  # same key, other hashes
    assert kind_of(tmp_path, other) is None
    planned = PinOutline("a", "{}", "doc", kind="wheel", choice_key='{"hashes": ["f"]}')
    assert kind_of(tmp_path, planned) == "wheel" and not planned.built  # as planned: no record read
    direct = PinOutline("b", "{}", "doc", kind="sdist")
    assert kind_of(tmp_path, direct) == "sdist" and direct.built and not direct.registry
