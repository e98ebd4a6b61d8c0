"""Publishing signed, retained manifests: the desired state of each agent."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Agent
from controller.db.session import transaction
from controller.dispatch.bus import MqttBus
from controller.services.manifests import ManifestPolicy, next_manifest
from loa.clock import Clock
from protocol import Signer, Topics
from protocol.messages import SignedMessage

log = logging.getLogger(__name__)


class ManifestPublisher:
    """Republishes an agent's manifest when its plays change or it nears expiry."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        bus: MqttBus,
        signer: Signer,
        topics: Topics,
        policy: ManifestPolicy,
        clock: Clock,
    ) -> None:
        self._factory = session_factory
        self._bus = bus
        self._signer = signer
        self._topics = topics
        self.policy = policy
        self._clock = clock

    def send(self, messages: Iterable[SignedMessage]) -> int:
        """Sign and publish commands (play-now, stop, volume, test tone), each to its agent's command topic."""
        count = 0
        for message in messages:
            topic = self._topics.commands(message.agent_id)
            self._bus.publish(topic, self._signer.sign(topic, message))
            count += 1
        return count

    def refresh(self, agent_ids: Iterable[str] | None = None, *, force: bool = False) -> int:
        """Publish every manifest that changed. Returns how many were published."""
        now = self._clock.now()
        outgoing: list[tuple[str, bytes]] = []
        with transaction(self._factory) as session:
            stmt = select(Agent).order_by(Agent.id)
            if agent_ids is not None:
                stmt = stmt.where(Agent.id.in_(list(agent_ids)))
            for agent in session.scalars(stmt):
                manifest = next_manifest(session, agent, now, self.policy, force=force)
                if manifest is not None:
                    topic = self._topics.manifest(agent.id)
                    outgoing.append((topic, self._signer.sign(topic, manifest)))
        # Publish only after the new revisions are committed. A crash in between leaves a
        # revision unpublished; the controller forces a full republish at every start.
        for topic, payload in outgoing:
            self._bus.publish(topic, payload, retain=True)
        if outgoing:
            log.info("published %d manifest(s)", len(outgoing))
        return len(outgoing)
