"""Emergency: play-now to chosen clusters after a confirmation step, and the stop-all kill switch.

Validation, plays and commands are `controller.services.emergency` and `.commands`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import select

from controller.api.deps import ControllerDep, SessionDep
from controller.db.models import Agent, Village
from controller.db.session import transaction
from controller.schemas import EmergencyRequest, InterruptPolicyName, StopAllRequest, Target
from controller.services import commands, emergency
from controller.services.bulletins import get_bulletin, list_bulletins
from controller.web.names import agent_names, bulletin_titles
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, WebActor, page_scope

log = logging.getLogger(__name__)

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
        recent = list(emergency.list_emergencies(session, [cid]))[:10]
        context.update(
            bulletins=sorted(approved, key=lambda b: (b.priority != "emergency", b.title)),
            villages=list(session.scalars(select(Village).where(Village.commune_id == cid).order_by(Village.name))),
            agents=list(session.scalars(select(Agent).where(Agent.commune_id == cid).order_by(Agent.id))),
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
    bulletin, clusters = emergency.emergency_targets(session, data, actor)
    scope = page_scope(session, actor, commune_id, write=True)
    return render(
        request,
        "emergency_confirm.html",
        actor=actor,
        scope=scope,
        data=data,
        bulletin=bulletin,
        clusters=clusters,
        names=agent_names(session, clusters),
    )


@router.post("/emergency/start")
def emergency_start(
    request: Request,
    actor: WebActor,
    controller: ControllerDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
    bulletin_id: Annotated[str, Form()],
    confirmed: Annotated[str, Form()] = "",
    village_ids: IntList = None,
    agent_ids: StrList = None,
    interrupted: Annotated[str, Form()] = "resume",
) -> Response:
    """Step 2: confirmed. Every targeted cluster gets a signed PlayNow that preempts what it plays."""
    if confirmed != "yes":
        return redirect(request, f"/emergency?commune_id={commune_id}", "Chưa xác nhận nên chưa phát.", "warn")
    data = _request(commune_id, bulletin_id, village_ids, agent_ids, interrupted)
    now = controller.clock.now()
    with transaction(controller.session_factory) as session:
        row, plays = emergency.start_emergency(session, data, actor, now)
        messages = commands.play_now(plays, controller.settings.resolved_public_base_url, now, row.interrupted)
        title = get_bulletin(session, bulletin_id).title
        clusters = [p.agent_id for p in plays]
    log.warning("emergency %s started by %s on %d clusters", row.id, actor.username, len(clusters))
    controller.publisher.send(messages)
    controller.publisher.refresh(clusters)
    message = f"Đang phát khẩn cấp “{title}” trên {len(clusters)} cụm loa."
    return redirect(request, f"/emergency?commune_id={commune_id}", message, "warn")


@router.post("/emergency/stop-all")
def emergency_stop_all(
    request: Request,
    actor: WebActor,
    controller: ControllerDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
) -> Response:
    """The kill switch: every cluster of the commune stops now, and nothing due in the next minutes plays."""
    now = controller.clock.now()
    with transaction(controller.session_factory) as session:
        agents = emergency.stop_all(session, StopAllRequest(commune_id=commune_id), actor, now)
    log.warning("stop-all by %s on %d clusters of commune %s", actor.username, len(agents), commune_id)
    controller.publisher.send(commands.stop(agents, now))
    controller.publisher.refresh(agents)
    return redirect(request, f"/emergency?commune_id={commune_id}", f"Đã dừng phát trên {len(agents)} cụm loa.", "warn")


@router.post("/clusters/{agent_id}/volume")
def cluster_volume(
    request: Request,
    agent_id: str,
    actor: WebActor,
    controller: ControllerDep,
    _csrf: CsrfChecked,
    volume: Annotated[int, Form(ge=0, le=100)],
) -> Response:
    with transaction(controller.session_factory) as session:
        message = commands.set_volume(session, actor, agent_id, volume, controller.clock.now())
        commune_id = session.get_one(Agent, agent_id).commune_id
    controller.publisher.send([message])
    return redirect(request, f"/clusters?commune_id={commune_id}", f"Đã gửi lệnh đặt âm lượng {volume} cho {agent_id}.")


@router.post("/clusters/{agent_id}/test-tone")
def cluster_test_tone(
    request: Request, agent_id: str, actor: WebActor, controller: ControllerDep, _csrf: CsrfChecked
) -> Response:
    with transaction(controller.session_factory) as session:
        message = commands.test_tone(session, actor, agent_id, 3.0, controller.clock.now())
        commune_id = session.get_one(Agent, agent_id).commune_id
    controller.publisher.send([message])
    return redirect(request, f"/clusters?commune_id={commune_id}", f"Đã gửi lệnh phát tiếng thử tới {agent_id}.")
