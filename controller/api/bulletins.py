"""Bulletins: writing, audio, approval, files."""

from __future__ import annotations

from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import PlainTextResponse

from controller.audio.engine import DEFAULT_PITCH, DEFAULT_RATE_WPM, Voice
from controller.audio.estimate import estimate_seconds
from controller.deps import ContextDep, ControllerDep, CurrentActor, SessionDep
from controller.schemas import (
    AudioAssetPublic,
    AuditEventPublic,
    BulletinCreate,
    BulletinPublic,
    BulletinStatus,
    BulletinUpdate,
    EstimatePublic,
    EstimateRequest,
    ReviewRequest,
    SpokenText,
    SubmitRequest,
)
from controller.services import audit, bulletin_actions, bulletin_files, bulletins
from controller.services.access import visible_commune_ids
from controller.services.bulletin_actions import MAX_UPLOAD_BYTES
from controller.services.bulletin_check import text_problems

router = APIRouter(prefix="/api/bulletins", tags=["bulletins"])


@router.post("", status_code=201)
def create_bulletin(data: BulletinCreate, ctx: ContextDep, actor: CurrentActor) -> BulletinPublic:
    """Create a draft. It can be scheduled only after a leader approves it."""
    return bulletin_actions.create(ctx, data, actor)


@router.get("")
def list_bulletins(
    session: SessionDep,
    controller: ControllerDep,
    actor: CurrentActor,
    topic: str | None = None,
    status: BulletinStatus | None = None,
) -> list[BulletinPublic]:
    base = controller.settings.resolved_public_base_url
    rows = bulletins.list_bulletins(
        session, topic, status=status.value if status else None, commune_ids=visible_commune_ids(session, actor)
    )
    return [bulletins.bulletin_public(b, base) for b in rows]


@router.post("/estimate")
def estimate(data: EstimateRequest) -> EstimatePublic:
    """The spoken text and its estimated duration, while the officer types."""
    text = bulletins.spoken(data.title, data.body)
    voice = Voice(
        engine=data.voice.engine,
        name=data.voice.name,
        rate_wpm=data.voice.rate_wpm or DEFAULT_RATE_WPM,
        pitch=data.voice.pitch if data.voice.pitch is not None else DEFAULT_PITCH,
    )
    seconds = estimate_seconds(text, voice)
    return EstimatePublic(spoken_text=text, estimated_s=seconds, problems=text_problems(text, seconds, data.priority))


@router.get("/{bulletin_id}")
def get_bulletin(
    bulletin_id: str, session: SessionDep, controller: ControllerDep, actor: CurrentActor
) -> BulletinPublic:
    row = bulletins.get_visible_bulletin(session, bulletin_id, actor)
    return bulletins.bulletin_public(row, controller.settings.resolved_public_base_url)


@router.patch("/{bulletin_id}")
def update_bulletin(bulletin_id: str, data: BulletinUpdate, ctx: ContextDep, actor: CurrentActor) -> BulletinPublic:
    """Edit. A submitted or approved bulletin goes back to draft and its future plays are held."""
    return bulletin_actions.edit(ctx, bulletin_id, data, actor)


@router.get("/{bulletin_id}/spoken-text")
def get_spoken_text(bulletin_id: str, session: SessionDep, actor: CurrentActor) -> SpokenText:
    """The text exactly as the voice will read it, so the officer can correct the script first."""
    row = bulletins.get_visible_bulletin(session, bulletin_id, actor)
    return SpokenText(bulletin_id=row.id, text=bulletins.spoken_text(row))


@router.post("/{bulletin_id}/render")
async def render_bulletin(bulletin_id: str, ctx: ContextDep, actor: CurrentActor) -> AudioAssetPublic:
    """Synthesise the bulletin with its voice and make the result its current audio.

    If the chosen engine is unreachable the offline voice is used and the answer says so (`fallback_from`).
    """
    return await bulletin_actions.render(ctx, bulletin_id, actor)


@router.post("/{bulletin_id}/upload")
async def upload_recording(
    bulletin_id: str, ctx: ContextDep, actor: CurrentActor, file: UploadFile
) -> AudioAssetPublic:
    """A recorded MP3, WAV, M4A or OGG becomes the bulletin's audio, mastered to the same loudness."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    return await bulletin_actions.upload(ctx, bulletin_id, data, file.filename or "recording", actor)


@router.post("/{bulletin_id}/submit")
def submit(bulletin_id: str, data: SubmitRequest, ctx: ContextDep, actor: CurrentActor) -> BulletinPublic:
    """Send for approval. Audio outside 3-5 minutes needs `duration_override` with a reason."""
    return bulletin_actions.submit(ctx, bulletin_id, actor, data.duration_override)


@router.post("/{bulletin_id}/approve")
def approve(bulletin_id: str, data: ReviewRequest, ctx: ContextDep, actor: CurrentActor) -> BulletinPublic:
    """A commune leader approves. Plays held by an earlier edit return with the approved audio."""
    return bulletin_actions.approve(ctx, bulletin_id, actor, data.comment)


@router.post("/{bulletin_id}/reject")
def reject(bulletin_id: str, data: ReviewRequest, ctx: ContextDep, actor: CurrentActor) -> BulletinPublic:
    """A commune leader sends it back with a comment."""
    return bulletin_actions.reject(ctx, bulletin_id, actor, data.comment)


@router.get("/{bulletin_id}/audit")
def get_audit(bulletin_id: str, session: SessionDep, actor: CurrentActor) -> list[AuditEventPublic]:
    """Every transition and change: who and when."""
    bulletins.get_visible_bulletin(session, bulletin_id, actor)
    return [AuditEventPublic.model_validate(e) for e in audit.trail(session, "bulletin", bulletin_id)]


@router.get("/{bulletin_id}/file", response_class=PlainTextResponse)
def export_file(
    bulletin_id: str, session: SessionDep, actor: CurrentActor, download: bool = Query(False)
) -> PlainTextResponse:
    """The bulletin as a Markdown file with YAML front matter, as kept in `bulletins/`."""
    row = bulletins.get_visible_bulletin(session, bulletin_id, actor)
    headers = {"Content-Disposition": f'attachment; filename="{row.id}.md"'} if download else {}
    return PlainTextResponse(
        bulletin_files.export_bulletin(session, row), media_type="text/markdown; charset=utf-8", headers=headers
    )
