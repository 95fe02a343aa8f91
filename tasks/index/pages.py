"""Package index pages (PEP 691 JSON, PEP 503 HTML, find-links): parsing is pure, fetching thin.

Names on a page are untrusted: a page whose file name is not one safe path segment (a `/`, a
`..`, a control character, also through `%2F` in an href), or whose sha256 is not hex digits,
is refused whole with `UnsafeName` (pip skips such files; a page that lists one is hostile or
broken, and skipping would only turn the error into a misleading "version not on the index").
Whether a file belongs to the project it is fetched for is checked where it becomes a path
(`DistFile.local_name`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import NormalizedName, canonicalize_name

from tasks.core.errors import IndexUnavailable, NetworkError, UnsafeName
from tasks.core.names import is_wheel_filename
from tasks.core.safenames import dist_filename, safe_segment, sha256_value
from tasks.core.urls import strip_credentials
from tasks.inputs.config import Indexes
from tasks.inputs.reqline import name_from_filename

if TYPE_CHECKING:
    from tasks.core.http import Network

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


@dataclass(frozen=True)
class DistFile:
    """One file an index lists for a project."""

    filename: str
    url: str
    hashes: tuple[tuple[str, str], ...] = ()
    requires_python: str | None = None
    yanked: str | None = None  # None: not yanked; otherwise the reason ("" when none given)
    metadata_sha256: str | None = None  # PEP 658: the .metadata file's sha256, "" if unknown
    has_metadata: bool = False
    index: str = ""
    size: int | None = None  # PEP 700 (JSON pages only)
    upload_time: str | None = None  # PEP 700 ISO 8601 (JSON pages only)

    @property
    def sha256(self) -> str | None:
        return dict(self.hashes).get("sha256")

    @property
    def is_wheel(self) -> bool:
        return is_wheel_filename(self.filename)

    def local_name(self, project: str) -> str:
        """The filename to store this file under: a valid wheel or sdist name of `project`."""
        return dist_filename(self.filename, project, source=self.url)


# --- parsing (pure) ------------------------------------------------------------------------


def parse_json_page(text: str, page_url: str, index: str = "") -> list[DistFile]:
    """A PEP 691 project page."""
    data = json.loads(text)
    return [json_file(f, page_url, index) for f in data.get("files", [])]


def json_file(entry: dict[str, Any], page_url: str, index: str) -> DistFile:
    yanked = entry.get("yanked", False)
    meta = entry.get("core-metadata", entry.get("dist-info-metadata", False))
    url = entry["url"]
    filename = _checked_filename(entry["filename"], page_url)
    hashes = {k: _checked_hash(k, v, filename, page_url) for k, v in (entry.get("hashes") or {}).items()}
    return DistFile(
        filename=filename,
        url=url if url.startswith(("https://", "http://")) else urljoin(page_url, url),
        hashes=tuple(sorted(hashes.items())),
        requires_python=entry.get("requires-python") or None,
        yanked=None if yanked is False else (yanked if isinstance(yanked, str) else ""),
        metadata_sha256=(meta.get("sha256", "") if isinstance(meta, dict) else None),
        has_metadata=bool(meta),
        index=index,
        size=entry["size"] if isinstance(entry.get("size"), int) else None,
        upload_time=entry["upload-time"] if isinstance(entry.get("upload-time"), str) else None,
    )


def _checked_filename(filename: str, page_url: str) -> str:
    if not isinstance(filename, str):
        raise TypeError(f"file name {filename!r} is not a string")
    return safe_segment(filename, what="file name on the index page", source=page_url)


def _checked_hash(algo: str, value: str, filename: str, page_url: str) -> str:
    if algo == "sha256":
        return sha256_value(value, filename=filename, source=page_url)
    return value.lower()


@functools.cache
def _anchor_parser() -> type[Any]:
    """The parser of anchors in an HTML page (html.parser imported at the first: JSON pages need none)."""
    from html.parser import HTMLParser

    class _AnchorParser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.anchors: list[tuple[dict[str, str | None], str]] = []
            self.base: str | None = None
            self._open: dict[str, str | None] | None = None
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "base" and self.base is None:
                self.base = dict(attrs).get("href")
            if tag == "a":
                self._open, self._text = dict(attrs), []

        def handle_data(self, data: str) -> None:
            if self._open is not None:
                self._text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._open is not None:
                self.anchors.append((self._open, "".join(self._text).strip()))
                self._open = None

    return _AnchorParser


def parse_html_page(text: str, page_url: str, index: str = "") -> list[DistFile]:
    """A PEP 503 project page (or a find-links page): one DistFile per anchor."""
    parser = _anchor_parser()()
    parser.feed(text)
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return [f for attrs, _ in parser.anchors if (f := _html_file(attrs, base, index))]


def _html_file(attrs: dict[str, str | None], base: str, index: str) -> DistFile | None:
    href = attrs.get("href")
    if not href:
        return None
    url, fragment = urldefrag(urljoin(base, href))
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not filename:
        return None
    filename = _checked_filename(filename, base)
    algo, _, value = fragment.partition("=")
    hashes = ((algo, _checked_hash(algo, value, filename, base)),) if value else ()
    meta = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
    meta_hash = meta.partition("=")[2] if meta and meta.startswith("sha256=") else ""
    return DistFile(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=attrs.get("data-requires-python") or None,
        yanked=attrs.get("data-yanked") if "data-yanked" in attrs else None,
        metadata_sha256=meta_hash if meta and meta != "false" else None,
        has_metadata=bool(meta) and meta != "false",
        index=index,
    )


def files_for_project(files: Iterable[DistFile], name: NormalizedName) -> list[DistFile]:
    """Only the files whose filename belongs to `name` (find-links pages list everything)."""
    return [f for f in files if _file_project(f.filename) == name]


def _file_project(filename: str) -> NormalizedName | None:
    project = name_from_filename(filename)
    return canonicalize_name(project) if project else None


# --- fetching (thin) -----------------------------------------------------------------------


class PageGetter(Protocol):
    """GET a URL with the index Accept header; (final url, content-type, text) or None on 404.

    `fresh` asks caches to revalidate (a conditional request) even within max-age.
    """

    def __call__(self, url: str, fresh: bool = False) -> tuple[str, str, str] | None: ...


def project_files(get: PageGetter, index_url: str, name: NormalizedName) -> list[DistFile] | None:
    """The files one index lists for `name`; None when the index does not have it."""
    with reported_for(name):
        if index_url.startswith("file:"):
            return _local_index_files(index_url, name)
        page = get(f"{index_url.rstrip('/')}/{name}/")
        if page is None:
            return None
        final_url, content_type, text = page
        try:
            if content_type.split(";")[0].strip() == JSON_TYPE:
                return parse_json_page(text, final_url, index_url)
            return parse_html_page(text, final_url, index_url)
        except (ValueError, KeyError, TypeError) as exc:
            shown = strip_credentials(index_url)
            raise IndexUnavailable(f"unreadable index page: {exc}", package=name, source=shown) from None


@contextmanager
def reported_for(name: str) -> Iterator[None]:
    """An unsafe name on a page is reported for the project whose page it is."""
    try:
        yield
    except UnsafeName as exc:
        raise UnsafeName(exc.cause, package=exc.package or name, source=exc.source) from None


def _local_index_files(index_url: str, name: NormalizedName) -> list[DistFile] | None:
    root = Path(unquote(urlsplit(index_url).path)) / name
    page = root / "index.html"
    if page.is_file():
        return parse_html_page(page.read_text(encoding="utf-8"), page.as_uri(), index_url)
    if root.is_dir():
        return _directory_files(root, index_url)
    return None


def _directory_files(root: Path, index: str) -> list[DistFile]:
    return [
        DistFile(filename=entry.name, url=Path(entry.path).as_uri(), index=index)
        for entry in sorted(os.scandir(root), key=lambda e: e.name)
        if entry.is_file() and name_from_filename(entry.name)
    ]


def find_links_files(get: PageGetter, location: str, name: NormalizedName) -> list[DistFile]:
    """Files for `name` in a find-links directory or page."""
    if not location.startswith(("http://", "https://")):
        path = Path(unquote(urlsplit(location).path)) if location.startswith("file:") else Path(location)
        if not path.is_dir():
            return []
        return files_for_project(_directory_files(path, location), name)
    page = get(location)
    if page is None:
        return []
    final_url, _, text = page
    with reported_for(name):
        return files_for_project(parse_html_page(text, final_url, location), name)


class HttpPageGetter:
    """PageGetter over the run's caching index session (RFC 9111 semantics by CacheControl)."""

    def __init__(self, net: Network, cache: Path) -> None:
        self.session, self.timeouts = net.index_session(cache), net.timeouts()

    def __call__(self, url: str, fresh: bool = False) -> tuple[str, str, str] | None:
        import requests

        headers = {"Accept": ACCEPT, **({"Cache-Control": "max-age=0"} if fresh else {})}
        try:
            response = self.session.get(url, headers=headers, timeout=self.timeouts)
        except requests.RequestException as exc:
            raise NetworkError(f"cannot reach index: {_short(exc)}", source=strip_credentials(url)) from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise NetworkError(f"index answered HTTP {response.status_code}", source=strip_credentials(url))
        content_type = response.headers.get("Content-Type", "text/html")
        if response.encoding is None and content_type.split(";")[0].strip() == JSON_TYPE:
            response.encoding = "utf-8"  # JSON is UTF-8 (RFC 8259), not a guess over 2 MB of text
        return response.url, content_type, response.text


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def page_getter(net: Network, cache: Path) -> PageGetter:
    """Index pages through `net`'s index session, HTTP-cached in `cache` (requests: not on the no-op path)."""
    return HttpPageGetter(net, cache)


def candidate_files(get: PageGetter, indexes: Indexes, name: NormalizedName) -> list[DistFile]:
    """Files for `name`: the first index that has the project (no dependency confusion), then find-links."""
    files: list[DistFile] = []
    for url in indexes.urls:
        found = project_files(get, url, name)
        if found is not None:
            files = found
            break
    for location in indexes.find_links:
        files = files + find_links_files(get, location, name)
    return files
