"""Bulletins and their audio."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from controller.api.deps import ControllerDep, SessionDep
from controller.db.session import transaction
from controller.schemas import AudioAssetPublic, BulletinCreate, BulletinPublic, SpokenText
from controller.services import bulletins

router = APIRouter(prefix="/api/bulletins", tags=["bulletins"])


@router.post("", status_code=201)
def create_bulletin(data: BulletinCreate, session: SessionDep, controller: ControllerDep) -> BulletinPublic:
    row = bulletins.create_bulletin(session, data)
    return bulletins.bulletin_public(row, controller.settings.resolved_public_base_url)


@router.get("")
def list_bulletins(session: SessionDep, controller: ControllerDep, topic: str | None = None) -> list[BulletinPublic]:
    base = controller.settings.resolved_public_base_url
    return [bulletins.bulletin_public(b, base) for b in bulletins.list_bulletins(session, topic)]


@router.get("/{bulletin_id}")
def get_bulletin(bulletin_id: str, session: SessionDep, controller: ControllerDep) -> BulletinPublic:
    row = bulletins.get_bulletin(session, bulletin_id)
    return bulletins.bulletin_public(row, controller.settings.resolved_public_base_url)


@router.get("/{bulletin_id}/spoken-text")
def get_spoken_text(bulletin_id: str, session: SessionDep) -> SpokenText:
    """The text exactly as the voice will read it, so the officer can correct the script first."""
    row = bulletins.get_bulletin(session, bulletin_id)
    return SpokenText(bulletin_id=row.id, text=bulletins.spoken_text(row))


@router.post("/{bulletin_id}/render")
async def render_bulletin(bulletin_id: str, controller: ControllerDep) -> AudioAssetPublic:
    """Synthesise the bulletin with its voice and make the result its current audio."""

    def work() -> AudioAssetPublic:
        with transaction(controller.session_factory) as session:
            asset = bulletins.render_bulletin(session, controller.store, bulletin_id)
            return bulletins.asset_public(asset, controller.settings.resolved_public_base_url)

    return await run_in_threadpool(work)
