"""What a lock starts before doit does: the TLS trust its first HTTPS index page waits for.

A lock's first page needs an SSLContext with the CA bundle loaded (50 to 80 ms of OpenSSL here),
and it was made when that page was asked for, with every other page waiting behind it. Made in a
thread as the process starts (`tasks.core.tls.warm_up`), it is parsed on the machine's other core
while doit loads, the run is planned and the lock imports what it needs.

It is a guess made before pipeline.yaml and the requirements are read: warmed up when the run is
not offline, does not use the system's trust store (`truststore=1`), and pip's configuration (or
pip's default index) names an HTTPS index or find-links. A wrong guess costs one parse on the other
core, never a different trust: the context is made exactly as the run's `Trust` would make it, and
used only by a `Trust` asking for the same bundle with the same SSLContext class.
"""

from __future__ import annotations

from tasks.inputs.variables import value
from tasks.run.context import flag


def warm_up_lock() -> None:
    """Start loading the CA bundle of pip's HTTPS indexes, for a lock (the variables must be readable)."""
    from tasks.core import truststore_switch

    if flag("offline") or truststore_switch.wanted(value("truststore")):
        return
    from tasks.core import tls
    from tasks.inputs.config import effective_indexes, index_urls, pip_index_options

    layers = [pip_index_options()]
    urls = [*index_urls(layers), *effective_indexes(layers).urls]
    if any(url.lower().startswith("https:") for url in urls):
        tls.warm_up(tls.requests_verify())
