"""The project's exception hierarchy: every failure names the package, the source and the cause.

One class per failure kind; a kind's own facts are attributes (`HashMismatch.expected`/`.got`,
`GitRefNotFound.ref`, ...), while `str()` stays the one line the CLI prints. Errors cross from
worker processes, so pickling keeps every attribute (see `__reduce__`).
"""

from __future__ import annotations

from typing import Any


class WheelwrightError(Exception):
    """Base of every error the CLI reports as one line, without a traceback."""

    def __init__(self, cause: str, *, package: str | None = None, source: str | None = None):
        super().__init__(cause)
        self.cause = cause
        self.package = package
        self.source = source

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with every attribute (package, source and a kind's own fields)."""
        return (_rebuild, (type(self), self.cause), dict(self.__dict__))

    def __str__(self) -> str:
        where = ""
        if self.package and self.source:
            where = f"{self.package} ({self.source}): "
        elif self.package or self.source:
            where = f"{self.package or self.source}: "
        return f"{where}{self.cause}"


def _rebuild(cls: type[WheelwrightError], cause: str) -> WheelwrightError:
    """An instance without running a subclass's __init__ (its attributes come from the pickled state)."""
    error = Exception.__new__(cls)
    Exception.__init__(error, cause)
    return error


class RequirementsError(WheelwrightError):
    """A requirements file or pipeline.yaml line that cannot be used as written."""


class ConfigError(WheelwrightError):
    """pipeline.yaml, pip configuration or a command-line variable is wrong."""


class UsageError(ConfigError):
    """The command as typed cannot run: an unknown variable, a wrong pipeline.yaml, a missing config= file
    (exit status 3, before anything runs)."""


class IndexUnavailable(WheelwrightError):
    """An index cannot be reached or read, or does not have the project at all."""


class NoMatchingDistribution(IndexUnavailable):
    """The index has the project but no file that fits the pin and the interpreter."""


class NetworkError(WheelwrightError):
    """A request failed after its retries."""


class SourceUnreachable(NetworkError):
    """A git remote or URL host that did not answer (refused, no such host, timed out, 502/503/504):
    not a "not found" or a denial, which are answers. A cached build may stand in for it."""


class HashMismatch(WheelwrightError):
    """A downloaded file's sha256 is not one of the expected ones."""

    def __init__(self, *, package: str, source: str, expected: list[str], got: str):
        shown = ", ".join(expected)
        super().__init__(f"hash mismatch: expected sha256 {shown}, got {got}", package=package, source=source)
        self.expected = tuple(expected)
        self.got = got


class InstallError(WheelwrightError):
    """A wheel cannot be installed into, or removed from, the target environment."""


class IncompatibleWheel(InstallError):
    """A wheel given directly (URL or path) whose tags do not fit the target interpreter."""

    def __init__(self, *, package: str, source: str, filename: str, python: str):
        super().__init__(f"wheel {filename} does not fit Python {python}", package=package, source=source)
        self.filename = filename
        self.python = python


class BuildError(WheelwrightError):
    """Building metadata or a wheel from a source distribution failed."""


class SourceError(BuildError):
    """A source to build (archive, git repository, local path) cannot be fetched, read or checked out."""


class UnsafeSource(SourceError):
    """A source refused before use: a git transport that runs commands, a ref that reads as an option."""


class GitRefNotFound(SourceError):
    """A git branch, tag or commit the repository does not have."""

    def __init__(self, ref: str, *, package: str, source: str, cause: str | None = None):
        super().__init__(cause or f"git ref {ref!r} does not exist", package=package, source=source)
        self.ref = ref


class MetadataMismatch(WheelwrightError):
    """A distribution's metadata names another project than the requirement that led to it."""

    def __init__(self, *, package: str, found: str, source: str | None = None):
        super().__init__(f"metadata names {found!r}, not {package!r}", package=package, source=source)
        self.found = found


class ResolutionError(WheelwrightError):
    """Loose requirements cannot be resolved into one consistent set of pins."""


class UnsafeName(WheelwrightError):
    """A name from an index, a URL, an archive or a wheel that cannot safely become a path."""


class InvalidWheel(InstallError):
    """A wheel that cannot be read, or whose files do not match its RECORD (hash, size, listing)."""


class CacheEntryDamaged(InstallError):
    """An unpacked wheel in the cache no longer matches its RECORD (a file resized, missing, unreadable).

    `source` is the entry's directory (archive-v0/<sha256>): the one to evict and fetch again.
    """

    @property
    def entry(self) -> str:
        return self.source or ""


class EnvironmentDiffers(WheelwrightError):
    """`check=1`: the environment is not what the lock says (a CI gate; exit status 1)."""


class LockDiffers(WheelwrightError):
    """`lock check=1`: a lock is not what its inputs would give now (a CI gate; exit status 1)."""


class OfflineMissing(WheelwrightError):
    """`offline=1`: something the run needs is not in the cache and would have been fetched."""
