"""The light conditional GET (tasks/core/conditional.py): asked only when the session's setup is not needed,
True for a 304, False for a 200, None for anything it cannot tell."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class _Etagged(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(304 if self.headers.get("If-None-Match") == '"abc"' else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), signed by itself."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    loopback = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(loopback, False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def test_https_is_verified_as_the_session_verifies_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Etagged)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/a.tar.gz"
    try:
        for name in conditional.CA_BUNDLE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        assert not_modified(url, {"If-None-Match": '"abc"'}) is None  # certifi does not know this one
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        assert not_modified(url, {"If-None-Match": '"abc"'}) is True
        assert not_modified(url, {"If-None-Match": '"old"'}) is False
        other_name = url.replace("127.0.0.1", "localhost")  # the certificate names 127.0.0.1 only
        assert not_modified(other_name, {"If-None-Match": '"abc"'}) is None
    finally:
        server.shutdown()
        server.server_close()


def test_what_would_need_quoting_is_left_to_the_session(wheelhouse: Path) -> None:
    with IndexServer(wheelhouse) as index:
        assert not_modified(f"{index.files_url}/a b.tar.gz", {"If-None-Match": '"x"'}) is None
        assert not_modified(f"{index.files_url}/a.tar.gz", {"If-None-Match": '"x"\r\nX-Injected: 1'}) is None
        assert index.requests == []
