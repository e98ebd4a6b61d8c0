"""The running controller: its subsystems, started in order and stopped in reverse, in one place."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controller.audio import MediaStore
from controller.config import Settings
from controller.db.migrate import upgrade
from controller.db.session import make_engine, make_session_factory
from controller.dispatch.broker_auth import load_or_create_secret
from controller.dispatch.bus import MqttBus
from controller.dispatch.embedded import EmbeddedBroker
from controller.dispatch.ingest import Ingestor
from controller.dispatch.publisher import ManifestPublisher
from controller.errors import ControllerError
from controller.scheduling.scheduler import BroadcastScheduler
from controller.services.manifests import ManifestPolicy
from loa.clock import Clock, SystemClock
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
        self.embedded_broker: EmbeddedBroker | None = None

    @property
    def public_key(self) -> str:
        """The base64 key agents put in their config to verify our messages."""
        return encode_public_key(self.signer.public_key)

    def start(self) -> None:
        s = self.settings
        stack = ExitStack()
        try:
            s.data_dir.mkdir(parents=True, exist_ok=True)
            self.engine = make_engine(s.resolved_database_url)
            stack.callback(self.engine.dispose)
            upgrade(self.engine)
            self.session_factory = make_session_factory(self.engine)
            self.store = MediaStore(s.resolved_media_dir)
            self.signer = load_or_create_signer(s.resolved_signing_key_path)

            username, password = s.mqtt_username, s.mqtt_password
            if s.mqtt_url:
                self.broker_url = s.mqtt_url
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

            scheduler = BroadcastScheduler(s.timezone, self.publisher.refresh, s.manifest_refresh_s)
            scheduler.start()
            stack.callback(scheduler.stop)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        log.info("controller started: broker %s, database %s", self.broker_url, self.engine.url.render_as_string())

    def stop(self) -> None:
        """Stop every subsystem in reverse order of start."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()
