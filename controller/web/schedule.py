"""The schedule: a week view by slot, slots, programmes checked for conflicts before saving, one-off bookings.

Checks, saving, expansion and booking are `controller.services.programmes` and `.schedules`; this file
only turns forms into their schemas and their answers into pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from controller.db.models import Programme
from controller.deps import ContextDep, ControllerDep, SessionDep
from controller.errors import ControllerError, InvalidInput
from controller.reports.week import ONE_OFF, week_view
from controller.runtime import Controller
from controller.scheduling.recurrence import WEEKDAY_VI, Recurrence, RecurrenceKind
from controller.schemas import IssueKind, ProgrammeCheck, ProgrammeCreate, ScheduleCreate, SlotCreate, Target
from controller.services import geo, programmes, schedule_actions
from controller.services.access import Actor
from controller.services.bulletins import list_bulletins
from controller.services.programmes import ProgrammeRejected
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, Scope, WebActor, page_scope

log = logging.getLogger(__name__)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

RECURRENCES = {
    RecurrenceKind.DAILY.value: "Hằng ngày",
    RecurrenceKind.WEEKDAYS.value: "Thứ Hai đến Thứ Sáu",
    RecurrenceKind.DAYS.value: "Các ngày chọn trong tuần",
}


def _monday(value: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        raise InvalidInput("bad week", "Ngày không hợp lệ (định dạng năm-tháng-ngày).") from None
    return day - timedelta(days=day.weekday())


def _require_commune(scope: Scope) -> int:
    if scope.commune_id is None:
        raise InvalidInput("no commune chosen", "Hãy chọn một xã để xem và xếp lịch phát.")
    return scope.commune_id


@dataclass
class ProgrammeForm:
    """The programme form as typed, kept so a refused save shows it again unchanged."""

    programme_id: int | None = None
    name: str = ""
    slot_id: int | None = None
    bulletin_ids: list[str] = field(default_factory=list)
    recurrence: str = RecurrenceKind.DAILY.value
    weekdays: list[int] = field(default_factory=list)
    start_date: str = ""
    end_date: str = ""
    village_ids: list[int] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, row: Programme) -> ProgrammeForm:
        public = programmes.programme_public(row)
        r = public.recurrence
        return cls(
            programme_id=row.id,
            name=row.name,
            slot_id=row.slot_id,
            bulletin_ids=list(public.bulletin_ids),
            recurrence=r.kind.value,
            weekdays=list(r.weekdays),
            start_date=r.start_date.isoformat() if r.start_date else "",
            end_date=r.end_date.isoformat() if r.end_date else "",
            village_ids=list(public.target.village_ids),
            agent_ids=list(public.target.agent_ids),
        )

    def schema(self, commune_id: int) -> ProgrammeCreate:
        if self.slot_id is None:
            raise InvalidInput("no slot", "Hãy chọn khung giờ.")
        if not self.bulletin_ids:
            raise InvalidInput("no bulletin", "Hãy chọn ít nhất một bản tin đã duyệt.")
        try:
            recurrence = Recurrence(
                kind=RecurrenceKind(self.recurrence),
                weekdays=tuple(self.weekdays) if self.recurrence == RecurrenceKind.DAYS.value else (),
                start_date=date.fromisoformat(self.start_date) if self.start_date else None,
                end_date=date.fromisoformat(self.end_date) if self.end_date else None,
            )
            return ProgrammeCreate(
                commune_id=commune_id,
                slot_id=self.slot_id,
                name=self.name.strip(),
                bulletin_ids=self.bulletin_ids,
                recurrence=recurrence,
                target=Target(village_ids=self.village_ids, agent_ids=self.agent_ids),
                acknowledged=self.acknowledged,
            )
        except (ValidationError, ValueError) as exc:
            raise InvalidInput(f"bad programme form: {exc}", "Hãy kiểm tra lại tên, ngày và lặp lại.") from None


def _page(
    request: Request,
    actor: Actor,
    session: Session,
    controller: Controller,
    scope: Scope,
    *,
    week: str | None = None,
    form: ProgrammeForm | None = None,
    check: ProgrammeCheck | None = None,
    status_code: int = 200,
    flash: str | None = None,
    flash_kind: str = "ok",
) -> Response:
    tz = controller.settings.timezone
    context: dict[str, Any] = {"flash": flash, "flash_kind": flash_kind} if flash else {}
    commune_id = scope.commune_id
    if commune_id is None:
        return render(request, "schedule.html", actor=actor, scope=scope, commune=None, args={}, **context)
    today = controller.clock.now().astimezone(ZoneInfo(tz)).date()
    monday = _monday(week, today)
    villages, agents = geo.commune_places(session, commune_id)
    return render(
        request,
        "schedule.html",
        actor=actor,
        status_code=status_code,
        scope=scope,
        commune=scope.commune,
        week=week_view(session, commune_id, monday, tz),
        today=today,
        prev_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
        weekday_names=WEEKDAY_VI,
        slots=programmes.list_slots(session, commune_id),
        programme_rows=[programmes.programme_public(p) for p in programmes.list_programmes(session, [commune_id])],
        approved=list_bulletins(session, status="approved", commune_ids=[commune_id]),
        villages=villages,
        agents=agents,
        recurrences=RECURRENCES,
        form=form or ProgrammeForm(),
        check=check,
        blocking=[i for i in check.issues if i.kind is not IssueKind.WARNING] if check else [],
        args={"commune_id": commune_id, "week": monday.isoformat()},
        can_write=actor.can_edit,
        now_local=controller.clock.now().astimezone(ZoneInfo(tz)),
        **context,
    )


@router.get("/schedule")
def schedule_page(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    controller: ControllerDep,
    commune_id: int | None = None,
    week: str | None = None,
    programme_id: int | None = None,
) -> Response:
    scope = page_scope(session, actor, commune_id)
    form = None
    if programme_id is not None:
        row = programmes.get_programme(session, programme_id)
        scope = page_scope(session, actor, row.commune_id)
        form = ProgrammeForm.of(row)
    return _page(request, actor, session, controller, scope, week=week, form=form)


@router.post("/schedule/slots")
def slot_create(
    request: Request,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
    name: Annotated[str, Form()],
    start_time: Annotated[str, Form()],
    length_min: Annotated[int, Form()],
) -> Response:
    try:
        data = SlotCreate(commune_id=commune_id, name=name.strip(), start_time=start_time, length_min=length_min)
    except ValidationError:
        raise InvalidInput("bad slot form", "Khung giờ cần tên, giờ bắt đầu (GG:PP) và số phút (1–240).") from None
    target = f"/schedule?commune_id={commune_id}"
    try:
        schedule_actions.create_slot(ctx, data, actor)
    except InvalidInput as exc:  # quiet hours: say why on the schedule page, not on an error page
        return redirect(request, target, exc.message_vi, "error")
    return redirect(request, target, f"Đã thêm khung giờ {data.name}.")


@router.post("/schedule/programmes")
def programme_save(
    request: Request,
    actor: WebActor,
    controller: ControllerDep,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
    name: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "check",
    programme_id: Annotated[int | None, Form()] = None,
    slot_id: Annotated[int | None, Form()] = None,
    bulletin_ids: Annotated[list[str] | None, Form()] = None,
    recurrence: Annotated[str, Form()] = RecurrenceKind.DAILY.value,
    weekdays: Annotated[list[int] | None, Form()] = None,
    start_date: Annotated[str, Form()] = "",
    end_date: Annotated[str, Form()] = "",
    village_ids: Annotated[list[int] | None, Form()] = None,
    agent_ids: Annotated[list[str] | None, Form()] = None,
    acknowledged: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """`action=check` shows conflicts, refusals and warnings without saving; `action=save` saves."""
    form = ProgrammeForm(
        programme_id,
        name,
        slot_id,
        bulletin_ids or [],
        recurrence,
        weekdays or [],
        start_date,
        end_date,
        village_ids or [],
        agent_ids or [],
        acknowledged or [],
    )
    now = controller.clock.now()
    with controller.session_factory() as session:
        scope = page_scope(session, actor, commune_id, write=True)
    try:
        data = form.schema(commune_id)
        if action != "save":
            with controller.session_factory() as session:
                check = programmes.check_programme(session, data, now, replacing=programme_id)
            message = "Không có xung đột. Có thể lưu." if not check.blocking else "Cần xử lý các vấn đề bên dưới."
            with controller.session_factory() as session:
                return _page(
                    request,
                    actor,
                    session,
                    controller,
                    scope,
                    form=form,
                    check=check,
                    flash=message,
                    flash_kind="ok" if not check.blocking else "warn",
                )
        schedule_actions.save_programme(ctx, data, actor, programme_id)
    except ProgrammeRejected as exc:
        check = ProgrammeCheck(issues=exc.issues, plays_in_horizon=0, clusters=0)
        with controller.session_factory() as session:
            return _page(
                request,
                actor,
                session,
                controller,
                scope,
                form=form,
                check=check,
                status_code=409,
                flash="Chưa lưu: cần xử lý các vấn đề bên dưới.",
                flash_kind="error",
            )
    except ControllerError as exc:
        with controller.session_factory() as session:
            return _page(
                request,
                actor,
                session,
                controller,
                scope,
                form=form,
                status_code=exc.status_code,
                flash=exc.message_vi,
                flash_kind="error",
            )
    return redirect(request, f"/schedule?commune_id={commune_id}", f"Đã lưu chương trình “{data.name}”.")


@router.post("/schedule/programmes/{programme_id}/cancel")
def programme_cancel(
    request: Request, programme_id: int, actor: WebActor, ctx: ContextDep, _csrf: CsrfChecked
) -> Response:
    commune_id = schedule_actions.cancel_programme(ctx, programme_id, actor)
    return redirect(request, f"/schedule?commune_id={commune_id}", "Đã dừng chương trình.", "warn")


@router.post("/schedule/bookings")
def booking_create(
    request: Request,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    commune_id: Annotated[int, Form()],
    bulletin_id: Annotated[str, Form()],
    starts_at: Annotated[str, Form()],
    village_ids: Annotated[list[int] | None, Form()] = None,
    agent_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Book one approved bulletin at one local date and time (seconds allowed) on the chosen clusters."""
    tz = ZoneInfo(ctx.settings.timezone)
    try:
        local = datetime.fromisoformat(starts_at)
    except ValueError:
        raise InvalidInput("bad booking time", "Thời điểm phát không hợp lệ.") from None
    when = local.replace(tzinfo=tz) if local.tzinfo is None else local
    data = ScheduleCreate(
        bulletin_id=bulletin_id,
        commune_id=commune_id,
        starts_at=when,
        slot_name=ONE_OFF,
        village_ids=village_ids or [],
        agent_ids=agent_ids or [],
    )
    booking = schedule_actions.book(ctx, data, actor)
    count = booking.play_count
    message = f"Đã đặt lịch phát lúc {when.astimezone(tz):%H:%M:%S %d/%m/%Y} trên {count} cụm loa."
    week = when.astimezone(tz).date().isoformat()
    return redirect(request, f"/schedule?commune_id={commune_id}&week={week}", message)
