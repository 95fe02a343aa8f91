"""Requirements files: pip's grammar, includes, options, direct references, pins."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.core.errors import RequirementsError
from tasks.inputs.project import command_name
from tasks.inputs.requirements import logical_lines, parse_file, require_pins
from tasks.inputs.sources import GitSource, PathSource, RegistrySource, UrlSource


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_logical_lines_join_continuations_and_strip_comments() -> None:
    text = "# head\nfoo==1.0 \\\n  --hash=sha256:aa # trailing\n\nbar==2 # c\n"
    assert list(logical_lines(text)) == [(2, "foo==1.0 --hash=sha256:aa"), (5, "bar==2")]


def test_pins_extras_markers_and_several_hashes(tmp_path: Path) -> None:
    f = write(
        tmp_path / "r.txt",
        "Foo_Bar[x,y]==1.0 ; python_version >= '3' \\\n    --hash=sha256:AA --hash=sha256:bb\nbaz===2.0\n",
    )
    reqs = parse_file(f, environ={})
    first, second = reqs.requirements
    assert first.name == "foo-bar"
    assert first.requirement.extras == {"x", "y"}
    assert str(first.requirement.marker) == 'python_version >= "3"'
    assert first.sha256s() == {"aa", "bb"}
    assert first.pinned_version() == "1.0"
    assert second.pinned_version() == "2.0"
    assert first.origin.line == 1 and second.origin.line == 3


def test_includes_constraints_relative_paths_and_env_vars(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "base.txt", "-c cons.txt\nalpha==1\n")
    write(tmp_path / "sub" / "cons.txt", "beta==2\n")
    top = write(
        tmp_path / "top.txt",
        "-r sub/base.txt\n-i ${INDEX}\n--extra-index-url http://127.0.0.1:1/x\ngamma==3\n",
    )
    reqs = parse_file(top, environ={"INDEX": "http://127.0.0.1:9/simple"})
    assert [r.name for r in reqs.requirements] == ["alpha", "gamma"]
    assert [r.name for r in reqs.constraints] == ["beta"]
    assert reqs.index.index_url == "http://127.0.0.1:9/simple"
    assert reqs.index.extra_index_urls == ("http://127.0.0.1:1/x",)
    assert {p.name for p in reqs.files} == {"top.txt", "base.txt", "cons.txt"}


def test_find_links_relative_and_no_index(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    f = write(tmp_path / "r.txt", "--find-links wheels\n--no-index\n")
    reqs = parse_file(f, environ={})
    assert reqs.index.find_links == (str(tmp_path / "wheels"),)
    assert reqs.index.no_index


def test_direct_references_become_sources(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    write(project / "pyproject.toml", '[project]\nname = "local-proj"\nversion = "1"\n')
    f = write(
        tmp_path / "r.txt",
        "werkzeug @ http://127.0.0.1:8/f/werkzeug-3.0.1.tar.gz#sha256=abc\n"
        "git+http://127.0.0.1:8/repo.git@v1.0#egg=flask&subdirectory=src\n"
        "extra @ git+ssh://git@127.0.0.1/r.git@main\n"
        "./proj\n"
        "http://127.0.0.1:8/f/pkg-2.0-py3-none-any.whl\n",
    )
    lines = parse_file(f, environ={}).requirements
    url, git, ssh, path, wheel = (line.source for line in lines)
    assert isinstance(url, UrlSource) and url.sha256 == "abc" and url.filename == "werkzeug-3.0.1.tar.gz"
    assert isinstance(git, GitSource) and git.ref == "v1.0" and git.subdirectory == "src"
    assert git.url == "http://127.0.0.1:8/repo.git" and lines[1].name == "flask"
    assert isinstance(ssh, GitSource) and ssh.url == "ssh://git@127.0.0.1/r.git" and ssh.ref == "main"
    assert isinstance(path, PathSource) and path.path == project and lines[3].name == "local-proj"
    assert isinstance(wheel, UrlSource) and lines[4].name == "pkg"


def test_loose_line_is_refused_for_sync_with_file_and_line(tmp_path: Path) -> None:
    f = write(tmp_path / "r.txt", "ok==1\nloose>=2\n")
    with pytest.raises(RequirementsError) as err:
        require_pins(parse_file(f, environ={}))
    assert f"{f}:2" in str(err.value) and f"`{command_name()} lock`" in str(err.value)


@pytest.mark.parametrize(
    "line, words",
    [("foo==", "invalid requirement"), ("--bogus x", "unknown option"), ("-r missing.txt", "cannot read")],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, line: str, words: str) -> None:
    f = write(tmp_path / "r.txt", f"a==1\n{line}\n")
    with pytest.raises(RequirementsError) as err:
        parse_file(f, environ={})
    assert f"{f}:2" in str(err.value) and words in str(err.value)


def test_registry_source_for_plain_names(tmp_path: Path) -> None:
    f = write(tmp_path / "r.txt", "a==1\n")
    assert isinstance(parse_file(f, environ={}).requirements[0].source, RegistrySource)
