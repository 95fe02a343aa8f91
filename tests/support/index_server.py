"""A real package index on loopback: PEP 503 HTML and PEP 691/700 JSON, PEP 658, ranges, faults.

`python -m tests.support.index_server ROOT [--port N]` serves ROOT until killed.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import json
import re
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
SUFFIXES = (".whl", ".tar.gz", ".zip")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    at: float = 0.0  # time.monotonic() when it was answered (for gaps between tries)


@dataclass
class _Fault:
    prefix: str
    kind: str  # "status" | "reset" | "truncate" | "stall" | "delay"
    times: int
    status: int = 503
    retry_after: str | None = None  # a Retry-After header sent with the status
    seconds: float = 0.0  # how long a stall sleeps after the headers, or a delay before them


def project_of(filename: str) -> str | None:
    if filename.endswith(".whl"):
        return canonicalize_name(filename.split("-")[0])
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            name, sep, _ = filename[: -len(suffix)].rpartition("-")
            return canonicalize_name(name) if sep else None
    return None


def _metadata_of(path: Path) -> bytes | None:
    """METADATA of a wheel, PKG-INFO of an sdist."""
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as zf:
                name = next(
                    n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
                )
                return zf.read(name)
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tar:
                member = next(
                    m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
                )
                extracted = tar.extractfile(member)
                return extracted.read() if extracted else None
    except (StopIteration, zipfile.BadZipFile, tarfile.TarError, OSError):
        return None
    return None


def _requires_python(metadata: bytes | None) -> str | None:
    if not metadata:
        return None
    match = re.search(rb"^Requires-Python: *(.+?)\s*$", metadata, re.M)
    return match.group(1).decode() if match else None


@dataclass
class _Hold:
    """A barrier: the first `clients` requests under `prefix` each wait until all of them have come
    (at most `timeout` seconds each), so that concurrent runs certainly overlap there."""

    prefix: str
    clients: int
    timeout: float
    arrived: int = 0
    full: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, stopping: threading.Event) -> None:
        """Wait, once counted among the arrivals (by `_State.take_hold`)."""
        with self.full:
            self.full.notify_all()
            self.full.wait_for(lambda: self.arrived >= self.clients or stopping.is_set(), self.timeout)


@dataclass
class _State:
    root: Path
    max_age: int = 600
    validators: bool = True  # False: pages come with no ETag, Last-Modified or Cache-Control (some mirrors)
    files_max_age: int = 0  # Cache-Control of /files/ (archives for direct URL tests)
    metadata_files: bool = True
    json_api: bool = True
    ranges: bool = True
    yanked: dict[str, str] = field(default_factory=dict)
    uploaded: dict[str, str | None] = field(default_factory=dict)  # filename → upload-time (None: none)
    faults: list[_Fault] = field(default_factory=list)
    holds: list[_Hold] = field(default_factory=list)
    requests: list[LoggedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def files(self, project: str) -> list[Path]:
        return sorted(
            p for p in self.root.iterdir() if p.name.endswith(SUFFIXES) and project_of(p.name) == project
        )

    def take_fault(self, path: str) -> _Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.prefix) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def take_hold(self, path: str) -> _Hold | None:
        with self.lock:
            hold = next((h for h in self.holds if path.startswith(h.prefix) and h.arrived < h.clients), None)
            if hold is not None:
                hold.arrived += 1
            return hold


class IndexServer:
    """Serves the distribution files in `root` as an index on 127.0.0.1."""

    def __init__(self, root: Path, port: int = 0):
        self.state = _State(root)
        state = self.state

        class Handler(_Handler):
            pass

        Handler.state = state
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/simple"
        self.files_url = f"http://127.0.0.1:{self.port}/files"
        # a short poll: stop() waits for it (the default half second, times every test's server)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    # settings, forwarded to the shared state
    max_age = property(lambda s: s.state.max_age, lambda s, v: setattr(s.state, "max_age", v))
    files_max_age = property(
        lambda s: s.state.files_max_age, lambda s, v: setattr(s.state, "files_max_age", v)
    )
    metadata_files = property(
        lambda s: s.state.metadata_files, lambda s, v: setattr(s.state, "metadata_files", v)
    )
    json_api = property(lambda s: s.state.json_api, lambda s, v: setattr(s.state, "json_api", v))
    validators = property(lambda s: s.state.validators, lambda s, v: setattr(s.state, "validators", v))
    ranges = property(lambda s: s.state.ranges, lambda s, v: setattr(s.state, "ranges", v))

    @property
    def requests(self) -> list[LoggedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    def count(self, path_prefix: str = "") -> int:
        return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def yank(self, filename: str, reason: str = "") -> None:
        self.state.yanked[filename] = reason

    def uploaded(self, filename: str, when: str | None) -> None:
        """The PEP 700 `upload-time` the JSON page gives `filename` (None: none); by default its mtime."""
        self.state.uploaded[filename] = when

    def fail(self, path_prefix: str, status: int = 503, times: int = 1) -> None:
        self.state.faults.append(_Fault(path_prefix, "status", times, status))

    def reset(self, path_prefix: str, times: int = 1) -> None:
        self.state.faults.append(_Fault(path_prefix, "reset", times))

    def truncate(self, path_prefix: str, times: int = 1) -> None:
        self.state.faults.append(_Fault(path_prefix, "truncate", times))

    def throttle(self, path_prefix: str, times: int = 1, retry_after: str | None = None) -> None:
        """Answer 429 Too Many Requests, with a Retry-After header only when given."""
        self.state.faults.append(_Fault(path_prefix, "status", times, 429, retry_after=retry_after))

    def stall(self, path_prefix: str, times: int = 1, seconds: float = 60.0) -> None:
        """Send the headers, then no body for `seconds` (or until the server stops)."""
        self.state.faults.append(_Fault(path_prefix, "stall", times, seconds=seconds))

    def delay(self, path_prefix: str, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before answering normally (a slow server, for tests of concurrent runs)."""
        self.state.faults.append(_Fault(path_prefix, "delay", times, seconds=seconds))

    def hold(self, path_prefix: str, clients: int, timeout: float = 30.0) -> None:
        """Hold the first `clients` requests under `path_prefix` until all have come (or `timeout`).

        Concurrent runs then certainly overlap there: a page held for N clients releases only when
        N runs have asked for it; a file held for N clients that only one run asks for (the others
        wait on a lock) is answered after `timeout`, while the others are waiting.
        """
        self.state.holds.append(_Hold(path_prefix, clients, timeout))

    def stop(self) -> None:
        self.state.stopping.set()
        for hold in self.state.holds:
            with hold.full:
                hold.full.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> IndexServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is kept in memory instead."""

    def _log(self, status: int) -> None:
        with self.state.lock:
            logged = LoggedRequest(self.command, self.path, dict(self.headers), status, time.monotonic())
            self.state.requests.append(logged)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        hold = self.state.take_hold(path)
        if hold is not None:
            hold.wait(self.state.stopping)
        fault = self.state.take_fault(path)
        if fault and fault.kind == "reset":
            self._log(0)
            self.close_connection = True
            self.connection.close()
            return
        if fault and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            self._send(fault.status, b"fault\n", "text/plain", extra)
            return
        if fault and fault.kind == "stall":
            self._stall(fault.seconds)
            return
        if fault and fault.kind == "delay":
            self.state.stopping.wait(fault.seconds)
            fault = None
        if path.startswith("/files/"):
            self._file(path[len("/files/") :], truncate=bool(fault))
        elif path in ("/simple", "/simple/"):
            self._root()
        elif path.startswith("/simple/"):
            self._project(path[len("/simple/") :].strip("/"))
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self._log(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _root(self) -> None:
        names = sorted({p for f in self.state.root.iterdir() if (p := project_of(f.name))})
        links = "".join(f'<a href="{n}/">{n}</a>\n' for n in names)
        self._send(200, f"<html><body>\n{links}</body></html>\n".encode(), "text/html")

    def _project(self, name: str) -> None:
        normal = canonicalize_name(name)
        if normal != name:
            self._send(301, b"", "text/plain", {"Location": f"/simple/{normal}/"})
            return
        files = self.state.files(normal)
        if not files:
            self._send(404, b"not found\n", "text/plain")
            return
        wants_json = self.state.json_api and _prefers_json(self.headers.get("Accept", ""))
        entries = [self._entry(f) for f in files]
        if wants_json:
            body, kind = self._json_page(normal, entries), JSON_TYPE
        else:
            body, kind = self._html_page(entries), "text/html"
        self._cached(body, kind)

    def _cached(self, body: bytes, kind: str) -> None:
        if not self.state.validators:
            self._send(200, body, kind)
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        control = f"max-age={self.state.max_age}" if self.state.max_age else "max-age=0, must-revalidate"
        headers = {
            "ETag": etag,
            "Cache-Control": control,
            "Vary": "Accept",
            "Last-Modified": email.utils.formatdate(1577836800, usegmt=True),
        }
        if self.headers.get("If-None-Match") == etag:
            self._not_modified(headers)
            return
        self._send(200, body, kind, headers)

    def _not_modified(self, headers: dict[str, str]) -> None:
        self._log(304)
        self.send_response(304)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _entry(self, path: Path) -> dict[str, Any]:
        data = path.read_bytes()
        metadata = _metadata_of(path) if path.name.endswith(".whl") else None
        sdist_meta = None if metadata else _metadata_of(path)
        return {
            "filename": path.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "requires_python": _requires_python(metadata or sdist_meta),
            "yanked": self.state.yanked.get(path.name),
            "upload_time": self.state.uploaded[path.name]
            if path.name in self.state.uploaded
            else _rfc3339(path.stat().st_mtime),
            "metadata": hashlib.sha256(metadata).hexdigest()
            if metadata and self.state.metadata_files
            else None,
        }

    def _json_page(self, name: str, entries: list[dict[str, Any]]) -> bytes:
        base = f"http://127.0.0.1:{self.server.server_address[1]}/files/"
        files = [
            {
                "filename": e["filename"],
                "url": base + e["filename"],
                "hashes": {"sha256": e["sha256"]},
                "requires-python": e["requires_python"],
                "yanked": e["yanked"] if e["yanked"] is not None else False,
                "core-metadata": {"sha256": e["metadata"]} if e["metadata"] else False,
                **({"upload-time": e["upload_time"]} if e["upload_time"] else {}),
                "size": e["size"],
            }
            for e in entries
        ]
        return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()

    def _html_page(self, entries: list[dict[str, Any]]) -> bytes:
        links = []
        for e in entries:
            attrs = f'href="../../files/{e["filename"]}#sha256={e["sha256"]}"'
            if e["requires_python"]:
                attrs += f' data-requires-python="{html.escape(e["requires_python"])}"'
            if e["yanked"] is not None:
                attrs += f' data-yanked="{html.escape(e["yanked"])}"'
            if e["metadata"]:
                meta = f"sha256={e['metadata']}"
                attrs += f' data-dist-info-metadata="{meta}" data-core-metadata="{meta}"'
            links.append(f"<a {attrs}>{e['filename']}</a><br/>")
        return ("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n").encode()

    def _file(self, filename: str, truncate: bool) -> None:
        if filename.endswith(".metadata"):
            self._metadata_file(filename[: -len(".metadata")])
            return
        path = self.state.root / filename
        if "/" in filename or not path.is_file():
            self._send(404, b"not found\n", "text/plain")
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        span = _range(self.headers.get("Range"), len(data)) if self.state.ranges else None
        validators = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(path.stat().st_mtime, usegmt=True),
            "Cache-Control": f"max-age={self.state.files_max_age}"
            if self.state.files_max_age
            else "no-cache",
        }
        if self.headers.get("If-None-Match") == etag:
            self._not_modified(validators)
        elif truncate:
            self._truncated(data)
        elif span is None:
            self._send(200, data, "application/octet-stream", {**validators, "Accept-Ranges": "bytes"})
        else:
            start, end = span
            headers = {
                "ETag": etag,
                "Accept-Ranges": "bytes",
                "Content-Range": f"bytes {start}-{end}/{len(data)}",
            }
            self._send(206, data[start : end + 1], "application/octet-stream", headers)

    def _metadata_file(self, filename: str) -> None:
        path = self.state.root / filename
        metadata = _metadata_of(path) if path.is_file() and filename.endswith(".whl") else None
        if not self.state.metadata_files or metadata is None:
            self._send(404, b"not found\n", "text/plain")
            return
        self._send(200, metadata, "application/octet-stream")

    def _stall(self, seconds: float) -> None:
        self._log(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.wfile.flush()
        self.state.stopping.wait(seconds)
        self.close_connection = True

    def _truncated(self, data: bytes) -> None:
        self._log(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True


def _rfc3339(seconds: float) -> str:
    """PEP 700's form of a time: `2026-10-01T12:00:00.000000Z`."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _prefers_json(accept: str) -> bool:
    best, best_q = None, -1.0
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                q = float(param[2:] or 0)
        if q > best_q:
            best, best_q = kind, q
    return best == JSON_TYPE


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header or "")
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if not first:
        start = max(0, size - int(last))
        return start, size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = IndexServer(args.root.resolve(), args.port)
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
