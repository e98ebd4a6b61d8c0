"""The audit trail: who did what, and when. Written in the same transaction as the change itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import AuditEvent
from controller.services.access import Actor


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    commune_id: int | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor.username,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        commune_id=commune_id,
        detail=detail,
    )
    if at is not None:
        event.at = at
    session.add(event)
    return event


def trail(session: Session, object_type: str, object_id: str | int) -> Sequence[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return session.scalars(stmt).all()
