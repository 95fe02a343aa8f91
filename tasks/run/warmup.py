"""What a lock starts while doit is still starting: the TLS trust its first HTTPS index page waits for.

A lock's first page needs an SSLContext with the CA bundle loaded (50 to 80 ms of OpenSSL here),
and until now it was made when that page was asked for, with every other page waiting behind it.
Made in a thread from the moment the pipeline is known (`tasks.core.tls.warm_up`), it is parsed on
the machine's other core while doit loads the tasks and the lock imports what it needs. Only when
the run can need it: a lock, not offline, and some index or find-links URL the run may use is
HTTPS (pip's default index is).
"""

from __future__ import annotations

from tasks.run.context import flag, pipeline


def warm_up_lock() -> None:
    """Start loading the CA bundle of the run's HTTPS indexes (call it only for a lock command)."""
    if flag("offline"):
        return
    from tasks.core import tls
    from tasks.inputs.config import effective_indexes, index_urls, pip_index_options

    layers = [pip_index_options(), *(env.index for env in pipeline().envs)]
    urls = [*index_urls(layers), *effective_indexes(layers).urls]
    if any(url.lower().startswith("https:") for url in urls):
        tls.warm_up(tls.requests_verify())
