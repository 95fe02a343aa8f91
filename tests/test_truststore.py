"""`truststore=1` / WHEELWRIGHT_TRUSTSTORE=1: TLS verified with the system's certificates (truststore)."""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path

import pytest

from tasks.core.errors import ConfigError
from tasks.core.truststore_switch import ENV, use_system_trust_store, wanted
from tests.e2e import doit
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

# A stand-in put first on the run's PYTHONPATH: it records that wheelwright asked for the system store.
RECORDING = """import os
def inject_into_ssl():
    with open(os.environ["WW_TEST_TRUSTSTORE_LOG"], "a") as out:
        out.write("inject_into_ssl\\n")
"""


def test_the_switch_is_off_unless_asked() -> None:
    assert not wanted(None, {})
    assert wanted("1", {}) and wanted(None, {ENV: "yes"})
    assert not wanted("0", {ENV: "1"})  # the variable on the command line wins


def test_the_switch_puts_truststore_into_ssl() -> None:
    import truststore

    try:
        use_system_trust_store()
        assert ssl.SSLContext is truststore.SSLContext
    finally:
        truststore.extract_from_ssl()
    assert ssl.SSLContext is not truststore.SSLContext


def test_without_truststore_installed_it_is_one_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "truststore", None)  # import truststore → ImportError
    with pytest.raises(ConfigError, match="truststore package is not installed"):
        use_system_trust_store()


@pytest.mark.usefixtures("isolated_env")
@pytest.mark.parametrize("how", ["variable", "environment", "off"])
def test_a_sync_asks_for_the_system_store_when_told(
    how: str, tmp_path: Path, index: IndexServer, wheelhouse: Path
) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "truststore.py").write_text(RECORDING)
    log = tmp_path / "truststore.log"
    make_wheel(wheelhouse, "tls", "1.0")
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"--index-url {index.url}\ntls==1.0\n")
    env = dict(os.environ, PYTHONPATH=str(fake), WW_TEST_TRUSTSTORE_LOG=str(log))
    words = [f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}"]
    if how == "variable":
        words.append("truststore=1")
    elif how == "environment":
        env[ENV] = "1"
    run = doit("sync", *words, env=env)
    assert run.code == 0, run.err
    calls = log.read_text().splitlines() if log.exists() else []
    assert calls == ([] if how == "off" else ["inject_into_ssl"])


@pytest.mark.usefixtures("isolated_env")
def test_a_sync_with_the_real_truststore(tmp_path: Path, index: IndexServer, wheelhouse: Path) -> None:
    make_wheel(wheelhouse, "tls", "1.0")
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"--index-url {index.url}\ntls==1.0\n")
    words = [f"req={lock}", f"venv={tmp_path / 'venv'}", f"cache={tmp_path / 'cache'}", "truststore=1"]
    run = doit("sync", *words)
    assert run.code == 0 and run.errors == [], run.err
