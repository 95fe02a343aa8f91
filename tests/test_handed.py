"""What a run hands down: credentials made from the configuration (never learned while reading it), and
networks that are each their own (no process-wide session, credential, timeout or offline switch)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tasks.core.auth import Credentials
from tasks.core.errors import OfflineMissing
from tasks.core.http import Network
from tasks.inputs.config import effective_indexes, index_urls
from tasks.inputs.requirements import IndexOptions

INDEX = "https://127.0.0.1:9/simple"


@pytest.fixture(autouse=True)
def no_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))  # only what the test gives is known


def _sent(net: Network, url: str) -> str | None:
    """The Authorization header `net`'s sessions would send with a GET of `url`."""
    request = net.file_session().auth(requests.Request("GET", url).prepare())
    return request.headers.get("Authorization")


def test_reading_the_configuration_learns_no_credential() -> None:
    layer = IndexOptions(
        index_url="https://user:secret@127.0.0.1:9/simple", find_links=("https://127.0.0.3/l",)
    )
    assert effective_indexes([layer]).urls == (INDEX,)  # the credentials are taken out of the URL...
    assert _sent(Network(), f"{INDEX}/pkg/") is None  # ...and kept nowhere for whoever comes next
    made = Network(Credentials.from_urls(index_urls([layer])))  # what the run makes from the same layers
    assert _sent(made, "https://127.0.0.1:9/files/pkg-1.0.whl") == "Basic dXNlcjpzZWNyZXQ="
    assert _sent(made, "https://127.0.0.2:9/simple/pkg/") is None  # never to another host


def test_two_networks_share_no_session_credential_timeout_or_offline_switch() -> None:
    one = Network(Credentials.from_urls(["https://a:b@127.0.0.1:9/simple"]), offline=True, read_timeout=2)
    other = Network()
    assert one.file_session() is one.file_session() and one.file_session() is not other.file_session()
    assert one.timeouts() == (2, 2) and other.timeouts() == (10, 15) and one.retry_budget() == 6
    assert _sent(one, f"{INDEX}/x/") is not None and _sent(other, f"{INDEX}/x/") is None
    with pytest.raises(OfflineMissing, match=re.escape(f"would fetch {INDEX}/x/")):
        one.file_session().get(f"{INDEX}/x/")
