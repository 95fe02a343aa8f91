"""Index pages (both forms) and choosing a file for a pin."""

from __future__ import annotations

import json

from tasks.envs.interpreter import Interpreter
from tasks.index.choice import choose_wheel
from tasks.index.pages import DistFile, files_for_project, parse_html_page, parse_json_page

PAGE = "http://127.0.0.1:1/simple/demo/"


def interp(version: str = "3.11.7") -> Interpreter:
    tags = ("cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "py3-none-any")
    return Interpreter("/py", "/p", "/p", version, {}, tags, {}, {})


def test_html_and_json_forms_agree() -> None:
    html = (
        '<a href="../../files/demo-1.0-py3-none-any.whl#sha256=AB" data-requires-python="&gt;=3.8" '
        'data-core-metadata="sha256=cd">demo-1.0-py3-none-any.whl</a>'
        '<a href="../../files/demo-0.9.tar.gz#sha256=ef" data-yanked="broken">demo-0.9.tar.gz</a>'
    )
    page = {
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "../../files/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": "ab"},
                "requires-python": ">=3.8",
                "core-metadata": {"sha256": "cd"},
            },
            {
                "filename": "demo-0.9.tar.gz",
                "url": "../../files/demo-0.9.tar.gz",
                "hashes": {"sha256": "ef"},
                "yanked": "broken",
            },
        ]
    }
    from_html = parse_html_page(html, PAGE)
    from_json = parse_json_page(json.dumps(page), PAGE)
    assert from_html == from_json
    wheel, sdist = from_html
    assert wheel.url == "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl"
    assert wheel.sha256 == "ab" and wheel.requires_python == ">=3.8" and wheel.has_metadata
    assert sdist.yanked == "broken" and not sdist.has_metadata


def test_find_links_pages_are_filtered_by_project() -> None:
    files = [DistFile("demo-1.0-py3-none-any.whl", "u"), DistFile("other-1.0.tar.gz", "u")]
    assert [f.filename for f in files_for_project(files, "demo")] == ["demo-1.0-py3-none-any.whl"]  # type: ignore[arg-type]


def test_choose_prefers_best_tag_then_non_yanked() -> None:
    files = [
        DistFile("demo-1.0-py3-none-any.whl", "u1", (("sha256", "a"),)),
        DistFile("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "u2", (("sha256", "b"),)),
        DistFile("demo-1.0-cp310-cp310-manylinux_2_17_x86_64.whl", "u3", (("sha256", "c"),)),
        DistFile("demo-2.0-py3-none-any.whl", "u4"),
    ]
    assert choose_wheel(files, "1.0", interp()).file == files[1]
    assert choose_wheel(files, "1.0", interp(), hashes={"a"}).file == files[0]
    yanked = [DistFile("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "y", yanked=""), files[0]]
    assert choose_wheel(yanked, "1.0", interp()).file == files[0]
    only_yanked = choose_wheel(yanked[:1], "1.0", interp())
    assert only_yanked.file == yanked[0] and only_yanked.yanked_only


def test_choose_explains_why_nothing_fits() -> None:
    files = [
        DistFile("demo-1.0-cp310-cp310-manylinux_2_17_x86_64.whl", "u", (("sha256", "a"),)),
        DistFile("demo-1.0.tar.gz", "s", (("sha256", "b"),)),
        DistFile("demo-3.0-py3-none-any.whl", "n", requires_python=">=3.12"),
    ]
    assert "not on the index" in choose_wheel(files, "9", interp()).reason
    assert "only a source distribution" in choose_wheel(files, "1.0", interp()).reason
    assert "requires a Python" in choose_wheel(files, "3.0", interp()).reason
    assert "hashes" in choose_wheel(files, "1.0", interp(), hashes={"zz"}).reason
