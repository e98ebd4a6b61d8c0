"""A bulletin's way from draft to air, as the step indicator shows it, and the leader's inbox."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Play
from controller.db.status import PlayStatus


@dataclass(frozen=True)
class Step:
    label: str
    state: str
    """done, current, todo or refused"""


LABELS = ("Soạn thảo", "Gửi duyệt", "Đã duyệt", "Đã xếp lịch", "Đã phát")


def steps(session: Session, row: Bulletin) -> list[Step]:
    """draft → submitted → approved → scheduled → played, with the bulletin's place on it."""
    stmt = (
        select(Play.status, func.count())
        .where(Play.bulletin_id == row.id, Play.status != PlayStatus.CANCELLED)
        .group_by(Play.status)
    )
    plays = {status: n for status, n in session.execute(stmt)}
    reached = {"draft": 1, "rejected": 1, "submitted": 2, "approved": 3}.get(row.status, 1)
    if row.status == "approved" and plays:
        reached = 5 if plays.get(PlayStatus.FINISHED) else 4
    result = []
    for i, label in enumerate(LABELS, start=1):
        if row.status == "rejected" and i == 2:
            result.append(Step("Bị trả lại", "refused"))
        elif i < reached or (i == reached == 5):
            result.append(Step(label, "done"))
        elif i == reached:
            result.append(Step(label, "current"))
        else:
            result.append(Step(label, "todo"))
    return result


def waiting_for_approval(session: Session, commune_ids: Collection[int] | None) -> list[Bulletin]:
    """Bulletins sent to the leader and not yet decided, oldest first."""
    stmt = select(Bulletin).where(Bulletin.status == "submitted").order_by(Bulletin.updated_at)
    if commune_ids is not None:
        stmt = stmt.where(Bulletin.commune_id.in_(list(commune_ids)))
    return list(session.scalars(stmt.limit(50)))
