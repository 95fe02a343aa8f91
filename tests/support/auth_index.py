"""A loopback index that requires HTTP basic auth for its pages and its files.

It is `tests.support.index_server.IndexServer` with one more check in front of every GET:
without the right `Authorization` header the answer is 401. Its PEP 691 pages list absolute
file URLs without credentials, on its own host (as private indexes do), or on `files_base`
when set (another server: credentials must not follow them there). With `vary_authorization`
its pages say `Vary: Accept, Authorization` (an HTTP cache then keys them by the credentials).
"""

from __future__ import annotations

import base64
from pathlib import Path

from tests.support.index_server import IndexServer


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class AuthIndexServer(IndexServer):
    """Serves `root` like IndexServer, to requests that carry `user`'s basic credentials only."""

    def __init__(self, root: Path, user: str, password: str, files_base: str | None = None):
        super().__init__(root)
        self.user, self.password = user, password
        self.files_base = files_base
        self.vary_authorization = False
        served = self._server.RequestHandlerClass
        server = self

        class AuthHandler(served):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                if self.headers.get("Authorization") != basic(server.user, server.password):
                    challenge = {"WWW-Authenticate": 'Basic realm="index"'}
                    self._send(401, b"unauthorized\n", "text/plain", challenge)
                    return
                super().do_GET()

            def send_header(self, keyword: str, value: str) -> None:
                if keyword == "Vary" and server.vary_authorization:
                    value += ", Authorization"
                super().send_header(keyword, value)

            def _json_page(self, name: str, entries: list[dict[str, object]]) -> bytes:
                body: bytes = super()._json_page(name, entries)
                if server.files_base is None:
                    return body
                own = f"http://127.0.0.1:{server.port}/files/".encode()
                return body.replace(own, server.files_base.rstrip("/").encode() + b"/")

        self._server.RequestHandlerClass = AuthHandler

    def url_with(self, user: str, password: str) -> str:
        """The index URL with credentials in it, as a user writes it."""
        return self.url.replace("http://", f"http://{user}:{password}@", 1)

    def __enter__(self) -> AuthIndexServer:
        return self
