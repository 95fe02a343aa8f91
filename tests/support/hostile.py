"""A hostile index on loopback: fixed responses by raw request path, served verbatim.

The raw path is matched as the client sent it (`%2F` stays encoded), so a test can serve a genuine
file under a URL whose last segment decodes to `../../victim`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class _Routes:
    responses: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class HostileServer:
    """`serve(path, body, content_type)` then point a sync at `url`; everything else is a 404."""

    def __init__(self) -> None:
        routes = self._routes = _Routes()

        class Handler(_Handler):
            pass

        Handler.routes = routes
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The index URL (`--index-url`)."""
        return f"{self.base}/simple"

    def serve(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> str:
        """Answer GET `path` (raw, as sent) with `body`; returns the full URL."""
        with self._routes.lock:
            self._routes.responses[path] = (200, content_type, body)
        return self.base + path

    @property
    def seen(self) -> list[str]:
        with self._routes.lock:
            return list(self._routes.seen)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    routes: _Routes
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        with self.routes.lock:
            self.routes.seen.append(self.path)
            status, kind, body = self.routes.responses.get(self.path, (404, "text/plain", b"not found\n"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
