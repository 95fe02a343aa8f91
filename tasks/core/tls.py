"""TLS trust for a run's HTTP sessions: each CA bundle parsed once per run, not once per connection.

requests hands its CA bundle (certifi's, or `REQUESTS_CA_BUNDLE`/`verify=`) to urllib3 as a path,
and urllib3 parses that file into a new SSLContext for every connection it opens: 40 to 130 ms
of OpenSSL's time each, serialised across threads, so sixteen connections opened at once delay
the first index page by most of a second; and requests looks the path up on disk (`isdir`,
`exists`) at every request. `shared_trust(Adapter, trust)` gives the adapter one SSLContext per
bundle instead, kept in the run's `Trust` (made with urllib3's own defaults, the bundle loaded
into it once, the path looked at once), and leaves every other case as requests does it:
`verify=False`, a client certificate, plain HTTP.

`warm_up(verify)` starts that parse ahead, in a thread, while the run is still starting (OpenSSL
reads the bundle without holding the GIL, so on a second core it costs the start nothing): the
first `Trust` to need a context for the same bundle takes it instead of parsing the bundle itself.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
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
                context = _take_warm(verify, ssl_.SSLContext) or _new_context(_bundle(verify))
                self._contexts[key] = context
            return context


def _new_context(bundle: tuple[str | None, str | None]) -> Any:
    """urllib3's default client context, trusting `bundle` (cafile, capath)."""
    from urllib3.util import ssl_

    context = ssl_.create_urllib3_context()
    context.load_verify_locations(*bundle)
    return context


def requests_verify() -> bool | str:
    """The `verify` requests' sessions use here (ours set none): REQUESTS_CA_BUNDLE, else
    CURL_CA_BUNDLE, else True (certifi's bundle)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


@dataclass
class _Warming:
    """A context being made ahead for one `verify`: `done` once it is made (or failed: None)."""

    done: threading.Event = field(default_factory=threading.Event)
    context: Any = None


_warm_lock = threading.Lock()
_warm: dict[bool | str, _Warming] = {}


def warm_up(verify: bool | str) -> None:
    """Start making the context for `verify`'s bundle in a thread, for the first `Trust` that needs
    one (the process's other `Trust`s make their own). Nothing when the bundle is missing: the
    `Trust` then says so, as it would have."""
    from urllib3.util import ssl_  # noqa: F401  # imported here: the thread imports nothing

    try:
        bundle = _bundle(verify)  # the path looked up here: the thread only parses
    except OSError:
        return
    with _warm_lock:
        if verify in _warm:
            return
        slot = _warm[verify] = _Warming()
    threading.Thread(target=_fill, args=(slot, bundle), name="tls-warm-up", daemon=True).start()


def _fill(slot: _Warming, bundle: tuple[str | None, str | None]) -> None:
    try:
        slot.context = _new_context(bundle)
    except Exception:  # the `Trust` makes it again, and reports the failure then
        slot.context = None
    finally:
        slot.done.set()


def _take_warm(verify: bool | str, context_class: Any) -> Any:
    """The context warmed up for `verify` (waiting for it), once; None when there is none, or when it
    was made with another SSLContext class than `context_class` (`truststore=1` came after it)."""
    with _warm_lock:
        slot = _warm.pop(verify, None)
    if slot is None:
        return None
    slot.done.wait()
    return slot.context if type(slot.context) is context_class else None


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
