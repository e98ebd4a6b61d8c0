"""Bulletin pages: list and filter, editor with a live estimate, render and listen, upload, submit and review.

Every change goes through `controller.services` (bulletins, approval), as the API's does.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import ValidationError

from controller.db.models import Bulletin
from controller.deps import ContextDep, ControllerDep, SessionDep
from controller.errors import ControllerError, InvalidInput
from controller.reports import journey
from controller.runtime import Controller
from controller.schemas import BulletinCreate, BulletinStatus, BulletinUpdate, VoiceSpec
from controller.services import approval, audit, bulletin_actions, bulletins
from controller.services.access import Actor
from controller.services.bulletin_actions import MAX_UPLOAD_BYTES, topics_for
from controller.services.users import Role
from controller.text.pinned import normalize_pinned, rewrites
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, WebActor, page_scope
from protocol.messages import Priority

log = logging.getLogger(__name__)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

VOICES: dict[str, str] = {
    "espeak-ng|vi": "Giọng miền Bắc (espeak-ng, không cần Internet)",
    "espeak-ng|vi-vn-x-central": "Giọng miền Trung (espeak-ng)",
    "espeak-ng|vi-vn-x-south": "Giọng miền Nam (espeak-ng)",
    "edge-tts|vi-VN-HoaiMyNeural": "Nữ – HoaiMy (Microsoft, cần Internet)",
    "edge-tts|vi-VN-NamMinhNeural": "Nam – NamMinh (Microsoft, cần Internet)",
}
PRIORITIES: dict[str, str] = {
    Priority.NORMAL.value: "Thông thường",
    Priority.PRIORITY.value: "Ưu tiên",
    Priority.EMERGENCY.value: "Khẩn cấp",
}
STATUSES: dict[str, str] = dict(approval.STATUS_VI)

Text = Annotated[str, Form()]


def _voice(value: str) -> VoiceSpec:
    if value not in VOICES:
        raise InvalidInput(f"unknown voice {value!r}", "Giọng đọc không hợp lệ.")
    engine, name = value.split("|", 1)
    return VoiceSpec(engine=engine, name=name)


def _priority(value: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise InvalidInput(f"unknown priority {value!r}", "Mức ưu tiên không hợp lệ.") from None


FIELD_VI = {"title": "Tiêu đề", "topic": "Chuyên đề", "body": "Nội dung", "legal_references": "Căn cứ pháp lý"}


def form_error(exc: ValidationError | ControllerError) -> str:
    """A Vietnamese message for what was wrong with the form."""
    if isinstance(exc, ControllerError):
        return exc.message_vi
    fields = sorted({FIELD_VI.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors() if e["loc"]})
    return f"Hãy kiểm tra lại: {', '.join(fields)}." if fields else "Dữ liệu nhập chưa hợp lệ."


def _references(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get("/bulletins")
def bulletin_list(
    request: Request,
    actor: WebActor,
    session: SessionDep,
    controller: ControllerDep,
    commune_id: int | None = None,
    topic: str = "",
    status: str = "",
    start: str = "",
    end: str = "",
) -> Response:
    scope = page_scope(session, actor, commune_id)
    ids = [scope.commune_id] if scope.commune_id is not None else scope.visible
    rows = bulletins.list_bulletins(
        session,
        topic or None,
        status=status or None,
        commune_ids=list(ids) if ids is not None else None,
    )
    tz = ZoneInfo(controller.settings.timezone)
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError:
        raise InvalidInput("bad date filter", "Ngày không hợp lệ (định dạng năm-tháng-ngày).") from None
    if first is not None:
        rows = [b for b in rows if b.updated_at >= datetime.combine(first, time(0), tz)]
    if last is not None:
        rows = [b for b in rows if b.updated_at < datetime.combine(last + timedelta(days=1), time(0), tz)]
    waiting = [b for b in rows if b.status == BulletinStatus.SUBMITTED.value]
    return render(
        request,
        "bulletins.html",
        actor=actor,
        scope=scope,
        rows=rows,
        waiting=waiting if actor.role in (Role.LEADER, Role.ADMIN) else [],
        topics=topics_for(session, scope.commune_id),
        statuses=STATUSES,
        filters={"topic": topic, "status": status, "start": start, "end": end},
        args={"commune_id": scope.commune_id, "topic": topic, "status": status, "start": start, "end": end},
        can_write=actor.role in (Role.OFFICER, Role.ADMIN),
    )


@router.get("/bulletins/new")
def bulletin_new(request: Request, actor: WebActor, session: SessionDep, commune_id: int | None = None) -> Response:
    scope = page_scope(session, actor, commune_id, write=True)
    return render(
        request,
        "bulletin_edit.html",
        actor=actor,
        scope=scope,
        bulletin=None,
        form={"title": "", "topic": "", "body": "", "references": "", "priority": "normal", "voice": "espeak-ng|vi"},
        topics=topics_for(session, scope.commune_id),
        voices=VOICES,
        priorities=PRIORITIES,
    )


@router.post("/bulletins/new")
def bulletin_create(
    request: Request,
    actor: WebActor,
    controller: ControllerDep,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    title: Text,
    topic: Text,
    body: Text,
    references: Text = "",
    priority: Text = "normal",
    voice: Text = "espeak-ng|vi",
    commune_id: Annotated[int | None, Form()] = None,
) -> Response:
    form = dict(title=title, topic=topic, body=body, references=references, priority=priority, voice=voice)
    try:
        data = BulletinCreate(
            commune_id=commune_id or actor.commune_id,
            title=title.strip(),
            topic=topic,
            body=body.strip(),
            legal_references=_references(references),
            priority=_priority(priority),
            voice=_voice(voice),
        )
        bulletin_id = bulletin_actions.create(ctx, data, actor).id
    except (ValidationError, ControllerError) as exc:
        with controller.session_factory() as session:
            scope = page_scope(session, actor, commune_id or actor.commune_id)
            return render(
                request,
                "bulletin_edit.html",
                actor=actor,
                status_code=422,
                scope=scope,
                bulletin=None,
                form=form,
                topics=topics_for(session, scope.commune_id),
                voices=VOICES,
                priorities=PRIORITIES,
                flash=form_error(exc),
                flash_kind="error",
            )
    return redirect(request, f"/bulletins/{bulletin_id}", "Đã lưu bản nháp. Hãy tạo âm thanh rồi nghe thử.")


def reading_rows(row: Bulletin) -> list[tuple[str, str, bool]]:
    """Each span the voice reads differently from how it is written: (written, spoken, pinned by the officer)."""
    pins = bulletins.pinned_readings(row)
    pinned = dict(pins)
    rows: list[tuple[str, str, bool]] = []
    for text in (row.title, row.body):
        for written, spoken in rewrites(text, normalize_pinned(text, pins)):
            if written not in pinned and all(written != r[0] for r in rows):
                rows.append((written, spoken, False))
    return [(w, s, True) for w, s in pins] + rows


def _pins_json(pins: list[tuple[str, str]]) -> str:
    """The pins for the editor's live estimate, safe inside a <script> element."""
    data = json.dumps([{"written": w, "spoken": s} for w, s in pins], ensure_ascii=False)
    return data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _detail(request: Request, actor: Actor, session: SessionDep, controller: Controller, row: Bulletin) -> Response:
    scope = page_scope(session, actor, row.commune_id) if row.commune_id is not None else None
    asset = row.audio_asset
    window = approval.DurationWindow(controller.settings.bulletin_min_s, controller.settings.bulletin_max_s)
    out_of_window = (
        asset is not None and row.priority != Priority.EMERGENCY.value and window.problem(asset.duration_s) is not None
    )
    editable = actor.can_edit and actor.role is not Role.LEADER
    return render(
        request,
        "bulletin_edit.html",
        actor=actor,
        scope=scope,
        bulletin=row,
        asset=asset,
        audio_url=f"/media/{asset.sha256}.mp3" if asset else None,
        spoken=bulletins.spoken_text(row),
        form={
            "title": row.title,
            "topic": row.topic,
            "body": row.body,
            "references": row.legal_references,
            "priority": row.priority,
            "voice": f"{row.voice_engine}|{row.voice_name}",
        },
        topics=topics_for(session, row.commune_id),
        voices=VOICES,
        priorities=PRIORITIES,
        statuses=STATUSES,
        trail=audit.trail(session, "bulletin", row.id),
        readings=reading_rows(row),
        pins_json=_pins_json(bulletins.pinned_readings(row)),
        editable=editable,
        can_submit=editable and row.status in ("draft", "rejected") and asset is not None,
        can_review=actor.role in (Role.LEADER, Role.ADMIN) and row.status == BulletinStatus.SUBMITTED.value,
        out_of_window=out_of_window,
        steps=journey.steps(session, row),
        window_text=window.problem(asset.duration_s) if out_of_window and asset else None,
    )


@router.get("/bulletins/{bulletin_id}")
def bulletin_detail(
    request: Request, bulletin_id: str, actor: WebActor, session: SessionDep, controller: ControllerDep
) -> Response:
    row = bulletins.get_visible_bulletin(session, bulletin_id, actor)
    return _detail(request, actor, session, controller, row)


@router.post("/bulletins/{bulletin_id}")
def bulletin_update(
    request: Request,
    bulletin_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    title: Text,
    topic: Text,
    body: Text,
    references: Text = "",
    priority: Text = "normal",
    voice: Text = "espeak-ng|vi",
) -> Response:
    try:
        data = BulletinUpdate(
            title=title.strip(),
            topic=topic,
            body=body.strip(),
            legal_references=_references(references),
            priority=_priority(priority),
            voice=_voice(voice),
        )
        bulletin_actions.edit(ctx, bulletin_id, data, actor)
    except ValidationError as exc:
        return redirect(request, f"/bulletins/{bulletin_id}", form_error(exc), "error")
    return redirect(request, f"/bulletins/{bulletin_id}", "Đã lưu thay đổi.")


@router.post("/bulletins/{bulletin_id}/readings")
def bulletin_pin_reading(
    request: Request,
    bulletin_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    written: Text,
    spoken: Text,
) -> Response:
    try:
        bulletin_actions.pin_reading(ctx, bulletin_id, written, spoken, actor)
    except InvalidInput as exc:
        return redirect(request, f"/bulletins/{bulletin_id}#readings", exc.message_vi, "error")
    return redirect(request, f"/bulletins/{bulletin_id}#readings", f"Đã ghim cách đọc «{' '.join(written.split())}».")


@router.post("/bulletins/{bulletin_id}/readings/unpin")
def bulletin_unpin_reading(
    request: Request, bulletin_id: str, actor: WebActor, ctx: ContextDep, _csrf: CsrfChecked, written: Text
) -> Response:
    bulletin_actions.unpin_reading(ctx, bulletin_id, written, actor)
    return redirect(request, f"/bulletins/{bulletin_id}#readings", "Đã bỏ ghim; hệ thống tự đọc lại đoạn này.")


@router.post("/bulletins/{bulletin_id}/render")
async def bulletin_render(
    request: Request, bulletin_id: str, actor: WebActor, ctx: ContextDep, _csrf: CsrfChecked
) -> Response:
    asset = await bulletin_actions.render(ctx, bulletin_id, actor)
    minutes, secs = divmod(round(asset.duration_s), 60)
    message = f"Đã tạo âm thanh ({minutes}:{secs:02d}). Hãy nghe thử."
    return redirect(request, f"/bulletins/{bulletin_id}#audio", message)


@router.post("/bulletins/{bulletin_id}/upload")
async def bulletin_upload(
    request: Request,
    bulletin_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    recording: Annotated[UploadFile, File()],
) -> Response:
    data = await recording.read(MAX_UPLOAD_BYTES + 1)
    await bulletin_actions.upload(ctx, bulletin_id, data, recording.filename or "recording", actor)
    return redirect(request, f"/bulletins/{bulletin_id}#audio", "Đã tải bản ghi âm lên.")


@router.post("/bulletins/{bulletin_id}/submit")
def bulletin_submit(
    request: Request,
    bulletin_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    duration_override: Text = "",
) -> Response:
    bulletin_actions.submit(ctx, bulletin_id, actor, duration_override)
    return redirect(request, f"/bulletins/{bulletin_id}", "Đã gửi bản tin cho lãnh đạo duyệt.")


@router.post("/bulletins/{bulletin_id}/approve")
def bulletin_approve(
    request: Request,
    bulletin_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    comment: Text = "",
) -> Response:
    bulletin_actions.approve(ctx, bulletin_id, actor, comment)
    return redirect(request, f"/bulletins/{bulletin_id}", "Đã duyệt bản tin. Bản tin có thể được xếp lịch phát.")


@router.post("/bulletins/{bulletin_id}/reject")
def bulletin_reject(
    request: Request,
    bulletin_id: str,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    comment: Text = "",
) -> Response:
    bulletin_actions.reject(ctx, bulletin_id, actor, comment)
    return redirect(request, f"/bulletins/{bulletin_id}", "Đã trả lại bản tin kèm ý kiến.", "warn")
