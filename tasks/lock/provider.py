"""Resolution with resolvelib: a provider over a Finder, and conflicts explained in words.

The provider does no I/O of its own: versions and metadata come from the Finder, so tests can
drive it with frozen data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider, ResolutionImpossible, ResolutionTooDeep

from tasks.core.errors import ResolutionError
from tasks.index.pages import DistFile
from tasks.inputs.sources import RegistrySource, Source
from tasks.lock.deps import Req, dependencies_of, identifier
from tasks.lock.releases import Release
from tasks.lock.search import search

TOP = "<input>"


@dataclass(frozen=True)
class Candidate:
    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    source: Source = field(default_factory=RegistrySource)
    release: Release | None = None

    @property
    def key(self) -> str:
        return identifier(self.name, self.extras)


class Metadata(Protocol):
    """What the provider asks of the outside world."""

    def versions(self, name: NormalizedName) -> list[Version]: ...
    def release(self, name: NormalizedName, version: Version) -> Release | None: ...
    def release_metadata(self, name: NormalizedName, release: Release) -> dict[str, Any]: ...
    def direct_metadata(self, name: NormalizedName, source: Source) -> dict[str, Any]: ...
    def prefetch(self, wanted: Iterable[tuple[NormalizedName, frozenset[str]]]) -> None: ...


def allowed_versions(
    versions: Sequence[Version], spec: SpecifierSet, preferred: Version | None = None, pre: bool = False
) -> tuple[Iterator[Version], Iterator[Version]]:
    """The versions `spec` allows, as (first choices, pre-releases to fall back on), lazily.

    Newest first, the version already in the lock (if still allowed) before all. When a
    specifier names a pre-release, or `--pre` is given (`pre`), pre-releases are first
    choices like any other version.
    """
    names_pre = pre or bool(spec.prereleases)

    def ordered(pre: bool) -> Iterator[Version]:
        order: Iterable[Version] = versions
        if preferred is not None and preferred in versions:
            order = [preferred, *(v for v in versions if v is not preferred and v != preferred)]
        for version in order:
            if (names_pre or version.is_prerelease == pre) and spec.contains(version, prereleases=True):
                yield version

    return ordered(False), iter(()) if names_pre else ordered(True)


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
        pre: bool = False,
        prefer_binary: bool = False,
        yanked_ok: Mapping[NormalizedName, SpecifierSet] | None = None,
    ):
        """`yanked_ok`: the input's own `==`/`===` pins (requirements and constraints), the only
        specifiers that may select a yanked release (PEP 592)."""
        self.metadata, self.env = metadata, env
        self.pre, self.prefer_binary = pre, prefer_binary
        self.yanked_ok = dict(yanked_ok or {})
        self.constraints = dict(constraints or {})
        self.preferences = dict(preferences or {})
        self.direct = dict(direct or {})
        self.required_by: dict[NormalizedName, set[str]] = {}  # for explaining conflicts
        self._satisfied: dict[tuple[int, Version], tuple[Req, bool]] = {}
        self._names: dict[str, NormalizedName] = {}

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self, identifier: str, resolutions: Any, candidates: Any, information: Any, backtrack_causes: Any
    ) -> Any:
        name = self._names.get(identifier) or self._names.setdefault(
            identifier, canonicalize_name(identifier.split("[")[0])
        )  # resolvelib asks every round for every requirement not yet pinned
        pinned = any(
            s.operator in ("==", "===") for i in information[identifier] for s in i.requirement.specifier
        )
        caused = bool(backtrack_causes) and name in {c.requirement.name for c in backtrack_causes}
        return (name not in self.direct, not pinned, not caused, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]] | list[Candidate]:
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
        versions = [v for v in self.metadata.versions(name) if v not in bad]
        preferred = self.preferences.get(name)
        return lambda: self._candidates(name, extras, *allowed_versions(versions, spec, preferred, self.pre))

    def _candidates(
        self,
        name: NormalizedName,
        extras: frozenset[str],
        finals: Iterator[Version],
        pres: Iterator[Version],
    ) -> Iterator[Candidate]:
        """Usable releases in order, worked out lazily: most resolutions take the first.

        Pre-releases come only when no final release is usable (pip's rule), or are among
        `finals` already when a specifier names one. With `--prefer-binary`, releases with
        a wheel come before those with only an sdist.
        """
        found = False
        sdist_only: list[Candidate] = []
        for version in finals:
            if (release := self._pickable(name, version)) is not None:
                found = True
                candidate = Candidate(name, version, extras, RegistrySource(), release)
                if self.prefer_binary and not any(f.is_wheel for f in release.files):
                    sdist_only.append(candidate)
                else:
                    yield candidate
        yield from sdist_only
        for version in () if found else pres:
            if (release := self._pickable(name, version)) is not None:
                yield Candidate(name, version, extras, RegistrySource(), release)

    def _pickable(self, name: NormalizedName, version: Version) -> Release | None:
        """The usable release of `version`; a yanked one only when the input itself pins it (PEP 592)."""
        release = self.metadata.release(name, version)
        if release is None or not release.yanked:
            return release
        pins = [s for s in self.yanked_ok.get(name, ()) if s.operator in ("==", "===")]
        return release if any("*" not in s.version and s.contains(version, True) for s in pins) else None

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
            return bool(requirement.source.identity() == candidate.source.identity())
        key = (id(requirement), candidate.version)  # resolvelib asks the same questions every round
        known = self._satisfied.get(key)
        if known is None or known[0] is not requirement:
            known = self._satisfied[key] = (
                requirement,
                requirement.specifier.contains(candidate.version, prereleases=True),
            )
        return known[1]

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        metadata = self._metadata(candidate)
        deps = dependencies_of(metadata, candidate.extras, self.env)
        self.metadata.prefetch((d.name, d.extras) for d in deps if d.name not in self.direct)
        if candidate.extras:  # the extra's candidate pins its base to the same version
            pin = f"=={candidate.version}"
            deps.append(Req(candidate.name, SpecifierSet(pin), text=f"{candidate.name}{pin}"))
        for dep in deps:
            self.required_by.setdefault(dep.name, set()).add(f"{candidate.name}=={candidate.version}")
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
    for req in requirements:
        provider.required_by.setdefault(req.name, set()).add(TOP)
    try:
        result = search(provider, requirements, max_rounds)
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
    """Which requirements clash, and through which chain each was asked for, in words."""
    by_name: dict[str, list[str]] = {}
    specs: dict[str, SpecifierSet] = {}
    for cause in causes:
        req, parent = cause.requirement, cause.parent
        who = "the input" if parent is None else " ← ".join(chain(parent, provider.required_by))
        by_name.setdefault(req.name, []).append(f"{req.text or req.name} (required by {who})")
        specs[req.name] = specs.get(req.name, SpecifierSet()) & req.specifier
    parts = []
    for name, wants in by_name.items():
        versions = provider.metadata.versions(canonicalize_name(name))
        if not versions:
            parts.append(f"{name} is on no configured index (wanted: {'; '.join(wants)})")
            continue
        shown = ", ".join(str(v) for v in versions[:8]) + (", …" if len(versions) > 8 else "")
        usable = any(provider.metadata.release(canonicalize_name(name), v) for v in versions)
        note = "" if usable else "; none has a file usable on the target interpreter"
        why = _unusable(provider.metadata, canonicalize_name(name), versions, specs[name])
        parts.append(
            f"no version of {name} satisfies all of: {'; '.join(wants)} (available: {shown}{note}){why}"
        )
    return "cannot resolve: " + " | ".join(parts)


def _unusable(metadata: Metadata, name: NormalizedName, versions: list[Version], spec: SpecifierSet) -> str:
    """Why the newest versions every requirement allows cannot be used (Requires-Python, formats)."""
    why = getattr(metadata, "why_unusable", None)
    if why is None:
        return ""
    wanted = [v for v in versions if spec.contains(v, prereleases=True)][:2]
    reasons = [r for v in wanted if metadata.release(name, v) is None and (r := why(name, v))]
    return "".join(f"; {reason}" for reason in reasons)


def chain(parent: Candidate, required_by: Mapping[NormalizedName, set[str]]) -> list[str]:
    """`parent` and who asked for it, up to the input, by the shortest path seen (pure)."""
    start = f"{parent.name}=={parent.version}"
    paths: dict[str, list[str]] = {start: [start]}
    queue = [start]
    for node in queue:
        name = canonicalize_name(node.partition("==")[0])
        for up in sorted(required_by.get(name, ())):
            if up == TOP:
                return paths[node] + ["the input"]
            if up not in paths:
                paths[up] = paths[node] + [up]
                queue.append(up)
    return paths[start]
