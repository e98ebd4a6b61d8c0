"""Retiring a loudspeaker post: it keeps its history, and loses its broker login."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Agent
from controller.db.session import transaction
from controller.errors import Forbidden, NotFound
from controller.services import audit
from controller.services.access import Actor

log = logging.getLogger(__name__)


class BrokerLogins(Protocol):
    """What manages agent logins on the broker (Mosquitto's dynamic security: `DynamicSecurity`)."""

    def remove_agent(self, agent_id: str) -> None: ...


def retire_agent(
    factory: sessionmaker[Session], actor: Actor, agent_id: str, now: datetime, logins: BrokerLogins | None
) -> Agent:
    """Mark the post retired (audited), then, after the commit, remove its broker login and role.

    With the embedded broker, whose logins derive from its secret, nothing is removed: see the README.
    """
    if not actor.is_admin:
        raise Forbidden(f"{actor.username} is not an admin", "Chỉ quản trị hệ thống được làm việc này.")
    with transaction(factory) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id} not found", f"Không tìm thấy cụm loa {agent_id}.")
        if agent.retired_at is None:
            agent.retired_at = now
            audit.record(session, actor, "retire", "agent", agent_id, commune_id=agent.commune_id, at=now)
    if logins is not None:
        logins.remove_agent(agent_id)
        log.info("broker login of retired agent %s removed", agent_id)
    return agent
