"""Publishing signed, retained manifests: the desired state of each agent."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only, sessionmaker

from common.clock import Clock
from controller.db.models import Agent
from controller.db.session import transaction
from controller.dispatch.bus import MqttBus
from controller.services.manifests import ManifestPolicy, next_manifests
from protocol import Signer, Topics
from protocol.messages import SignedMessage

log = logging.getLogger(__name__)

REFRESH_CHUNK = 500
"""Agents per query and transaction when manifests are rebuilt; bounds memory and bind parameters."""
MANIFEST_COLUMNS = (Agent.id, Agent.manifest_revision, Agent.manifest_digest, Agent.manifest_issued_at)


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
        """Publish every manifest that changed. Returns how many were published.

        Agents go in chunks, each with one query for its plays and its own transaction. A chunk's
        manifests are published as soon as it commits, so the broker and the first agents are
        busy while the next chunk is built.
        """
        now = self._clock.now()
        if agent_ids is None:
            with self._factory() as session:
                ids = list(session.scalars(select(Agent.id).order_by(Agent.id)))
        else:
            ids = sorted(set(agent_ids))
        published = 0
        for i in range(0, len(ids), REFRESH_CHUNK):
            published += self._refresh_chunk(ids[i : i + REFRESH_CHUNK], now, force)
        if published:
            log.info("published %d manifest(s)", published)
        return published

    def _refresh_chunk(self, agent_ids: list[str], now: datetime, force: bool) -> int:
        outgoing: list[tuple[str, bytes]] = []
        with transaction(self._factory) as session:
            # Only what a manifest needs: an agent row also carries its last telemetry as JSON.
            stmt = select(Agent).options(load_only(*MANIFEST_COLUMNS)).where(Agent.id.in_(agent_ids)).order_by(Agent.id)
            agents = list(session.scalars(stmt))
            for agent, manifest in zip(
                agents, next_manifests(session, agents, now, self.policy, force=force), strict=True
            ):
                if manifest is not None:
                    topic = self._topics.manifest(agent.id)
                    outgoing.append((topic, self._signer.sign(topic, manifest)))
        # Publish only after the new revisions are committed. A crash in between leaves a
        # revision unpublished; the controller forces a full republish at every start.
        for topic, payload in outgoing:
            self._bus.publish(topic, payload, retain=True)
        return len(outgoing)
