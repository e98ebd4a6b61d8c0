"""Fixtures shared by every test: a real Mosquitto on a free port, and per-test topic roots."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.errors import LoaError
from simulator.local import free_port, private_mosquitto, private_nats
from simulator.local import secured_mosquitto as secured_mosquitto_broker


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
    try:
        with private_mosquitto(tmp_path_factory.mktemp("mosquitto")) as port:
            yield BrokerEndpoint("127.0.0.1", port)
    except LoaError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerEndpoint]:
    """NATS's MQTT server (with JetStream), private to this test session, on a free loopback port."""
    try:
        with private_nats(tmp_path_factory.mktemp("nats")) as port:
            yield BrokerEndpoint("127.0.0.1", port)
    except LoaError as exc:
        pytest.fail(str(exc))


@dataclass
class _DynSecLogins:
    """Logins on the secured Mosquitto: made on first use through the dynamic-security plugin, as enrolment does."""

    url: str
    admin: tuple[str, str]
    made: dict[str, str]

    def __call__(self, username: str) -> tuple[str, str]:
        from controller.dispatch.broker_auth import CONTROLLER_USER
        from controller.dispatch.dynsec import DynamicSecurity

        if username not in self.made:
            password = uuid.uuid4().hex
            # Roles cover every test's topic root: "+" matches one level in Mosquitto's ACL patterns.
            dynsec = DynamicSecurity(self.url, *self.admin, "+/loa/v1")
            if username == CONTROLLER_USER:
                dynsec.add_controller(username, password)
            else:
                dynsec.add_agent(username, password)
            self.made[username] = password
        return username, self.made[username]


@pytest.fixture(scope="session")
def secured_mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerEndpoint]:
    """Mosquitto as firmware_config/mosquitto/ ships it: dynamic security, client id = login, no anonymous."""
    admin = ("loa-dynsec-admin", uuid.uuid4().hex)
    try:
        with secured_mosquitto_broker(tmp_path_factory.mktemp("mosquitto-dynsec"), admin) as port:
            yield BrokerEndpoint("127.0.0.1", port, _DynSecLogins(f"mqtt://127.0.0.1:{port}", admin, {}))
    except LoaError as exc:
        pytest.fail(str(exc))


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


@pytest.fixture(params=["mosquitto", "embedded", "nats"])
def broker(request: pytest.FixtureRequest) -> BrokerEndpoint:
    """Each test using this runs three times: on a real Mosquitto, on the embedded broker and on NATS."""
    name = "embedded_broker" if request.param == "embedded" else str(request.param)
    endpoint: BrokerEndpoint = request.getfixturevalue(name)
    return endpoint
