"""`wheelhouse dir=DIR`: every wheel an environment's lock needs, for its target, in one directory.

    DIR/<wheel>…                      the wheels themselves, byte for byte (index and direct wheels
                                      downloaded again and checked against their sha256; wheels built
                                      from source copied from the cache)
    DIR/simple/index.html             a PEP 503 index of them (`--index-url file://DIR/simple`)
    DIR/simple/<project>/index.html
    DIR/requirements.txt              `name==version --hash=sha256:…`, one line a wheel

so a machine without a network installs with `pip install --no-index --find-links DIR -r
DIR/requirements.txt`. Each file is written beside its target, then renamed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from tasks.core import layout
from tasks.core.errors import InstallError
from tasks.core.eventkinds import WheelhouseFilled
from tasks.core.events import emit
from tasks.core.files import atomic_write_text, temp_beside
from tasks.run.model import EnvJob, PinJob
from tasks.wheels.registry import Fetched


@dataclass(frozen=True)
class HouseWheel:
    """One wheel of the wheelhouse: its project, version, file name and sha256."""

    name: str
    version: str
    filename: str
    sha256: str


def make_wheelhouse(job: EnvJob, cache: Path, dest: Path, fetched: Sequence[Fetched]) -> None:
    """Fill `dest` with the wheel of every pin of `job` (`fetched`: each pin's wheel, in the same order)."""
    dest.mkdir(parents=True, exist_ok=True)
    wheels = [_place(pin, wheel, cache, dest) for pin, wheel in zip(job.pins, fetched, strict=True)]
    write_index(dest, wheels)
    emit(WheelhouseFilled(task=f"wheelhouse:{job.spec.name}", path=str(dest), count=len(wheels)))


def _place(pin: PinJob, fetched: Fetched, cache: Path, dest: Path) -> HouseWheel:
    """The pin's wheel file in `dest`: copied when it was built here, else downloaded and checked."""
    wheel = HouseWheel(str(pin.name), fetched.version, fetched.filename, fetched.sha256)
    target = dest / wheel.filename
    if target.is_file() and _sha256(target) == wheel.sha256:
        return wheel
    built = _built_wheel(cache, wheel)
    if built is not None:
        with temp_beside(target) as tmp:
            shutil.copyfile(built, tmp)
            tmp.replace(target)
        return wheel
    _download(pin, wheel, cache, target)
    return wheel


def _built_wheel(cache: Path, wheel: HouseWheel) -> Path | None:
    """A wheel built from source, in the built-wheels cache, with this very content."""
    for found in sorted((cache / layout.BUILT_WHEELS.name).rglob(wheel.filename)):
        if found.is_file() and _sha256(found) == wheel.sha256:
            return found
    return None


def _download(pin: PinJob, wheel: HouseWheel, cache: Path, target: Path) -> None:
    """An index or direct wheel, fetched again (the cache keeps them unpacked, not as files)."""
    from tasks.core.download import download
    from tasks.run.context import network

    ref = pin.line.source.wheel_ref
    if ref is not None:
        url = ref[1]
    else:
        from tasks.run.fetch_pin import chosen_file

        url = chosen_file(pin, cache).url
    if not url:
        raise InstallError(f"{wheel.filename}: no URL to fetch it from", package=str(pin.name))
    download(network(), url, target, package=str(pin.name), expected_sha256={wheel.sha256})


def _sha256(path: Path) -> str:
    from tasks.core.download import sha256_file

    return str(sha256_file(path))


def write_index(dest: Path, wheels: Iterable[HouseWheel]) -> None:
    """DIR/simple (PEP 503) and DIR/requirements.txt for the wheels in DIR."""
    from packaging.utils import canonicalize_name

    by_project: dict[str, list[HouseWheel]] = {}
    for wheel in sorted(wheels, key=lambda w: (canonicalize_name(w.name), w.filename)):
        by_project.setdefault(canonicalize_name(wheel.name), []).append(wheel)
    links = "".join(f'<a href="{escape(p)}/">{escape(p)}</a>\n' for p in by_project)
    atomic_write_text(dest / "simple" / "index.html", _page("Simple index", links))
    for project, found in by_project.items():
        rows = "".join(
            f'<a href="../../{escape(w.filename)}#sha256={w.sha256}">{escape(w.filename)}</a>\n'
            for w in found
        )
        atomic_write_text(dest / "simple" / project / "index.html", _page(f"Links for {project}", rows))
    lines = [f"{w.name}=={w.version} --hash=sha256:{w.sha256}" for ws in by_project.values() for w in ws]
    atomic_write_text(dest / "requirements.txt", "\n".join(lines) + "\n")


def _page(title: str, body: str) -> str:
    return f"<!DOCTYPE html>\n<html><head><title>{escape(title)}</title></head><body>\n{body}</body></html>\n"
