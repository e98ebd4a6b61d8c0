"""Lost confirmations: the gaps in each agent's confirmation sequence numbers (protocol v1.2)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import ReportSequence


def missing_confirmations(session: Session, agent_ids: Collection[str]) -> dict[str, list[int]]:
    """The sequence numbers each agent skipped between the lowest and highest received: lost confirmations."""
    missing: dict[str, list[int]] = {}
    rows = session.execute(
        select(ReportSequence.agent_id, ReportSequence.seq)
        .where(ReportSequence.agent_id.in_(list(agent_ids)))
        .order_by(ReportSequence.agent_id, ReportSequence.seq)
    )
    previous: dict[str, int] = {}
    for agent_id, seq in rows:
        last = previous.get(agent_id)
        if last is not None and seq > last + 1:
            missing.setdefault(agent_id, []).extend(range(last + 1, seq))
        previous[agent_id] = seq
    return missing
