"""The dashboard: today's programme, clusters online and offline, plays done/pending/missed, alerts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from controller.deps import ControllerDep, SessionDep
from controller.reports import journey
from controller.reports.today import today_overview
from controller.services.users import Role
from controller.web.render import WebRoute, render
from controller.web.security import WebActor, page_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ALERT_KINDS = {
    "missed": "Lượt phát bị bỏ lỡ",
    "offline": "Cụm loa mất kết nối",
    "clock": "Đồng hồ bị lệch",
    "security": "Lệnh bị từ chối",
}


@router.get("/")
def dashboard(
    request: Request, actor: WebActor, session: SessionDep, controller: ControllerDep, commune_id: int | None = None
) -> Response:
    scope = page_scope(session, actor, commune_id)
    overview = today_overview(
        session,
        controller.clock.now(),
        controller.settings.timezone,
        visible_communes=scope.visible,
        commune_id=scope.commune_id,
    )
    waiting = journey.waiting_for_approval(session, [scope.commune_id] if scope.commune_id else scope.visible)
    return render(
        request,
        "dashboard.html",
        waiting=waiting if actor.role in (Role.LEADER, Role.ADMIN, Role.OFFICER) else [],
        is_leader=actor.role in (Role.LEADER, Role.ADMIN),
        actor=actor,
        scope=scope,
        overview=overview,
        alert_kinds=ALERT_KINDS,
        args={"commune_id": scope.commune_id},
    )
