"""A real S3 API on loopback (moto's server mode) and a recording build backend, for remote-cache tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.wheels import sdist_tree

SECRET = "s3cr3t-never-printed-0123456789"  # the fake secret key: no output or cache file may hold it

# A build backend kept in the project (backend-path): it delegates to flit_core and appends each hook it
# runs to $WW_TEST_BUILD_LOG, and with $WW_TEST_BUILD_GATE waits (at most a minute) until that file exists.
RECORDING_BACKEND = '''"""Delegates to flit_core; records each build of @NAME@."""
import os
import time

from flit_core import buildapi

get_requires_for_build_wheel = buildapi.get_requires_for_build_wheel
get_requires_for_build_sdist = buildapi.get_requires_for_build_sdist
build_sdist = buildapi.build_sdist


def _record(hook):
    log = os.environ.get("WW_TEST_BUILD_LOG")
    if log:
        with open(log, "a") as out:
            out.write(hook + " @NAME@\\n")
    gate = os.environ.get("WW_TEST_BUILD_GATE")
    deadline = time.monotonic() + 60
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(float(os.environ.get("WW_TEST_BUILD_SLEEP_@UPPER@", "0")))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _record("metadata")
    return buildapi.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _record("wheel")
    return buildapi.build_wheel(wheel_directory, config_settings, metadata_directory)
'''


def recording_tree(name: str, version: str, body: str = "") -> dict[str, str]:
    """A flit project whose builds are recorded (see RECORDING_BACKEND)."""
    tree = sdist_tree(name, version, backend="flit")
    tree["pyproject.toml"] = tree["pyproject.toml"].replace(
        'build-backend = "flit_core.buildapi"', 'build-backend = "recording"\nbackend-path = ["_build"]'
    )
    tree["_build/recording.py"] = RECORDING_BACKEND.replace("@NAME@", name).replace("@UPPER@", name.upper())
    module = name.replace("-", "_")
    tree[f"{module}/__init__.py"] = f'"""{name}."""\n__version__ = "{version}"\n{body}'
    return tree


def write_tree(dest: Path, tree: dict[str, str]) -> Path:
    for path, text in tree.items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_text(text)
    return dest


def recorded(log: Path) -> list[str]:
    """The builds a backend recorded: `wheel NAME` and `metadata NAME` lines."""
    return log.read_text().splitlines() if log.exists() else []


@dataclass
class S3Store:
    """moto's S3 server on 127.0.0.1 with one bucket, and the variables that point AWS tools at it."""

    server: Any
    endpoint: str
    bucket: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/fleet"

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="AKIDTESTFLEET",
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )

    def objects(self) -> dict[str, bytes]:
        client = self.client()
        listed = client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {o["Key"]: client.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read() for o in listed}

    def stop(self) -> None:
        self.server.stop()


def aws_environment(endpoint: str, home: Path) -> dict[str, str]:
    """AWS settings as a user gives them: endpoint, region, and the credential chain's variables."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "AKIDTESTFLEET",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def s3_store() -> Iterator[S3Store]:
    """Start moto's S3 server on a free loopback port with a new bucket; stop it afterwards."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    store = S3Store(server, f"http://{host}:{port}", f"wheels-{uuid.uuid4().hex[:12]}")
    store.client().create_bucket(Bucket=store.bucket)
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):  # already stopped by the test
            server.stop()
