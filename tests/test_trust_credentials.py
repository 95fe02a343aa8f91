"""Credentials stay in memory: a private index with basic auth works, and no secret reaches the disk.

A loopback index requires basic auth for pages and files and lists absolute file URLs on its own
host without credentials (pip sends the index's credentials for them). After each run every file
of the cache (doit's sqlite state included), of the outline memos and of the venv is searched
for the token, and for its base64 form as an Authorization header would carry it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import ROOT, doit, installed, site_packages, sync
from tests.support.auth_index import AuthIndexServer
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel

pytestmark = pytest.mark.usefixtures("isolated_env")
USER, TOKEN = "user", "tok3n-S3CRET-9f2c"
TEST_WHEELS = ROOT / ".wheelwright" / "test-wheels"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the outline memos go (outside the cache): searched for the token too."""
    path = tmp_path / "ww-home"
    monkeypatch.setenv("WHEELWRIGHT_HOME", str(path))
    return path


@pytest.fixture
def private(wheelhouse: Path) -> Iterator[AuthIndexServer]:
    with AuthIndexServer(wheelhouse, USER, TOKEN) as server:
        yield server


def leaks(*roots: Path, secret: str = TOKEN) -> list[str]:
    """Every file below `roots` whose bytes hold the secret or its basic-auth header form."""
    needles = (secret.encode(), base64.b64encode(f"{USER}:{secret}".encode()))
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                found += [str(path) for needle in needles if needle in data]
    return found


def wheels(wheelhouse: Path) -> None:
    make_wheel(wheelhouse, "app", "1.0", requires_dist=["lib"])
    make_wheel(wheelhouse, "lib", "2.0")


@pytest.mark.parametrize("pages", ["json", "html"])  # absolute file URLs, relative ones
def test_credentials_in_the_requirements_file_reach_files_but_never_the_disk(
    private: AuthIndexServer, wheelhouse: Path, tmp_path: Path, home: Path, pages: str
) -> None:
    private.json_api = pages == "json"
    wheels(wheelhouse)
    for wheel in sorted(TEST_WHEELS.glob("flit_core-*.whl")):
        (wheelhouse / wheel.name).write_bytes(wheel.read_bytes())
    make_sdist(wheelhouse, "sdonly", "1.0", backend="flit")
    make_sdist(tmp_path / "direct", "urlpkg", "1.0", backend="flit")
    (wheelhouse / "urlpkg-1.0.tar.gz").write_bytes((tmp_path / "direct" / "urlpkg-1.0.tar.gz").read_bytes())
    direct = f"http://{USER}:{TOKEN}@127.0.0.1:{private.port}/files/urlpkg-1.0.tar.gz"
    req = tmp_path / "requirements.txt"
    req.write_text(
        f"--index-url {private.url_with(USER, TOKEN)}\napp==1.0\nlib==2.0\nsdonly==1.0\nurlpkg @ {direct}\n"
    )
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    run = sync(req, venv, cache)
    assert run.code == 0, run.err
    assert installed(venv) == {"app": "1.0", "lib": "2.0", "sdonly": "1.0", "urlpkg": "1.0"}
    assert private.count("/files/lib-2.0") == 1  # the absolute file URL was fetched with the credentials
    assert all(r.status != 401 for r in private.requests)
    assert list((cache / "built-wheel-metadata-v0").rglob("metadata.json"))
    assert list(site_packages(venv).glob("urlpkg-1.0.dist-info/direct_url.json"))
    assert TOKEN not in run.out + run.err
    assert leaks(cache, home, venv) == []
    again = sync(req, venv, cache)
    assert again.code == 0, again.err
    assert leaks(cache, home, venv) == []


@pytest.mark.parametrize("pages", ["json", "html"])
def test_credentials_in_pip_index_url_are_sent_for_the_index_files(
    private: AuthIndexServer,
    wheelhouse: Path,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    pages: str,
) -> None:
    private.json_api = pages == "json"
    private.vary_authorization = True  # the HTTP cache must keep a hash of the header, not the header
    wheels(wheelhouse)
    monkeypatch.setenv("PIP_INDEX_URL", private.url_with(USER, TOKEN))
    req = tmp_path / "requirements.txt"
    req.write_text("app==1.0\nlib==2.0\n")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    run = sync(req, venv, cache)
    assert run.code == 0, run.err
    assert installed(venv) == {"app": "1.0", "lib": "2.0"}
    assert private.count("/files/app-1.0") == 1
    assert leaks(cache, home, venv) == []
    pages = private.count("/simple/")
    for state in cache.rglob("doit-state.sqlite3*"):
        state.unlink()  # the fetch tasks run again: their pages come from the HTTP cache
    run = sync(req, tmp_path / "venv2", cache)
    assert run.code == 0, run.err
    assert "fetch:app" in run.ran
    assert private.count("/simple/") == pages
    assert leaks(cache, home, venv) == []


def test_netrc_in_home_gives_the_credentials(
    private: AuthIndexServer, wheelhouse: Path, tmp_path: Path, home: Path
) -> None:
    wheels(wheelhouse)
    netrc = tmp_path / "home" / ".netrc"  # HOME of isolated_env
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {TOKEN}\n")
    netrc.chmod(0o600)
    req = tmp_path / "requirements.txt"
    req.write_text(f"--index-url {private.url}\napp==1.0\nlib==2.0\n")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    run = sync(req, venv, cache)
    assert run.code == 0, run.err
    assert installed(venv) == {"app": "1.0", "lib": "2.0"}
    assert leaks(cache, home, venv) == []


def test_index_credentials_are_not_sent_to_another_host(wheelhouse: Path, tmp_path: Path, home: Path) -> None:
    wheels(wheelhouse)
    with (
        IndexServer(wheelhouse) as other,
        AuthIndexServer(wheelhouse, USER, TOKEN, files_base=other.files_url) as private,
    ):
        req = tmp_path / "requirements.txt"
        req.write_text(f"--index-url {private.url_with(USER, TOKEN)}\napp==1.0\nlib==2.0\n")
        run = sync(req, tmp_path / "venv", tmp_path / "cache")
        assert run.code == 0, run.err
        assert private.count("/simple/app/") >= 1
        assert all("Authorization" in r.headers for r in private.requests if r.status == 200)
    files = [r for r in other.requests if r.path.startswith("/files/")]
    assert {r.path for r in files} == {"/files/app-1.0-py3-none-any.whl", "/files/lib-2.0-py3-none-any.whl"}
    assert all("Authorization" not in r.headers and "authorization" not in r.headers for r in files)


def test_lock_keeps_a_variable_reference_and_never_its_value(
    private: AuthIndexServer, wheelhouse: Path, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels(wheelhouse)
    monkeypatch.setenv("TOKEN_VAR", TOKEN)
    written = f"http://{USER}:${{TOKEN_VAR}}@127.0.0.1:{private.port}/simple"
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    make_wheel(wheelhouse, "extra", "1.0")
    direct = f"http://{USER}:${{TOKEN_VAR}}@127.0.0.1:{private.port}/files/extra-1.0-py3-none-any.whl"
    req.write_text(f"--index-url {written}\napp\nextra @ {direct}\n")
    run = doit("lock", f"req={req}", f"out={out}", f"cache={cache}")
    assert run.code == 0, run.err
    text = out.read_text()
    assert f"--index-url {written}\n" in text
    assert f"extra @ {direct}" in text
    assert TOKEN not in text
    assert "app==1.0" in text and "lib==2.0" in text
    assert leaks(cache, home) == []
    run = sync(out, tmp_path / "venv", cache)  # the lock works: the references expand again
    assert run.code == 0, run.err
    assert installed(tmp_path / "venv") == {"app": "1.0", "extra": "1.0", "lib": "2.0"}
    assert leaks(cache, home, tmp_path / "venv") == []


def test_lock_of_a_literal_token_writes_no_token(
    private: AuthIndexServer, wheelhouse: Path, tmp_path: Path, home: Path
) -> None:
    wheels(wheelhouse)
    req, out, cache = tmp_path / "requirements.in", tmp_path / "requirements.txt", tmp_path / "cache"
    make_wheel(wheelhouse, "extra", "1.0")
    direct = f"127.0.0.1:{private.port}/files/extra-1.0-py3-none-any.whl"
    req.write_text(
        f"--index-url {private.url_with(USER, TOKEN)}\napp\nextra @ http://{USER}:{TOKEN}@{direct}\n"
    )
    run = doit("lock", f"req={req}", f"out={out}", f"cache={cache}")
    assert run.code == 0, run.err
    text = out.read_text()
    assert f"--index-url {private.url}\n" in text
    assert f"extra @ http://{direct}" in text
    assert TOKEN not in text and USER + ":" not in text
    assert "app==1.0" in text
    assert leaks(cache, home) == []


def test_error_line_of_a_failing_credentialed_index_hides_the_token(
    private: AuthIndexServer, wheelhouse: Path, tmp_path: Path, home: Path
) -> None:
    wheels(wheelhouse)
    wrong = "wr0ng-S3CRET-77"
    req = tmp_path / "requirements.txt"
    req.write_text(f"--index-url {private.url_with(USER, wrong)}\napp==1.0\nlib==2.0\n")
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    run = sync(req, venv, cache)
    assert run.code == 1
    assert any("401" in line and f"127.0.0.1:{private.port}" in line for line in run.errors), run.err
    assert wrong not in run.out + run.err
    assert "Traceback" not in run.err
    req.write_text(f"--index-url {private.url_with(USER, TOKEN)}\nmissing==1.0\n")
    run = sync(req, venv, cache)
    assert run.code == 1
    assert any("missing" in line for line in run.errors), run.err
    assert TOKEN not in run.out + run.err
    assert leaks(cache, home, venv, secret=wrong) == [] and leaks(cache, home, venv) == []


def test_netrc_is_read_once_per_host_not_at_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import requests.utils

    from tasks.core.auth import Credentials

    netrc = tmp_path / "home" / ".netrc"  # HOME of isolated_env
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {TOKEN}\n")
    netrc.chmod(0o600)
    reads: list[str] = []
    original = requests.utils.get_netrc_auth

    def counting(url: str, raise_errors: bool = False) -> tuple[str, str] | None:
        reads.append(url)
        return original(url, raise_errors)

    monkeypatch.setattr(requests.utils, "get_netrc_auth", counting)
    credentials = Credentials()
    for page in ("app", "lib", "app"):
        assert credentials.for_url(f"http://127.0.0.1:1/simple/{page}/") == (USER, TOKEN)
    assert credentials.for_url("http://localhost:1/simple/app/") is None
    assert len(reads) == 2  # one look-up per host
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))  # another ~/.netrc: looked up again
    assert credentials.for_url("http://127.0.0.1:1/simple/app/") is None
    assert len(reads) == 3
