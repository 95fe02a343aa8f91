"""TLS trust for a run's HTTP sessions: each CA bundle parsed once per run, not once per connection.

requests hands its CA bundle (certifi's, or `REQUESTS_CA_BUNDLE`/`verify=`) to urllib3 as a path,
and urllib3 parses that file into a new SSLContext for every connection it opens: 40 to 130 ms
of OpenSSL's time each, serialised across threads, so sixteen connections opened at once delay
the first index page by most of a second; and requests looks the path up on disk (`isdir`,
`exists`) at every request. `shared_trust(Adapter, trust)` gives the adapter one SSLContext per
bundle instead, kept in the run's `Trust` (made with urllib3's own defaults, the bundle loaded
into it once, the path looked at once), and leaves every other case as requests does it:
`verify=False`, a client certificate, plain HTTP.
"""

from __future__ import annotations

import os
import threading
from typing import Any


class Trust:
    """One run's SSLContexts, one per CA bundle (thread-safe: made once however many threads ask).

    Keyed also by the SSLContext class in use, so `truststore=1` (which replaces that class) never
    gets a context made before it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contexts: dict[tuple[Any, object], Any] = {}

    def context(self, verify: bool | str) -> Any:
        """The SSLContext trusting `verify`'s bundle (True: certifi's), made on first use."""
        from urllib3.util import ssl_

        key = (ssl_.SSLContext, verify)
        context = self._contexts.get(key)
        if context is not None:
            return context
        with self._lock:  # one load even when sixteen threads open their first connection together
            context = self._contexts.get(key)
            if context is None:
                context = ssl_.create_urllib3_context()
                context.load_verify_locations(*_bundle(verify))
                self._contexts[key] = context
            return context


def _bundle(verify: bool | str) -> tuple[str | None, str | None]:
    """(cafile, capath) that requests would hand to urllib3 for this `verify`."""
    from requests.utils import DEFAULT_CA_BUNDLE_PATH

    location = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
    if not os.path.exists(location):
        raise OSError(f"Could not find a suitable TLS CA certificate bundle, invalid path: {location}")
    return (None, location) if os.path.isdir(location) else (location, None)


def shared_trust(adapter: Any, trust: Trust) -> Any:
    """`adapter` (a requests HTTPAdapter class) whose verified HTTPS pools share `trust`'s contexts."""

    class SharedTrustAdapter(adapter):  # type: ignore[misc]
        def build_connection_pool_key_attributes(
            self, request: Any, verify: Any, cert: Any = None
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            if not (verify and cert is None and str(request.url).lower().startswith("https:")):
                return super().build_connection_pool_key_attributes(request, verify, cert)  # type: ignore[no-any-return]
            host, pool = super().build_connection_pool_key_attributes(request, True, cert)  # no path look-up
            pool["ssl_context"] = trust.context(verify)
            return host, pool

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            if getattr(conn, "conn_kw", {}).get("ssl_context") is None:
                super().cert_verify(conn, url, verify, cert)
                return
            conn.cert_reqs = "CERT_REQUIRED"  # trust is in the shared context: no path again
            conn.ca_certs = conn.ca_cert_dir = None

    return SharedTrustAdapter
