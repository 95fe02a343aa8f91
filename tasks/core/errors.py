"""The project's exception hierarchy: every failure names the package, the source and the cause."""

from __future__ import annotations


class WheelwrightError(Exception):
    """Base of every error the CLI reports as one line, without a traceback."""

    def __init__(self, cause: str, *, package: str | None = None, source: str | None = None):
        super().__init__(cause)
        self.cause = cause
        self.package = package
        self.source = source

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with package and source (errors cross from worker processes)."""
        return (_rebuild, (type(self), self.cause, self.package, self.source))

    def __str__(self) -> str:
        where = ""
        if self.package and self.source:
            where = f"{self.package} ({self.source}): "
        elif self.package or self.source:
            where = f"{self.package or self.source}: "
        return f"{where}{self.cause}"


def _rebuild(
    cls: type[WheelwrightError], cause: str, package: str | None, source: str | None
) -> WheelwrightError:
    error = Exception.__new__(cls)
    Exception.__init__(error, cause)
    error.cause, error.package, error.source = cause, package, source
    return error


class RequirementsError(WheelwrightError):
    """A requirements file or pipeline.yaml line that cannot be used as written."""


class ConfigError(WheelwrightError):
    """pipeline.yaml, pip configuration or a command-line variable is wrong."""


class IndexError_(WheelwrightError):
    """An index cannot be reached or does not serve what the requirement asks for."""


class NoMatchingDistribution(IndexError_):
    """The index has the project but no file that fits the pin and the interpreter."""


class NetworkError(WheelwrightError):
    """A request failed after its retries."""


class HashMismatch(WheelwrightError):
    """A downloaded file's sha256 is not one of the expected ones."""

    def __init__(self, *, package: str, source: str, expected: list[str], got: str):
        shown = ", ".join(expected)
        super().__init__(f"hash mismatch: expected sha256 {shown}, got {got}", package=package, source=source)


class InstallError(WheelwrightError):
    """A wheel cannot be installed into, or removed from, the target environment."""


class BuildError(WheelwrightError):
    """Building metadata or a wheel from a source distribution failed."""


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
