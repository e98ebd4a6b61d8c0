"""The province's figures and the broadcast log."""

from __future__ import annotations

from fastapi import APIRouter, Query

from controller.api.deps import ControllerDep, SessionDep
from controller.reports.quarterly import broadcast_log, quarterly_report
from controller.schemas import AwareDatetime, BroadcastLogEntry, QuarterlyReport

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/quarterly")
def get_quarterly(
    session: SessionDep,
    controller: ControllerDep,
    year: int = Query(ge=2000, le=2100),
    quarter: int = Query(ge=1, le=4),
) -> QuarterlyReport:
    """Planned and confirmed plays and minutes, per commune and topic, for one quarter."""
    return quarterly_report(session, year, quarter, controller.settings.timezone)


@router.get("/broadcast-log")
def get_broadcast_log(
    session: SessionDep,
    start: AwareDatetime,
    end: AwareDatetime,
    commune_id: int | None = None,
) -> list[BroadcastLogEntry]:
    """Nhật ký phát thanh: what played where, when, and for how long."""
    return broadcast_log(session, start, end, commune_id=commune_id)
