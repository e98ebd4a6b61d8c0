"""Fixtures shared by every test: a real Mosquitto on a free port, and per-test topic roots."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass(frozen=True)
class BrokerEndpoint:
    """Where a test broker listens, and how a client logs in (None: anonymous)."""

    host: str
    port: int
    credentials: Callable[[str], tuple[str, str]] | None = None

    def login(self, username: str) -> tuple[str | None, str | None]:
        return self.credentials(username) if self.credentials else (None, None)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerEndpoint]:
    """A real Mosquitto broker, private to this test session, on a free loopback port."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        pytest.fail("mosquitto is not installed: run .ci/run or apt-get install mosquitto")
    port = free_port()
    workdir = tmp_path_factory.mktemp("mosquitto")
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "max_queued_messages 100000\n"
        "max_inflight_messages 100\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
    )
    log = (workdir / "mosquitto.log").open("wb")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        yield BrokerEndpoint("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def topic_root() -> str:
    """A topic root no other test uses, so tests on one broker never see each other."""
    return f"t{uuid.uuid4().hex[:12]}/loa/v1"


POSTGRES_ADMIN_URL = os.environ.get("LOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'loa.db'}"
        return
    import psycopg

    name = f"loa_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc} (run .ci/run, or start it)")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[BrokerEndpoint]:
    """The controller's embedded amqtt broker, on a free loopback port, for this test session."""
    from controller.dispatch.embedded import EmbeddedBroker

    broker = EmbeddedBroker("127.0.0.1", free_port(), secret=os.urandom(32), topic_root="+/loa/v1")
    broker.start()
    try:
        yield BrokerEndpoint(broker.host, broker.port, broker.credentials)
    finally:
        broker.stop()


@pytest.fixture(params=["mosquitto", "embedded"])
def broker(request: pytest.FixtureRequest) -> BrokerEndpoint:
    """Each test using this runs twice: on a real Mosquitto and on the embedded broker."""
    endpoint: BrokerEndpoint = request.getfixturevalue(
        "mosquitto" if request.param == "mosquitto" else "embedded_broker"
    )
    return endpoint
