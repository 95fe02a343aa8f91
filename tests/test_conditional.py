"""The light conditional GET (tasks/core/conditional.py): asked only when the session's setup is not needed,
True for a 304, False for a 200, None for anything it cannot tell."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tasks.core import conditional
from tasks.core.conditional import not_modified, usable
from tests.support.index_server import IndexServer


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        ("http://127.0.0.1:8000/a.tar.gz", {}, True),
        ("https://files.example/a.tar.gz", {}, True),
        ("file:///tmp/a.tar.gz", {}, False),
        ("http://user:secret@127.0.0.1:8000/a.tar.gz", {}, False),
        ("http://127.0.0.1:8000/a.tar.gz", {"HTTPS_PROXY": "http://proxy:3128"}, False),
        ("http://127.0.0.1:8000/a.tar.gz", {"http_proxy": "http://proxy:3128"}, False),
        ("http://127.0.0.1:8000/a.tar.gz", {"ALL_PROXY": "socks5://proxy:1080"}, False),
        ("http://127.0.0.1:8000/a.tar.gz", {"no_proxy": "*"}, True),
    ],
)
def test_usable_only_without_what_the_session_alone_honours(
    url: str, environ: dict[str, str], expected: bool
) -> None:
    assert usable(url, environ) is expected


def test_a_netrc_file_leaves_the_question_to_the_session(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    assert usable("http://127.0.0.1/a.tar.gz", {"NETRC": str(netrc)})  # named, but not there
    netrc.write_text("machine 127.0.0.1 login u password p\n")
    assert not usable("http://127.0.0.1/a.tar.gz", {"NETRC": str(netrc)})
    (Path.home() / ".netrc").write_text("machine 127.0.0.1 login u password p\n")  # HOME: the test's own
    assert not usable("http://127.0.0.1/a.tar.gz", {})


def test_answers_from_a_real_server(wheelhouse: Path) -> None:
    (wheelhouse / "pkg-1.0.tar.gz").write_bytes(b"content")
    with IndexServer(wheelhouse) as index:
        url = f"{index.files_url}/pkg-1.0.tar.gz"
        etag = conditional_etag(index, url)
        assert not_modified(url, {"If-None-Match": etag}) is True
        assert not_modified(url, {"If-None-Match": '"other"'}) is False
        sent = index.requests[-1].headers
        assert sent["If-None-Match"] == '"other"' and sent["User-Agent"].startswith("wheelwright/")
        assert not_modified(f"{index.files_url}/missing-1.0.tar.gz", {"If-None-Match": etag}) is None
        index.fail("/files/", 503)
        assert not_modified(url, {"If-None-Match": etag}) is None
        assert not_modified(url, {}) is None  # nothing to revalidate with: only a fetch can tell
    assert not_modified(url, {"If-None-Match": etag}) is None  # nobody listening


def conditional_etag(index: IndexServer, url: str) -> str:
    """The ETag the server gives the file (what a first fetch stores)."""
    assert not_modified(url, {"If-None-Match": '"none"'}) is False
    import urllib.request

    with urllib.request.urlopen(url) as response:
        return str(response.headers["ETag"])


def test_a_silent_server_is_not_waited_for_beyond_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/a.tar.gz"
        assert not_modified(url, {"If-None-Match": '"x"'}, timeout=0.2) is None


def test_tls_verification_takes_the_bundle_requests_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    for name in conditional.CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert conditional._tls_context().verify_mode.name == "CERT_REQUIRED"
    seen: list[dict[str, str | None]] = []
    monkeypatch.setattr("ssl.create_default_context", lambda **kw: seen.append(kw))
    conditional._tls_context()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    conditional._tls_context()
    assert seen == [{"cafile": certifi.where()}, {"capath": str(tmp_path)}]
