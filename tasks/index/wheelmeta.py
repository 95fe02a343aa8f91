"""Metadata of remote wheels, cheapest first (PEP 658, then HTTP ranges, then a full download).

Stored parsed, as JSON, in `wheel-metadata-v0/<bucket>/<wheel filename>.json`, so a resolution
with everything cached reads only these files: no zip reading, no email parsing.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.core import layout
from tasks.core.coremeta import parse_core_metadata
from tasks.core.errors import HashMismatch, InvalidWheel, NetworkError
from tasks.core.files import atomic_write_text
from tasks.core.urls import strip_credentials, url_digest
from tasks.index.pages import DistFile
from tasks.index.zipmeta import metadata_member

if TYPE_CHECKING:
    from tasks.core.http import Network

TAIL = 64 * 1024


def metadata_path(cache: Path, file: DistFile) -> Path:
    if file.index:
        return layout.wheel_metadata_path(cache, "index", url_digest(file.index), file.filename)
    return layout.wheel_metadata_path(cache, "url", url_digest(file.url), file.filename)


def wheel_metadata(file: DistFile, cache: Path, net: Network) -> dict[str, Any]:
    """The core metadata of a remote wheel, from the cache or the cheapest remote source (through `net`)."""
    path = metadata_path(cache, file)
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        pass
    text = _remote_metadata(file, net)
    data = parse_core_metadata(text)
    atomic_write_text(path, json.dumps(data, sort_keys=True))
    return data


def _remote_metadata(file: DistFile, net: Network) -> str:
    if file.url.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return _metadata_from_zip(Path(unquote(urlsplit(file.url).path)), file)
    if file.has_metadata:
        text = _pep658(file, net)
        if text is not None:
            return text
    return _ranged_or_full(file, net)


def _get(net: Network, url: str, file: DistFile, headers: dict[str, str] | None = None) -> Any:
    import requests

    try:
        response = net.file_session().get(url, headers=headers or {}, timeout=net.timeouts())
    except requests.RequestException as exc:
        raise NetworkError(
            f"cannot fetch metadata: {type(exc).__name__}",
            package=file.filename,
            source=strip_credentials(url),
        ) from None
    return response


def _pep658(file: DistFile, net: Network) -> str | None:
    response = _get(net, file.url + ".metadata", file)
    if response.status_code != 200:
        return None
    body: bytes = response.content
    if file.metadata_sha256 and hashlib.sha256(body).hexdigest() != file.metadata_sha256:
        return None
    return body.decode("utf-8", errors="replace")


def _ranged_or_full(file: DistFile, net: Network) -> str:
    response = _get(net, file.url, file, {"Range": f"bytes=-{TAIL}"})
    if response.status_code == 206:
        size = _total_size(response.headers.get("Content-Range", ""))
        if size is not None:
            remote = RangeFile(net, file.url, size, response.content, file)
            return _metadata_from_zip(remote, file)
    if response.status_code != 200:
        raise NetworkError(
            f"HTTP {response.status_code}", package=file.filename, source=strip_credentials(file.url)
        )
    body = response.content
    if file.sha256 and hashlib.sha256(body).hexdigest() != file.sha256:
        got = hashlib.sha256(body).hexdigest()
        raise HashMismatch(
            package=file.filename, source=strip_credentials(file.url), expected=[file.sha256], got=got
        )
    return _metadata_from_zip(io.BytesIO(body), file)


def _total_size(content_range: str) -> int | None:
    total = content_range.rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _metadata_from_zip(source: Any, file: DistFile) -> str:
    return metadata_text(source, file.filename)


def metadata_text(source: Any, label: str) -> str:
    """The METADATA text of a wheel (a path or a seekable file), read without extracting it."""
    found = _member_only(source)
    if found is not None:
        return found.decode("utf-8", errors="replace")
    try:
        with zipfile.ZipFile(source) as zf:
            names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise InvalidWheel("wheel has no single .dist-info/METADATA", package=label)
            return zf.read(names[0]).decode("utf-8", errors="replace")
    except zipfile.BadZipFile as exc:
        raise InvalidWheel(f"not a wheel: {exc}", package=label) from None


def _member_only(source: Any) -> bytes | None:
    """METADATA read directly (`tasks.index.zipmeta`); None: let zipfile read the wheel."""
    if isinstance(source, (str, Path)):
        try:
            with open(source, "rb") as wheel:
                return metadata_member(wheel)
        except OSError:
            return None
    try:
        return metadata_member(source)
    finally:
        source.seek(0)


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched with HTTP range requests.

    The tail (where the zip's central directory lives) comes with the first response; other
    reads fetch exactly the bytes asked for, so reading METADATA costs one or two requests.
    """

    def __init__(self, net: Network, url: str, size: int, tail: bytes, file: DistFile):
        super().__init__()
        self._net, self._url, self._size, self._file = net, url, size, file
        self._tail_start = size - len(tail)
        self._tail = tail
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = self._size if n is None or n < 0 else min(self._size, self._pos + n)
        if self._pos >= end:
            return b""
        data = self._slice(self._pos, end)
        self._pos = end
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _slice(self, start: int, end: int) -> bytes:
        if start >= self._tail_start:
            return self._tail[start - self._tail_start : end - self._tail_start]
        response = _get(self._net, self._url, self._file, {"Range": f"bytes={start}-{end - 1}"})
        if response.status_code != 206:
            raise NetworkError(
                "range request refused", package=self._file.filename, source=strip_credentials(self._url)
            )
        body: bytes = response.content
        return body
