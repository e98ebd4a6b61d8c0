"""The officer's API for the public side: citizens' questions, holding bulletins back, and Biểu 02/03/04."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from controller.deps import ContextDep, ControllerDep, CurrentActor, SessionDep
from controller.reports import forms
from controller.reports.export import XLSX_MEDIA_TYPE, content_disposition
from controller.reports.forms import FormName
from controller.reports.forms_xlsx import form02_xlsx, form03_xlsx, form04_xlsx
from controller.reports.periods import Period, PeriodKind
from controller.schemas import QuestionStatus
from controller.services import public_actions, questions
from controller.services.access import require_commune

router = APIRouter(tags=["public"])

INT_MAX = 2_147_483_647  # an integer column's range on PostgreSQL: larger ids find nothing instead of failing
QuestionId = Annotated[int, Path(ge=1, le=INT_MAX)]
CommuneId = Annotated[int, Query(ge=1, le=INT_MAX)]


class QuestionPublic(BaseModel):
    """A citizen's question as the officer sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    commune_id: int
    bulletin_id: str | None
    topic: str
    name: str
    contact: str
    body: str
    consent_publish: bool
    status: str
    answer: str
    answered_by: str | None
    answered_at: datetime | None
    published: bool
    created_at: datetime


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(default="", max_length=8000)
    at_session: bool = False
    publish: bool | None = None


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


@router.get("/api/questions")
def list_questions(
    session: SessionDep, actor: CurrentActor, commune_id: CommuneId, status: QuestionStatus | None = None
) -> list[QuestionPublic]:
    """The commune's questions from its public page, newest first."""
    items = questions.inbox(session, actor, commune_id, status=status.value if status else None)
    return [QuestionPublic.model_validate(q) for q in items]


@router.post("/api/questions/{question_id}/answer")
def answer_question(ctx: ContextDep, actor: CurrentActor, question_id: QuestionId, data: AnswerIn) -> QuestionPublic:
    """Answer in writing or mark as answered at a dialogue session; `publish` shows it (with consent)."""
    row = public_actions.answer(ctx, question_id, actor, data.answer, at_session=data.at_session, publish=data.publish)
    return QuestionPublic.model_validate(row)


@router.post("/api/bulletins/{bulletin_id}/public-hold", status_code=204)
def hold_bulletin(ctx: ContextDep, actor: CurrentActor, bulletin_id: str, data: HoldIn) -> Response:
    """Take a bulletin off the public page and feeds at once."""
    public_actions.hold_back(ctx, bulletin_id, actor, data.reason)
    return Response(status_code=204)


@router.delete("/api/bulletins/{bulletin_id}/public-hold", status_code=204)
def release_bulletin(ctx: ContextDep, actor: CurrentActor, bulletin_id: str) -> Response:
    public_actions.release(ctx, bulletin_id, actor)
    return Response(status_code=204)


PeriodQuery = Annotated[int, Query(ge=2000, le=2100)]
IndexQuery = Annotated[int, Query(ge=1, le=4, description="quarter 1-4, half 1-2, or 1 for a year")]


def build_form(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    request: Request,
    name: FormName,
    commune_id: CommuneId,
    year: int,
    kind: PeriodKind,
    index: int,
) -> forms.Form02 | forms.Form03 | forms.Form04:
    require_commune(session, actor, commune_id)
    period = Period(kind, year, index)
    tz = controller.settings.timezone
    if name is FormName.BIEU_02:
        return forms.form02(session, commune_id, period, tz)
    if name is FormName.BIEU_03:
        return forms.form03(session, commune_id, period, tz)
    base = controller.settings.public_base_url or str(request.base_url)
    return forms.form04(session, commune_id, period, tz, base_url=base)


_XLSX: dict[type, Callable[[Any], bytes]] = {
    forms.Form02: form02_xlsx,
    forms.Form03: form03_xlsx,
    forms.Form04: form04_xlsx,
}


# Before /api/forms/{name}, which would otherwise take "bieu-02.xlsx" as a form name.
@router.get("/api/forms/{name}.xlsx", response_class=Response)
def get_form_xlsx(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    request: Request,
    name: FormName,
    commune_id: CommuneId,
    year: PeriodQuery,
    kind: PeriodKind = PeriodKind.QUARTER,
    index: IndexQuery = 1,
) -> Response:
    """The same form as XLSX."""
    form = build_form(session, controller, actor, request, name, commune_id, year, kind, index)
    period = Period(kind, year, index)
    filename = f"{name.value}-{form.header.commune_code}-{period.slug}.xlsx"
    return Response(
        _XLSX[type(form)](form),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename)},
    )


@router.get("/api/forms/{name}")
def get_form(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    request: Request,
    name: FormName,
    commune_id: CommuneId,
    year: PeriodQuery,
    kind: PeriodKind = PeriodKind.QUARTER,
    index: IndexQuery = 1,
) -> forms.Form02 | forms.Form03 | forms.Form04:
    """Biểu 02 (topic plan), 03 (products, reach, questions) or 04 (6-month/annual report) for one commune."""
    return build_form(session, controller, actor, request, name, commune_id, year, kind, index)
