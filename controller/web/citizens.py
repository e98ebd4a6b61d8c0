"""The officer's side of the public page: the citizens' questions inbox, and which bulletins are public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response

from controller.deps import ContextDep, SessionDep
from controller.errors import InvalidInput
from controller.reports import public as listing
from controller.schemas import QuestionStatus
from controller.services import public_actions, questions
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, WebActor, page_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)

INT_MAX = 2_147_483_647
QuestionId = Annotated[int, Path(ge=1, le=INT_MAX)]
CommuneQuery = Annotated[int | None, Query(ge=1, le=INT_MAX)]


def _status(value: str) -> str | None:
    if not value:
        return None
    if value not in {s.value for s in QuestionStatus}:
        raise InvalidInput(f"unknown question status {value[:20]!r}", "Trạng thái câu hỏi không hợp lệ.")
    return value


@router.get("/questions")
def inbox(
    request: Request, session: SessionDep, actor: WebActor, commune_id: CommuneQuery = None, status: str = ""
) -> Response:
    scope = page_scope(session, actor, commune_id)
    commune = scope.commune or (scope.communes[0] if scope.communes else None)
    items = questions.inbox(session, actor, commune.id, status=_status(status)) if commune else []
    return render(
        request,
        "questions.html",
        actor=actor,
        scope=scope,
        commune=commune,
        items=items,
        status=status,
        statuses=list(QuestionStatus),
        commune_required=True,
    )


@router.post("/questions/{question_id}/answer")
def answer(
    request: Request,
    ctx: ContextDep,
    actor: WebActor,
    _csrf: CsrfChecked,
    question_id: QuestionId,
    answer: Annotated[str, Form(max_length=8000)] = "",
    at_session: Annotated[str, Form(max_length=5)] = "",
    publish: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    # The publish box is shown only with the asker's consent; unticked, it hides the answer again.
    question = public_actions.answer(
        ctx, question_id, actor, answer, at_session=bool(at_session), publish=bool(publish)
    )
    message = "Đã lưu câu trả lời." + (" Câu hỏi và câu trả lời đã hiện trên trang công khai." if publish else "")
    return redirect(request, f"/questions?commune_id={question.commune_id}", message)


@router.post("/questions/{question_id}/publish")
def publish(
    request: Request,
    ctx: ContextDep,
    actor: WebActor,
    _csrf: CsrfChecked,
    question_id: QuestionId,
    publish: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    question = public_actions.set_published(ctx, question_id, actor, bool(publish))
    message = "Đã công khai." if question.published else "Đã gỡ khỏi trang công khai."
    return redirect(request, f"/questions?commune_id={question.commune_id}", message)


@router.get("/public-page")
def publication(request: Request, session: SessionDep, actor: WebActor, commune_id: CommuneQuery = None) -> Response:
    scope = page_scope(session, actor, commune_id)
    commune = scope.commune or (scope.communes[0] if scope.communes else None)
    states = listing.publication_states(session, commune.id) if commune else []
    return render(
        request,
        "public_admin.html",
        actor=actor,
        scope=scope,
        commune=commune,
        states=states,
        commune_required=True,
    )


@router.post("/public-page/{bulletin_id}/hold")
def hold(
    request: Request,
    ctx: ContextDep,
    actor: WebActor,
    _csrf: CsrfChecked,
    bulletin_id: str,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    commune_id = public_actions.hold_back(ctx, bulletin_id, actor, reason)
    return redirect(request, f"/public-page?commune_id={commune_id or ''}", "Đã tạm ẩn bản tin khỏi trang công khai.")


@router.post("/public-page/{bulletin_id}/release")
def release(request: Request, ctx: ContextDep, actor: WebActor, _csrf: CsrfChecked, bulletin_id: str) -> Response:
    commune_id = public_actions.release(ctx, bulletin_id, actor)
    return redirect(
        request, f"/public-page?commune_id={commune_id or ''}", "Bản tin được hiện lại trên trang công khai."
    )
