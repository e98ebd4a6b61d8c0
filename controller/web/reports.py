"""Reports: a period picker, planned against confirmed per commune, topic and cluster, drill-down, print form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from controller.db.models import Agent
from controller.deps import ControllerDep, SessionDep
from controller.reports.periods import Period, PeriodKind, period_or_current
from controller.reports.summary import Dimension, ReportSummary, summarize
from controller.services import geo
from controller.services.access import Actor
from controller.web.charts import bar_chart_svg
from controller.web.render import WebRoute, render
from controller.web.security import Scope, WebActor, page_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@dataclass(frozen=True)
class ReportView:
    """What one report page shows: the period, the scope, the level of drill-down and its tables."""

    period: Period
    scope: Scope
    agent: Agent | None
    main: ReportSummary
    topics: ReportSummary

    @property
    def level(self) -> str:
        if self.agent is not None:
            return "cluster"
        return "commune" if self.scope.commune is not None else "province"

    def args(self) -> dict[str, str | int | None]:
        return {
            "kind": self.period.kind.value,
            "year": self.period.year,
            "index": self.period.index,
            "commune_id": self.scope.commune_id,
            "agent_id": self.agent.id if self.agent else None,
        }


def build_view(
    session: Session,
    actor: Actor,
    timezone: str,
    period: Period,
    commune_id: int | None,
    agent_id: str | None,
) -> ReportView:
    agent: Agent | None = None
    if agent_id:
        agent = geo.get_agent(session, agent_id)
        commune_id = agent.commune_id
    scope = page_scope(session, actor, commune_id)

    def table(group_by: Dimension) -> ReportSummary:
        return summarize(
            session,
            period,
            timezone,
            group_by,
            visible_communes=scope.visible,
            commune_id=scope.commune_id,
            agent_id=agent.id if agent else None,
        )

    main = table(Dimension.CLUSTER if scope.commune is not None else Dimension.COMMUNE)
    return ReportView(period, scope, agent, main, table(Dimension.TOPIC))


def _view(
    actor: Actor,
    session: Session,
    controller: ControllerDep,
    kind: str | None,
    year: int | None,
    index: int | None,
    commune_id: int | None,
    agent_id: str | None,
) -> ReportView:
    tz = controller.settings.timezone
    period = period_or_current(kind, year, index, controller.clock.now(), ZoneInfo(tz))
    return build_view(session, actor, tz, period, commune_id, agent_id)


@router.get("/reports")
def reports_page(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    controller: ControllerDep,
    kind: str | None = None,
    year: int | None = None,
    index: int | None = None,
    commune_id: int | None = None,
    agent_id: str | None = None,
) -> Response:
    view = _view(actor, session, controller, kind, year, index, commune_id, agent_id)
    tz = ZoneInfo(controller.settings.timezone)
    this_year = controller.clock.now().astimezone(tz).year
    start, end = view.period.bounds(tz)
    cluster_log = {
        "agent_id": view.agent.id if view.agent else None,
        "start": start.astimezone(tz).date().isoformat(),
        "end": (end.astimezone(tz).date() - timedelta(days=1)).isoformat(),
    }
    return render(
        request,
        "reports.html",
        actor=actor,
        view=view,
        scope=view.scope,
        args=view.args(),
        kinds=list(PeriodKind),
        years=list(range(this_year, this_year - 6, -1)),
        main_chart=bar_chart_svg(view.main.rows, f"Lượt phát theo {view.main.group_by.label_vi.lower()}")
        if view.level != "cluster"
        else "",
        cluster_log=cluster_log,
        topic_chart=bar_chart_svg(view.topics.rows, "Lượt phát theo chuyên đề"),
    )


@router.get("/reports/print")
def report_print(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    controller: ControllerDep,
    kind: str | None = None,
    year: int | None = None,
    index: int | None = None,
    commune_id: int | None = None,
    agent_id: str | None = None,
) -> Response:
    """The official form: issuing body, period, figures, then the signature block. Printed from the browser."""
    view = _view(actor, session, controller, kind, year, index, commune_id, agent_id)
    commune = view.scope.commune
    province = commune.province.name if commune is not None else _province_name(view)
    return render(
        request,
        "report_print.html",
        actor=actor,
        view=view,
        issuer=f"UBND {commune.name}" if commune is not None else f"UBND {province}",
        province=province,
        today=controller.clock.now(),
    )


def _province_name(view: ReportView) -> str:
    names = sorted({c.province.name for c in view.scope.communes})
    return names[0] if len(names) == 1 else "tỉnh"
