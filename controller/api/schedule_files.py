"""A commune's schedule as a YAML file (export, import) and as iCalendar."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from controller.api.errors import errors
from controller.deps import ContextDep, ControllerDep, CurrentActor, IdPath, SessionDep
from controller.errors import InvalidInput
from controller.services import schedule_actions
from controller.services.access import require_commune
from controller.services.schedule_files import ScheduleImportReport, export_schedule
from controller.services.schedule_ical import export_ical

router = APIRouter(prefix="/api/communes/{commune_id}/schedule", tags=["schedule files"])

MAX_FILE_BYTES = 1024 * 1024
YAML_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/yaml": {"schema": {"type": "string"}, "example": "commune: xa-mau\nprogrammes: []\n"}},
    }
}


@router.get(".yaml", response_class=PlainTextResponse, responses={200: {"content": {"text/yaml": {}}}})
def export_yaml(commune_id: IdPath, session: SessionDep, actor: CurrentActor) -> PlainTextResponse:
    """The commune's slots, groups and programmes in the format of `schedules/*.yaml`."""
    require_commune(session, actor, commune_id)
    return PlainTextResponse(
        export_schedule(session, commune_id),
        media_type="text/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="schedule-{commune_id}.yaml"'},
    )


@router.post(
    "",
    openapi_extra=YAML_BODY,
    responses=errors(409, e409="a programme has unresolved conflicts or refusals, listed in `issues`"),
)
async def import_yaml(
    commune_id: IdPath, request: Request, ctx: ContextDep, actor: CurrentActor
) -> ScheduleImportReport:
    """Apply a schedule file (body: the YAML text) with the same checks as the programme API; all or nothing."""
    body = await request.body()
    if len(body) > MAX_FILE_BYTES:
        raise InvalidInput("schedule file larger than 1 MB", "Tệp lịch lớn hơn 1 MB.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("schedule file is not UTF-8", "Tệp lịch phải được lưu bằng mã UTF-8.") from None
    return await schedule_actions.import_file(ctx, commune_id, text, actor)


@router.get(".ics", response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
def export_ics(
    commune_id: IdPath,
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    days: int = Query(default=30, ge=1, le=366),
) -> Response:
    """The next `days` days of broadcasts as iCalendar, one event per programme and day."""
    require_commune(session, actor, commune_id)
    return Response(
        export_ical(session, commune_id, controller.clock.now(), days),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="schedule-{commune_id}.ics"'},
    )
