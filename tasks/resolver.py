"""Resolution with resolvelib: a provider over a Finder, and conflicts explained in words.

The provider does no I/O of its own: versions and metadata come from the Finder, so tests can
drive it with frozen data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from tasks.errors import ResolutionError
from tasks.finder import Release
from tasks.index import DistFile
from tasks.sources import RegistrySource, Source, direct_url_identity

TOP = "<input>"


@dataclass(frozen=True)
class Req:
    """A requirement as the resolver sees it (markers already evaluated)."""

    name: NormalizedName
    specifier: SpecifierSet
    extras: frozenset[str] = frozenset()
    source: Source | None = None  # a direct reference
    text: str = ""

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)


@dataclass(frozen=True)
class Candidate:
    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    source: Source = field(default_factory=RegistrySource)
    release: Release | None = None

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)


def _key(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


class Metadata(Protocol):
    """What the provider asks of the outside world."""

    def releases(self, name: NormalizedName) -> list[Release]: ...
    def release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]: ...
    def direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]: ...
    def prefetch(self, names: Iterable[NormalizedName]) -> None: ...


def dependencies_of(metadata: Mapping[str, Any], extras: frozenset[str], env: Mapping[str, str]) -> list[Req]:
    """The Requires-Dist entries that apply to the target, for the given extras (pure)."""
    found = []
    for line in metadata.get("requires-dist", []):
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not _marker_applies(req.marker, extras, env):
            continue
        found.append(_req(req))
    return found


def _marker_applies(marker: Marker, extras: frozenset[str], env: Mapping[str, str]) -> bool:
    return any(marker.evaluate({**env, "extra": extra}) for extra in (extras or {""}))


def _req(req: Requirement, source: Source | None = None) -> Req:
    name = canonicalize_name(req.name)
    return Req(name, req.specifier, frozenset(canonicalize_name(e) for e in req.extras), source, str(req))


class Provider(AbstractProvider[Req, Candidate, str]):
    """resolvelib's provider over a Metadata source, preferences and constraints."""

    def __init__(
        self,
        metadata: Metadata,
        env: Mapping[str, str],
        *,
        constraints: Mapping[NormalizedName, SpecifierSet] | None = None,
        preferences: Mapping[NormalizedName, Version] | None = None,
        direct: Mapping[NormalizedName, Source] | None = None,
    ):
        self.metadata, self.env = metadata, env
        self.constraints = dict(constraints or {})
        self.preferences = dict(preferences or {})
        self.direct = dict(direct or {})

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self, identifier: str, resolutions: Any, candidates: Any, information: Any, backtrack_causes: Any
    ) -> Any:
        name = canonicalize_name(identifier.split("[")[0])
        infos = list(information[identifier])
        pinned = any(s.operator in ("==", "===") for i in infos for s in i.requirement.specifier)
        causes = {c.requirement.name for c in backtrack_causes}
        return (name not in self.direct, not pinned, name not in causes, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        name = canonicalize_name(identifier.split("[")[0])
        extras = frozenset().union(*(r.extras for r in reqs)) if reqs else frozenset()
        bad = {c.version for c in incompatibilities[identifier]}
        if name in self.direct:
            return self._direct(name, extras, reqs, bad)
        spec = SpecifierSet()
        for req in reqs:
            spec &= req.specifier
        spec &= self.constraints.get(name, SpecifierSet())
        exact = {str(s.version) for r in reqs for s in r.specifier if s.operator in ("==", "===")}
        releases = [r for r in self.metadata.releases(name) if r.version not in bad]
        releases = [r for r in releases if not r.yanked or str(r.version) in exact]
        allowed = set(spec.filter([r.version for r in releases]))
        chosen = [r for r in releases if r.version in allowed]
        return [Candidate(name, r.version, extras, RegistrySource(), r) for r in self._ordered(name, chosen)]

    def _ordered(self, name: NormalizedName, releases: list[Release]) -> list[Release]:
        """Newest first, the version already in the lock (if still allowed) before all."""
        preferred = self.preferences.get(name)
        return sorted(releases, key=lambda r: r.version != preferred)

    def _direct(
        self, name: NormalizedName, extras: frozenset[str], reqs: list[Req], bad: set[Version]
    ) -> list[Candidate]:
        source = self.direct[name]
        version = Version(str(self.metadata.direct_metadata(name, source)["version"]))
        if version in bad or not all(r.specifier.contains(version, prereleases=True) for r in reqs):
            return []
        return [Candidate(name, version, extras, source)]

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.source is not None:
            return direct_url_identity(requirement.source) == direct_url_identity(candidate.source)
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        metadata = self._metadata(candidate)
        deps = dependencies_of(metadata, candidate.extras, self.env)
        self.metadata.prefetch(d.name for d in deps if d.name not in self.direct)
        if candidate.extras:  # the extra's candidate pins its base to the same version
            deps.append(Req(candidate.name, SpecifierSet(f"=={candidate.version}"), text=str(candidate.name)))
        return [d for d in deps if not (d.name == candidate.name and d.extras == candidate.extras)]

    def _metadata(self, candidate: Candidate) -> dict[str, Any]:
        if candidate.release is None:
            return self.metadata.direct_metadata(candidate.name, candidate.source)
        return self.metadata.release_metadata(candidate.name, candidate.release)


@dataclass(frozen=True)
class ResolvedPin:
    """One pinned distribution of a resolution."""

    name: NormalizedName
    version: str
    source: Source
    files: tuple[DistFile, ...] = ()
    via: tuple[str, ...] = ()
    extras: frozenset[str] = frozenset()
    commit: str | None = None


@dataclass(frozen=True)
class Resolution:
    pins: dict[NormalizedName, ResolvedPin]


def run_resolver(provider: Provider, requirements: Sequence[Req], max_rounds: int = 2000) -> Resolution:
    """Resolve, and translate resolvelib's failures into one readable ResolutionError."""
    try:
        result = Resolver(provider, BaseReporter()).resolve(requirements, max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        raise ResolutionError(explain(exc.causes, provider)) from None
    except ResolutionTooDeep:
        raise ResolutionError(f"gave up after {max_rounds} rounds of backtracking") from None
    return _collect(result)


def _collect(result: Any) -> Resolution:
    pins: dict[NormalizedName, ResolvedPin] = {}
    for key, candidate in sorted(result.mapping.items()):
        via = tuple(sorted({_parent(info.parent) for info in result.criteria[key].information}))
        old = pins.get(candidate.name)
        files = candidate.release.all_files if candidate.release else ()
        if old is None:
            pins[candidate.name] = ResolvedPin(
                candidate.name,
                str(candidate.version),
                candidate.source,
                files,
                via,
                candidate.extras,
                None,
            )
        else:
            merged = tuple(sorted(set(old.via) | set(via)))
            pins[candidate.name] = ResolvedPin(
                old.name,
                old.version,
                old.source,
                old.files or files,
                merged,
                old.extras | candidate.extras,
                old.commit,
            )
    for name, pin in pins.items():  # an extra's own candidate is not a reason to show
        pins[name] = ResolvedPin(
            pin.name,
            pin.version,
            pin.source,
            pin.files,
            tuple(v for v in pin.via if v != name),
            pin.extras,
            pin.commit,
        )
    return Resolution(pins)


def _parent(parent: Candidate | None) -> str:
    return TOP if parent is None else parent.name


def explain(causes: Iterable[Any], provider: Provider) -> str:
    """Which requirements clash, and who asked for each, in words."""
    by_name: dict[str, list[str]] = {}
    for cause in causes:
        req, parent = cause.requirement, cause.parent
        who = "the input" if parent is None else f"{parent.name}=={parent.version}"
        by_name.setdefault(req.name, []).append(f"{req.text or req.name} (required by {who})")
    parts = []
    for name, wants in by_name.items():
        releases = provider.metadata.releases(canonicalize_name(name))
        if not releases:
            parts.append(f"{name} is on no configured index (wanted: {'; '.join(wants)})")
            continue
        versions = ", ".join(str(r.version) for r in releases[:8])
        parts.append(f"no version of {name} satisfies all of: {'; '.join(wants)} (available: {versions})")
    return "cannot resolve: " + " | ".join(parts)
