"""What a relock learnt from each index page, kept between runs: its files' offsets grouped by version.

A warm relock gets every page again (an index that sends no validators must be asked in full, and
one that does answers 304 with the stored body): when the body is the one the memo was made from
(same sha256), the page is not read again at all. The memo holds no file data, only offsets into
that very body, so it can never describe another one. One small JSON file per page URL,
`index-pages-v0/<digest(url)>.json`:

    {"v": 1, "sha256": "<sha256 of the page's UTF-8 text>", "length": <characters>,
     "versions": ["2.0", "1.0", ...], "starts": [[<offset>, ...], [<offset>, ...], ...]}

`versions` newest first (normalised), `starts[i]` the offsets of the entries of `versions[i]`.
A memo that is damaged, of another format or made from another body is ignored and replaced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tasks.core import layout
from tasks.core.files import atomic_write_text
from tasks.core.urls import url_digest

FORMAT = 1


@dataclass(frozen=True)
class PageMemo:
    """A page's entries grouped by version (newest first): the offset where each entry starts."""

    sha256: str
    length: int
    versions: tuple[str, ...]
    starts: tuple[tuple[int, ...], ...]

    def fits(self, text: str, sha256: str) -> bool:
        """Made from this very text (the caller's digest of it), every offset an entry's start."""
        if sha256 != self.sha256 or len(text) != self.length or len(self.versions) != len(self.starts):
            return False
        return all(0 <= s < len(text) and text[s] == "{" for group in self.starts for s in group)


def page_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def memo_path(cache: Path, page_url: str) -> Path:
    return layout.INDEX_PAGES.under(cache) / f"{url_digest(page_url)}.json"


def read_memo(path: Path) -> PageMemo | None:
    """The memo at `path`; None when there is none, or it is damaged or of another format."""
    try:
        data = json.loads(path.read_bytes())
        if data["v"] != FORMAT:
            return None
        starts = tuple(tuple(int(s) for s in group) for group in data["starts"])
        return PageMemo(str(data["sha256"]), int(data["length"]), tuple(map(str, data["versions"])), starts)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_memo(path: Path, memo: PageMemo) -> None:
    """Replace the memo atomically (a reader sees the old one or the new one, whole)."""
    data = {
        "v": FORMAT,
        "sha256": memo.sha256,
        "length": memo.length,
        "versions": memo.versions,
        "starts": memo.starts,
    }
    atomic_write_text(path, json.dumps(data, separators=(",", ":")))
