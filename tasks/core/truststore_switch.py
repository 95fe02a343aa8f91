"""The system trust store for HTTPS: `truststore=1` (or WHEELWRIGHT_TRUSTSTORE=1) makes every TLS
connection of the run (index pages, downloads, the shared cache) verify against the operating
system's certificates through `truststore`, instead of certifi's bundle. For an index signed by an
organisation's own CA. Off by default: certifi, pinned in requirements/pipeline.txt.
"""

from __future__ import annotations

import os

from tasks.core.errors import ConfigError

ENV = "WHEELWRIGHT_TRUSTSTORE"
_ON = ("1", "true", "yes", "on")


def wanted(variable: str | None, environ: dict[str, str] | None = None) -> bool:
    """`truststore=` wins; else WHEELWRIGHT_TRUSTSTORE."""
    value = variable if variable else (environ if environ is not None else os.environ).get(ENV, "")
    return value.strip().lower() in _ON


def use_system_trust_store() -> None:
    """Verify TLS with the system's certificates from now on (the whole process: wheelwright is the
    application); ConfigError when truststore is not installed beside wheelwright."""
    try:
        import truststore
    except ImportError:
        raise ConfigError(
            f"truststore=1 ({ENV}): the truststore package is not installed in wheelwright's "
            "environment (pip install truststore)"
        ) from None
    truststore.inject_into_ssl()
