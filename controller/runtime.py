"""The running controller: its subsystems, started in order and stopped in reverse, in one place."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from common.broker_url import redact_url
from common.clock import Clock, SystemClock
from controller.audio import MediaStore, PiperEngine, register_engine
from controller.background.ingest import Ingestor
from controller.background.jobs import ScheduleJobs
from controller.background.publisher import ManifestPublisher
from controller.background.scheduler import BroadcastScheduler
from controller.config import Settings
from controller.db.migrate import upgrade
from controller.db.models import User
from controller.db.session import make_engine, make_session_factory
from controller.dispatch.broker_auth import load_or_create_secret
from controller.dispatch.bus import MqttBus
from controller.dispatch.dynsec import DynamicSecurity
from controller.dispatch.embedded import EmbeddedBroker
from controller.errors import ControllerError
from controller.file_modes import check_private_files, secure_data_dir
from controller.services.access import LoginCache
from controller.services.context import Context
from controller.services.manifests import ManifestPolicy
from controller.services.users import Role, create_user
from controller.text.commune import load_abbreviations_dir, using_commune_abbreviations
from protocol import Signer, Topics, encode_public_key
from protocol.signing import generate_private_key, load_private_key, write_private_key

log = logging.getLogger(__name__)


def load_or_create_signer(path: Path) -> Signer:
    """The controller's Ed25519 key. Generated on first start (mode 0600); there is no default key."""
    if not path.exists():
        write_private_key(generate_private_key(), path)
        log.info("generated a new controller signing key at %s", path)
    elif path.stat().st_mode & 0o077:
        raise ControllerError(
            f"signing key {path} is readable by others; chmod 600 it",
            "Khóa ký của hệ thống đang để quyền truy cập quá rộng.",
        )
    return Signer(load_private_key(path))


class Controller:
    """Owns the database, media store, signer, broker, bus, ingestor, publisher and scheduler."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.topics = Topics(settings.topic_root)
        self._stack: ExitStack | None = None
        self.engine: Engine
        self.session_factory: sessionmaker[Session]
        self.store: MediaStore
        self.signer: Signer
        self.broker_url: str
        self.bus: MqttBus
        self.ingestor: Ingestor
        self.publisher: ManifestPublisher
        self.broker_logins: DynamicSecurity | None = None
        """Agent logins on an external Mosquitto, through its dynamic-security plugin (None: not managed)."""
        self.embedded_broker: EmbeddedBroker | None = None
        self.jobs: ScheduleJobs
        self.confirm_secret: bytes = b""
        self.logins = LoginCache()

    @property
    def public_key(self) -> str:
        """The base64 key agents put in their config to verify our messages."""
        return encode_public_key(self.signer.public_key)

    def context(self) -> Context:
        """What the service operations need, without the controller itself."""
        return Context(
            session_factory=self.session_factory,
            clock=self.clock,
            settings=self.settings,
            dispatcher=self.publisher,
            store=self.store,
            confirm_secret=self.confirm_secret,
        )

    def latest_manifest(self, agent_id: str) -> bytes | None:
        """The signed manifest last published for `agent_id` (served over HTTP too, protocol v1.2)."""
        return self.publisher.latest(agent_id)

    def start(self) -> None:
        s = self.settings
        stack = ExitStack()
        try:
            secure_data_dir(s)
            self.engine = make_engine(s.resolved_database_url)
            stack.callback(self.engine.dispose)
            upgrade(self.engine)
            self.session_factory = make_session_factory(self.engine)
            self._bootstrap_admin()
            self.store = MediaStore(s.resolved_media_dir)
            if s.piper_model_dir is not None:
                model_dir, program = s.piper_model_dir, s.piper_program
                register_engine("piper", lambda: PiperEngine(model_dir=model_dir, program=program))
            if s.abbreviations_dir is not None:
                stack.enter_context(using_commune_abbreviations(load_abbreviations_dir(s.abbreviations_dir)))
            self.signer = load_or_create_signer(s.resolved_signing_key_path)
            self.confirm_secret = load_or_create_secret(s.data_dir / "session_secret")
            check_private_files(s)

            username, password = s.mqtt_username, s.mqtt_password
            if s.mqtt_url:
                self.broker_url = s.mqtt_url
                if s.mqtt_dynsec_username and s.mqtt_dynsec_password:
                    self.broker_logins = DynamicSecurity(
                        s.mqtt_url, s.mqtt_dynsec_username, s.mqtt_dynsec_password.get_secret_value(), s.topic_root
                    )
            else:
                secret = load_or_create_secret(s.data_dir / "mqtt_secret")
                self.embedded_broker = EmbeddedBroker(
                    s.embedded_mqtt_host, s.embedded_mqtt_port, secret=secret, topic_root=s.topic_root
                )
                self.embedded_broker.start()
                stack.callback(self.embedded_broker.stop)
                self.broker_url = self.embedded_broker.url
                username, password = self.embedded_broker.controller_credentials

            self.ingestor = Ingestor(self.session_factory, self.topics, self.clock)
            self.ingestor.start()
            stack.callback(self.ingestor.stop)

            self.bus = MqttBus(
                self.broker_url,
                self.topics,
                self.ingestor.submit,
                client_id=s.mqtt_client_id,
                username=username,
                password=password,
            )
            self.bus.start()
            stack.callback(self.bus.stop)

            self.publisher = ManifestPublisher(
                self.session_factory,
                self.bus,
                self.signer,
                self.topics,
                ManifestPolicy(
                    horizon=timedelta(hours=s.manifest_horizon_hours),
                    grace=timedelta(seconds=s.play_grace_s),
                    media_base_url=s.resolved_public_base_url,
                ),
                self.clock,
            )
            self.publisher.refresh(force=True)

            self.jobs = ScheduleJobs(
                self.session_factory,
                self.publisher,
                self.clock,
                horizon=timedelta(hours=s.manifest_horizon_hours),
                missed_grace=timedelta(seconds=s.missed_grace_s),
                lease_ttl=timedelta(seconds=s.scheduler_lease_s),
            )
            scheduler = BroadcastScheduler(
                self.engine,
                s.timezone,
                self.jobs,
                refresh_interval_s=s.manifest_refresh_s,
                expansion_interval_s=s.expansion_refresh_s,
            )
            scheduler.start()
            stack.callback(scheduler.stop)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        log.info(
            "controller started: broker %s, database %s",
            redact_url(self.broker_url),
            self.engine.url.render_as_string(),
        )

    def _bootstrap_admin(self) -> None:
        """Create the first admin from LOA_ADMIN_USERNAME/LOA_ADMIN_PASSWORD, only while no user exists."""
        s = self.settings
        if not s.admin_username or s.admin_password is None:
            return
        with self.session_factory() as session, session.begin():
            if session.scalar(select(func.count()).select_from(User)):
                return
            create_user(session, s.admin_username, s.admin_password.get_secret_value(), Role.ADMIN)
        log.info("created the first admin account %r", s.admin_username)

    def stop(self) -> None:
        """Stop every subsystem in reverse order of start."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()
