"""Clusters grouped by village, and a location view drawn from their stored coordinates."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from controller.deps import ControllerDep, SessionDep
from controller.reports.fleet import by_village, cluster_statuses
from controller.web.charts import location_svg
from controller.web.render import WebRoute, render
from controller.web.security import WebActor, page_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/clusters")
def clusters_page(
    request: Request, actor: WebActor, session: SessionDep, controller: ControllerDep, commune_id: int | None = None
) -> Response:
    scope = page_scope(session, actor, commune_id)
    clusters = cluster_statuses(session, visible_communes=scope.visible, commune_id=scope.commune_id)
    return render(
        request,
        "clusters.html",
        actor=actor,
        scope=scope,
        groups=by_village(clusters),
        total=len(clusters),
        online=sum(1 for c in clusters if c.status == "online"),
        map_svg=location_svg(clusters),
        now=controller.clock.now(),
        controls=actor.can_edit,
        args={"commune_id": scope.commune_id},
    )
