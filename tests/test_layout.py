"""The cache layout (pure): one module names every family and builds every bucket; no other spells them."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from tasks.core import layout
from tasks.core.layout import Bucket

TASKS = Path(__file__).resolve().parent.parent / "tasks"
FAMILY = re.compile(r"-v0$|\.sqlite3$")
PREFIX = re.compile(r"^(?:[rRbBuU]?[fF]?|[fF][rR]?)[\"'](?:pypi|index|url|git|path|editable)/")


def literals(path: Path) -> list[tuple[int, str]]:
    """(line, literal) of each string token in a module that names a family or starts with a bucket prefix."""
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    fstring = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+: an f-string is several tokens
    for i, tok in enumerate(tokens):
        if tok.type not in (tokenize.STRING, fstring):
            continue
        text = tok.string + (tokens[i + 1].string if tok.type == fstring else "")
        body = text.lstrip("rRbBuUfF")
        if body[:3] in ('"""', "'''"):
            continue  # docstrings may show the layout
        value = body[1:-1] if tok.type == tokenize.STRING else ""
        if FAMILY.search(value) or PREFIX.match(text):
            found.append((tok.start[0], text))
    return found


def test_no_family_name_or_bucket_prefix_is_spelled_outside_the_layout() -> None:
    offenders = [
        f"{path.relative_to(TASKS.parent)}:{line}: {text}"
        for path in sorted(TASKS.rglob("*.py"))
        if path != TASKS / "core" / "layout.py"
        for line, text in literals(path)
    ]
    assert not offenders, "ask tasks/core/layout.py instead (or run the layout rewrite):\n" + "\n".join(
        offenders
    )


@pytest.mark.parametrize(
    "source",
    [
        'x = cache / "archive-v0" / sha\n',
        "x = 'doit-state.sqlite3'\n",
        'b = f"git/{d}/{c}"\n',
        'k.startswith("path/")\n',
    ],
)
def test_the_check_finds_what_it_forbids(tmp_path: Path, source: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert literals(module)


def test_the_check_leaves_other_strings_alone(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Buckets: `pypi/<sdist>`, `git-v0/`."""\nx = "path"\ny = "a/path/b"\nz = "v0"\n')
    assert not literals(module)


def test_buckets_keep_the_seed_layout() -> None:
    cache = Path("/c")
    git = Bucket("git", "0123456789abcdef", "a" * 40)
    assert git.key == f"git/0123456789abcdef/{'a' * 40}"
    assert git.group == "git/0123456789abcdef"
    assert git.metadata_json(cache) == cache / "built-wheel-metadata-v0" / git.key / "metadata.json"
    assert git.wheels_dir(cache) == cache / "built-wheels-v0" / git.key
    pypi = Bucket("pypi", "", "pkg-1.0.tar.gz")
    assert (pypi.key, pypi.group) == ("pypi/pkg-1.0.tar.gz", "pypi")


@pytest.mark.parametrize(
    "key",
    [
        "pypi/pkg-1.0.tar.gz",
        "index/00ff/pkg-1.0.tar.gz",
        "url/00ff/master.zip",
        "path/00ff/rev",
        "editable/0/r",
    ],
)
def test_a_bucket_key_parses_back_to_itself(key: str) -> None:
    assert Bucket.parse(key).key == key
    assert layout.kind_of(key) == key.split("/")[0]


def test_what_a_bucket_kind_says() -> None:
    assert [k for k in layout.KINDS if Bucket(k, "d", "l").from_index] == ["pypi", "index"]
    assert [k for k in layout.KINDS if Bucket(k, "d", "l").one_revision] == ["path", "editable"]
    assert [k for k in layout.KINDS if Bucket(k, "d", "l").has_revisions] == ["git", "path"]
    with pytest.raises(ValueError, match="not a cache bucket"):
        Bucket.parse("somewhere/else")
    assert layout.kind_of("somewhere/else") == ""


def test_the_default_index_has_no_digest_level() -> None:
    assert layout.index_bucket("http://127.0.0.1/simple/", "p-1.tar.gz", "http://127.0.0.1/simple").key == (
        "pypi/p-1.tar.gz"
    )
    other = layout.index_bucket("http://127.0.0.1:9/simple", "p-1.tar.gz", "http://127.0.0.1/simple")
    assert other.kind == "index" and len(other.digest) == 16 and other.leaf == "p-1.tar.gz"


def test_families_are_unique_and_each_says_how_a_prune_treats_it() -> None:
    names = [f.name for f in layout.FAMILIES]
    assert len(names) == len(set(names)) == 20
    assert all(f.what for f in layout.FAMILIES)
    assert {f.name for f in layout.FAMILIES if f.kept} == {
        "interpreters-v0",
        "doit-state.sqlite3",
        "confirmed-v0",
        "state-v0",
    }
    assert {f.name for f in layout.FAMILIES if f.transient} == {"downloads-v0", "sdists-v0"}
    assert layout.family("doit-state.sqlite3-journal").kept
    unknown = layout.family("something-else")
    assert (unknown.what, unknown.kept, unknown.aged, unknown.ci) == ("", False, False, False)
