"""Emergency: play-now to chosen clusters after a confirmation step, and the stop-all kill switch.

Every operation is one function in `controller.services.emergency`, the same the API calls: the
confirmation is the same signed token, bound to the officer and valid for two minutes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from controller.deps import ContextDep, SessionDep
from controller.reports.names import agent_names, bulletin_titles
from controller.schemas import EmergencyRequest, InterruptPolicyName, StopAllRequest, Target
from controller.services import emergency, geo
from controller.services.bulletins import list_bulletins
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, WebActor, page_scope
from protocol.messages import Priority

router = APIRouter(route_class=WebRoute, include_in_schema=False)

IntList = Annotated[list[int] | None, Form()]
StrList = Annotated[list[str] | None, Form()]


@router.get("/emergency")
def emergency_page(request: Request, actor: WebActor, session: SessionDep, commune_id: int | None = None) -> Response:
    scope = page_scope(session, actor, commune_id)
    cid = scope.commune_id
    context: dict[str, Any] = {"scope": scope, "commune": scope.commune, "args": {"commune_id": cid}}
    if cid is not None:
        approved = list_bulletins(session, status="approved", commune_ids=[cid])
        villages, agents = geo.commune_places(session, cid)
        recent = list(emergency.list_emergencies(session, [cid]))[:10]
        context.update(
            bulletins=sorted(approved, key=lambda b: (b.priority != Priority.EMERGENCY.value, b.title)),
            villages=villages,
            agents=agents,
            recent=recent,
            titles=bulletin_titles(session, (e.bulletin_id for e in recent)),
            form=None,
            can_write=actor.can_edit,
        )
    return render(request, "emergency.html", actor=actor, **context)


def _request(
    commune_id: int, bulletin_id: str, village_ids: IntList, agent_ids: StrList, policy: str
) -> EmergencyRequest:
    return EmergencyRequest(
        commune_id=commune_id,
        bulletin_id=bulletin_id,
        target=Target(village_ids=village_ids or [], agent_ids=agent_ids or []),
        interrupted=InterruptPolicyName(policy) if policy in ("resume", "skip") else InterruptPolicyName.RESUME,
    )


@router.post("/emergency/preview")
def emergency_preview(
    request: Request,
    actor: WebActor,
    ctx: ContextDep,
    session: SessionDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
    bulletin_id: Annotated[str, Form()],
    village_ids: IntList = None,
    agent_ids: StrList = None,
    interrupted: Annotated[str, Form()] = "resume",
) -> Response:
    """Step 1: what would play where. Nothing is sent until the officer confirms on this page."""
    data = _request(commune_id, bulletin_id, village_ids, agent_ids, interrupted)
    preview = emergency.preview(ctx, data, actor)
    scope = page_scope(session, actor, commune_id, write=True)
    return render(
        request,
        "emergency_confirm.html",
        actor=actor,
        scope=scope,
        data=data,
        preview=preview,
        names=agent_names(session, preview.clusters),
    )


@router.post("/emergency/start")
def emergency_start(
    request: Request,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    confirm_token: Annotated[str, Form()] = "",
) -> Response:
    """Step 2: confirmed with the token the preview issued. Every targeted cluster gets a signed PlayNow."""
    result, title = emergency.start(ctx, confirm_token, actor)
    message = f"Đang phát khẩn cấp “{title}” trên {len(result.clusters)} cụm loa."
    return redirect(request, f"/emergency?commune_id={result.commune_id}", message, "warn")


@router.post("/emergency/stop-all")
def emergency_stop_all(
    request: Request,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
) -> Response:
    """The kill switch: every cluster of the commune stops now, and nothing due in the next minutes plays."""
    result = emergency.stop_everything(ctx, StopAllRequest(commune_id=commune_id), actor)
    message = f"Đã dừng phát trên {len(result.clusters)} cụm loa."
    return redirect(request, f"/emergency?commune_id={commune_id}", message, "warn")


@router.post("/clusters/{agent_id}/volume")
def cluster_volume(
    request: Request,
    agent_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    volume: Annotated[int, Form(ge=0, le=100)],
) -> Response:
    commune_id = emergency.set_volume(ctx, actor, agent_id, volume)
    return redirect(request, f"/clusters?commune_id={commune_id}", f"Đã gửi lệnh đặt âm lượng {volume} cho {agent_id}.")


@router.post("/clusters/{agent_id}/test-tone")
def cluster_test_tone(
    request: Request, agent_id: str, actor: WebActor, ctx: ContextDep, _csrf: CsrfChecked
) -> Response:
    commune_id = emergency.test_tone(ctx, actor, agent_id, 3.0)
    return redirect(request, f"/clusters?commune_id={commune_id}", f"Đã gửi lệnh phát tiếng thử tới {agent_id}.")
