"""The province's figures, their exports, and the broadcast log. A commune login sees only its commune."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from controller.deps import ControllerDep, CurrentActor, IdQuery, SessionDep
from controller.reports.export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    content_disposition,
    log_csv,
    summary_csv,
    summary_file_name,
    summary_xlsx,
)
from controller.reports.log_filter import LogFilter, search_log
from controller.reports.periods import Period, PeriodKind
from controller.reports.quarterly import quarterly_report
from controller.reports.summary import Dimension, ReportSummary, summarize
from controller.schemas import AwareDatetime, BroadcastLogEntry, QuarterlyReport
from controller.services import geo
from controller.services.access import require_commune, visible_commune_ids

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/quarterly")
def get_quarterly(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    year: int = Query(ge=2000, le=2100),
    quarter: int = Query(ge=1, le=4),
) -> QuarterlyReport:
    """Planned and confirmed plays and minutes, per commune and topic, for one quarter (the communes you may see)."""
    visible = visible_commune_ids(session, actor)
    return quarterly_report(session, year, quarter, controller.settings.timezone, visible_communes=visible)


def _summary(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    year: int = Query(ge=2000, le=2100),
    kind: PeriodKind = PeriodKind.QUARTER,
    index: int = Query(default=1, ge=1, le=4, description="quarter 1-4, half 1-2, or 1 for a year"),
    group_by: Dimension = Dimension.COMMUNE,
    commune_id: IdQuery = None,
    agent_id: str | None = None,
) -> ReportSummary:
    """The summary the query asks for, within what the login may see: shared by the JSON, CSV and XLSX routes."""
    if agent_id is not None:
        require_commune(session, actor, geo.get_agent(session, agent_id).commune_id)
    if commune_id is not None:
        require_commune(session, actor, commune_id)
    return summarize(
        session,
        Period(kind, year, index),
        controller.settings.timezone,
        group_by,
        visible_communes=visible_commune_ids(session, actor),
        commune_id=commune_id,
        agent_id=agent_id,
        now=controller.clock.now(),
    )


SummaryDep = Annotated[ReportSummary, Depends(_summary)]


@router.get("/summary")
def get_summary(summary: SummaryDep) -> ReportSummary:
    """Planned against confirmed plays, minutes, bulletins and completion rate for a quarter, half-year or year.

    Rows are per commune, per topic or per cluster; `commune_id` or `agent_id` drills down.
    """
    return summary


@router.get("/summary.csv", response_class=Response)
def get_summary_csv(summary: SummaryDep) -> Response:
    """The same figures as `/summary`, as CSV (UTF-8 with BOM)."""
    return Response(
        summary_csv(summary),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(summary_file_name(summary, "csv"))},
    )


@router.get("/summary.xlsx", response_class=Response)
def get_summary_xlsx(summary: SummaryDep) -> Response:
    """The same figures as `/summary`, as an Excel workbook."""
    return Response(
        summary_xlsx(summary),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(summary_file_name(summary, "xlsx"))},
    )


def _log_filter(
    commune_id: IdQuery = None,
    agent_id: str | None = None,
    topic: str | None = None,
    status: str | None = None,
    q: str | None = Query(default=None, max_length=200, description="text in the title, cluster or village"),
) -> LogFilter:
    return LogFilter.parse(commune_id, agent_id, topic, status, q)


LogFilterDep = Annotated[LogFilter, Depends(_log_filter)]


@router.get("/broadcast-log")
def get_broadcast_log(
    session: SessionDep, actor: CurrentActor, start: AwareDatetime, end: AwareDatetime, filters: LogFilterDep
) -> list[BroadcastLogEntry]:
    """Nhật ký phát thanh: what played where, when, and for how long."""
    if filters.commune_id is not None:
        require_commune(session, actor, filters.commune_id)
    return search_log(session, start, end, filters, visible_communes=visible_commune_ids(session, actor))


@router.get("/broadcast-log.csv", response_class=Response)
def get_broadcast_log_csv(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    start: AwareDatetime,
    end: AwareDatetime,
    filters: LogFilterDep,
) -> Response:
    """The broadcast log as CSV, times in the controller's local zone."""
    entries = get_broadcast_log(session, actor, start, end, filters)
    return Response(
        log_csv(entries, controller.settings.timezone),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="nhat-ky-phat.csv"'},
    )
