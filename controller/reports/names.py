"""Human names for the pages: clusters and bulletins by name, with their ids only as detail."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin


def agent_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Each cluster's name (its id when it has none)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(wanted)))
    found = {agent_id: name or agent_id for agent_id, name in rows}
    return {i: found.get(i, i) for i in wanted}


def bulletin_titles(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Each bulletin's title."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Bulletin.id, Bulletin.title).where(Bulletin.id.in_(wanted)))
    return {bulletin_id: title for bulletin_id, title in rows}
