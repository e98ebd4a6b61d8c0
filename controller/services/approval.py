"""The approval workflow: draft -> submitted -> approved, or rejected with a comment.

Only a commune leader (or an admin) approves. Only approved bulletins reach a schedule, a programme or
an emergency: every path that books audio calls `require_approved`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Play
from controller.db.status import PlayStatus
from controller.errors import Conflict, InvalidInput
from controller.schemas import BulletinStatus
from controller.services import audit
from controller.services.access import Actor, require_commune, require_role
from controller.services.bulletins import get_bulletin
from controller.services.users import Role
from protocol.messages import Priority


@dataclass(frozen=True)
class DurationWindow:
    """How long a non-emergency bulletin may last, in seconds (3-5 minutes by default)."""

    min_s: float = 180.0
    max_s: float = 300.0

    def problem(self, duration_s: float) -> str | None:
        """A Vietnamese explanation when `duration_s` is outside the window, else None."""
        if self.min_s <= duration_s <= self.max_s:
            return None
        return (
            f"Bản tin dài {_mmss(duration_s)}, nằm ngoài khoảng {_mmss(self.min_s)}–{_mmss(self.max_s)} quy định. "
            "Hãy sửa nội dung, hoặc ghi rõ lý do nếu vẫn muốn phát."
        )


def _mmss(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def submit(
    session: Session,
    bulletin_id: str,
    actor: Actor,
    *,
    window: DurationWindow,
    duration_override: str = "",
) -> Bulletin:
    """Send a draft (or rejected) bulletin with rendered audio to the leader.

    Audio outside the duration window is refused unless the officer gives a reason; emergencies are exempt.
    """
    row = get_bulletin(session, bulletin_id)
    require_commune(session, actor, row.commune_id, write=True)
    _expect(row, BulletinStatus.DRAFT, BulletinStatus.REJECTED, action="gửi duyệt")
    if row.audio_asset is None:
        raise InvalidInput(
            f"bulletin {row.id} has no audio to review",
            "Bản tin chưa có âm thanh. Hãy tạo âm thanh hoặc tải bản ghi lên trước khi gửi duyệt.",
        )
    problem = None if row.priority == Priority.EMERGENCY.value else window.problem(row.audio_asset.duration_s)
    reason = duration_override.strip()
    if problem and not reason:
        raise InvalidInput(f"bulletin {row.id} lasts {row.audio_asset.duration_s:.0f}s, outside the window", problem)
    row.duration_override = reason if problem else ""
    row.status = BulletinStatus.SUBMITTED.value
    row.review_comment = ""
    detail = f"duration override: {reason}" if problem else ""
    audit.record(session, actor, "submit", "bulletin", row.id, commune_id=row.commune_id, detail=detail)
    return row


def approve(session: Session, bulletin_id: str, actor: Actor, now: datetime, comment: str = "") -> set[str]:
    """A leader approves a submitted bulletin. Plays held by an earlier edit come back with the new audio.

    Returns the clusters whose manifests change.
    """
    row = _reviewable(session, bulletin_id, actor)
    assert row.audio_asset_id is not None  # submit() checked
    row.status = BulletinStatus.APPROVED.value
    row.approved_by = actor.username
    row.approved_at = now
    row.review_comment = comment.strip()
    audit.record(session, actor, "approve", "bulletin", row.id, commune_id=row.commune_id, detail=comment.strip())
    released = set(
        session.scalars(
            update(Play)
            .where(Play.bulletin_id == row.id, Play.status == PlayStatus.HELD, Play.starts_at > now)
            .values(status=PlayStatus.PLANNED, audio_asset_id=row.audio_asset_id)
            .returning(Play.agent_id)
        )
    )
    return released


def reject(session: Session, bulletin_id: str, actor: Actor, comment: str) -> Bulletin:
    """A leader sends a submitted bulletin back with a comment, which is required."""
    if not comment.strip():
        raise InvalidInput("a rejection needs a comment", "Hãy ghi lý do không duyệt để cán bộ sửa.")
    row = _reviewable(session, bulletin_id, actor)
    row.status = BulletinStatus.REJECTED.value
    row.review_comment = comment.strip()
    audit.record(session, actor, "reject", "bulletin", row.id, commune_id=row.commune_id, detail=comment.strip())
    return row


def _reviewable(session: Session, bulletin_id: str, actor: Actor) -> Bulletin:
    row = get_bulletin(session, bulletin_id)
    require_role(actor, Role.LEADER)
    require_commune(session, actor, row.commune_id, write=True)
    _expect(row, BulletinStatus.SUBMITTED, action="duyệt")
    return row


def _expect(row: Bulletin, *states: BulletinStatus, action: str) -> None:
    if row.status not in {s.value for s in states}:
        label = STATUS_VI.get(row.status, row.status)
        raise Conflict(
            f"bulletin {row.id} is {row.status}; cannot {action} it",
            f"Bản tin đang ở trạng thái '{label}', không thể {action}.",
        )


def require_approved(row: Bulletin) -> None:
    """Refuse to book audio that a leader has not approved, whichever path asks."""
    if row.status != BulletinStatus.APPROVED.value:
        label = STATUS_VI.get(row.status, row.status)
        raise InvalidInput(
            f"bulletin {row.id} is {row.status}, not approved",
            f"Bản tin '{row.title}' chưa được lãnh đạo duyệt (trạng thái: {label}). "
            "Chỉ bản tin đã duyệt mới được xếp lịch.",
        )


def pending_review(session: Session, commune_ids: list[int] | None) -> list[Bulletin]:
    stmt = select(Bulletin).where(Bulletin.status == BulletinStatus.SUBMITTED.value).order_by(Bulletin.updated_at)
    if commune_ids is not None:
        stmt = stmt.where(Bulletin.commune_id.in_(commune_ids))
    return list(session.scalars(stmt))


STATUS_VI = {
    BulletinStatus.DRAFT.value: "Bản nháp",
    BulletinStatus.SUBMITTED.value: "Chờ duyệt",
    BulletinStatus.APPROVED.value: "Đã duyệt",
    BulletinStatus.REJECTED.value: "Không duyệt",
}
