"""TLS trust (`tasks.core.tls`): a CA bundle is parsed once per run's network, and verification stays on."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tasks.core import http

LOOPBACK = "127.0.0.1"


def _certificate(common_name: str, tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA), and its key: (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{common_name}.pem", tmp / f"{common_name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.send_header("Connection", "close")  # every request opens a new connection
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def https_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback, and the bundle that trusts it."""
    cert, key = _certificate("loopback", tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    server.shutdown()
    server.server_close()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every CA bundle parsed from now on (the path or directory given to OpenSSL)."""
    seen: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def load(self: ssl.SSLContext, cafile: Any = None, capath: Any = None, cadata: Any = None) -> None:
        seen.append(cafile or capath)
        original(self, cafile, capath, cadata)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", load)
    return seen


def test_a_bundle_is_parsed_once_for_many_connections(
    https_url: tuple[str, Path], loads: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bundle = https_url
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = http.Network().file_session()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: session.get(url, timeout=10), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert loads == [str(bundle)]  # one parse, not one per connection


def test_the_index_session_shares_it_too(
    https_url: tuple[str, Path], loads: list[object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, bundle = https_url
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = http.Network().index_session(tmp_path / "cache")
    assert [session.get(url, timeout=10).status_code for _ in range(3)] == [200] * 3
    assert loads.count(str(bundle)) == 1


def test_a_server_the_bundle_does_not_trust_is_refused(
    https_url: tuple[str, Path], loads: list[object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, _ = https_url
    other, _ = _certificate("stranger", tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    monkeypatch.setattr(http, "_retry", lambda read=5: 0)  # refused at once, not after five backoffs
    with pytest.raises(requests.exceptions.SSLError):
        http.Network().file_session().get(url, timeout=10)


def test_a_warmed_up_bundle_serves_the_first_network_and_is_parsed_once(
    https_url: tuple[str, Path], loads: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.core import tls

    url, bundle = https_url
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setattr(tls, "_warm", {})
    tls.warm_up(tls.requests_verify())
    first, second = http.Network(), http.Network()
    assert first.file_session().get(url, timeout=10).status_code == 200
    assert loads == [str(bundle)]  # the warmed-up context: no second parse
    assert second.file_session().get(url, timeout=10).status_code == 200
    assert loads == [str(bundle)] * 2  # another network makes its own


def test_a_warmed_up_context_of_another_class_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """`truststore=1` replaces urllib3's SSLContext class: a context made before it is left alone."""
    from urllib3.util import ssl_

    from tasks.core import tls

    monkeypatch.setattr(tls, "_warm", {})
    tls.warm_up(True)
    replaced = type("Replaced", (ssl.SSLContext,), {})
    monkeypatch.setattr(ssl_, "SSLContext", replaced)
    assert isinstance(tls.Trust().context(True), replaced)


def test_warming_up_a_missing_bundle_leaves_the_error_to_the_trust(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tasks.core import tls

    monkeypatch.setattr(tls, "_warm", {})
    missing = str(tmp_path / "nowhere.pem")
    tls.warm_up(missing)
    assert tls._warm == {}
    with pytest.raises(OSError, match="invalid path"):
        tls.Trust().context(missing)


def test_tls_is_warmed_up_only_for_an_https_index_online(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.core import tls
    from tasks.inputs.variables import read_before_doit
    from tasks.run import warmup

    calls: list[object] = []
    monkeypatch.setattr(tls, "warm_up", calls.append)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/some/bundle.pem")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.delenv("WHEELWRIGHT_TRUSTSTORE", raising=False)
    for index, words, expected in [
        ("https://index.invalid/simple", [], ["/some/bundle.pem"]),
        ("http://127.0.0.1:1/simple", [], []),
        ("https://index.invalid/simple", ["offline=1"], []),
        ("https://index.invalid/simple", ["truststore=1"], []),
    ]:
        calls.clear()
        monkeypatch.setenv("PIP_INDEX_URL", index)
        read_before_doit(["lock", *words])
        try:
            warmup.warm_up_lock()
        finally:
            read_before_doit(None)
        assert calls == expected, (index, words)
