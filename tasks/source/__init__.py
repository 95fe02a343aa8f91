"""Building from source: URL, git and path trees and revisions, extraction, PEP 517 builds,
build environments, and the built-wheel cache (metadata.json per source)."""
