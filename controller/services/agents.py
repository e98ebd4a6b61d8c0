"""Retiring a loudspeaker post: it keeps its history, and loses its broker login."""

from __future__ import annotations

import logging
from typing import Protocol

from controller.db.models import Agent
from controller.errors import Forbidden, NotFound
from controller.schemas import AgentPublic
from controller.services import audit
from controller.services.access import Actor
from controller.services.context import Context

log = logging.getLogger(__name__)


class BrokerLogins(Protocol):
    """What manages agent logins on the broker (Mosquitto's dynamic security: `DynamicSecurity`)."""

    def add_agent(self, agent_id: str, password: str) -> None: ...

    def remove_agent(self, agent_id: str) -> None: ...


def retire_agent(ctx: Context, actor: Actor, agent_id: str, logins: BrokerLogins | None) -> AgentPublic:
    """Mark the post retired (audited), then, after the commit, remove its broker login and role.

    With the embedded broker, whose logins derive from its secret, nothing is removed: see the README.
    """
    if not actor.is_admin:
        raise Forbidden(f"{actor.username} is not an admin", "Chỉ quản trị hệ thống được làm việc này.")
    now = ctx.now()
    with ctx.transaction() as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id} not found", f"Không tìm thấy cụm loa {agent_id}.")
        if agent.retired_at is None:
            agent.retired_at = now
            audit.record(session, actor, "retire", "agent", agent_id, commune_id=agent.commune_id, at=now)
        result = AgentPublic.model_validate(agent)
    if logins is not None:
        logins.remove_agent(agent_id)
        log.info("broker login of retired agent %s removed", agent_id)
    return result
