"""The bulletin operations both front-ends call: write, edit, render, upload, submit, approve, reject.

Each opens its transaction, writes its audit entry (in `bulletins` and `approval`) and re-sends the
manifests of clusters whose plays it held or released, after the commit.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.audio.upload import MAX_UPLOAD_BYTES
from controller.db.models import Topic
from controller.errors import InvalidInput
from controller.schemas import AudioAssetPublic, BulletinCreate, BulletinPublic, BulletinUpdate
from controller.services import approval, bulletins, readings
from controller.services.access import Actor
from controller.services.context import Context
from controller.topics import DEFAULT_TOPICS

__all__ = [
    "MAX_UPLOAD_BYTES",
    "approve",
    "create",
    "edit",
    "pin_reading",
    "reject",
    "render",
    "submit",
    "topics_for",
    "unpin_reading",
    "upload",
]


def create(ctx: Context, data: BulletinCreate, actor: Actor) -> BulletinPublic:
    """A new draft. It can be scheduled only after a leader approves it."""
    with ctx.transaction() as session:
        row = bulletins.create_bulletin(session, data, actor, jingles_dir=ctx.settings.jingles_dir)
        return bulletins.bulletin_public(row, ctx.base_url)


def edit(ctx: Context, bulletin_id: str, data: BulletinUpdate, actor: Actor) -> BulletinPublic:
    """Edit. A submitted or approved bulletin goes back to draft and its future plays are held."""
    with ctx.transaction() as session:
        bulletins.get_visible_bulletin(session, bulletin_id, actor)
        row, held = bulletins.update_bulletin(
            session, bulletin_id, data, actor, ctx.now(), jingles_dir=ctx.settings.jingles_dir
        )
        result = bulletins.bulletin_public(row, ctx.base_url)
    if held:
        ctx.dispatcher.refresh(held)
    return result


async def render(ctx: Context, bulletin_id: str, actor: Actor) -> AudioAssetPublic:
    """Synthesise the bulletin with its voice (in a worker thread) and make the result its current audio."""

    def work() -> tuple[AudioAssetPublic, set[str]]:
        with ctx.transaction() as session:
            bulletins.get_visible_bulletin(session, bulletin_id, actor)
            asset, held = bulletins.render_bulletin(
                session, ctx.store, bulletin_id, actor, ctx.now(), jingles_dir=ctx.settings.jingles_dir
            )
            return bulletins.asset_public(asset, ctx.base_url), held

    result, held = await asyncio.to_thread(work)
    if held:
        ctx.dispatcher.refresh(held)
    return result


async def upload(ctx: Context, bulletin_id: str, data: bytes, filename: str, actor: Actor) -> AudioAssetPublic:
    """A recorded MP3, WAV, M4A or OGG becomes the bulletin's audio, mastered to the same loudness.

    The caller reads at most `MAX_UPLOAD_BYTES + 1` bytes; a larger file is refused here.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput("upload larger than 100 MB", "Tệp tải lên lớn hơn 100 MB.")
    if not data:
        raise InvalidInput("empty upload", "Hãy chọn một tệp ghi âm.")

    def work() -> tuple[AudioAssetPublic, set[str]]:
        with ctx.transaction() as session:
            bulletins.get_visible_bulletin(session, bulletin_id, actor)
            asset, held = bulletins.upload_recording(
                session,
                ctx.store,
                bulletin_id,
                data,
                filename or "recording",
                actor,
                ctx.now(),
                jingles_dir=ctx.settings.jingles_dir,
            )
            return bulletins.asset_public(asset, ctx.base_url), held

    result, held = await asyncio.to_thread(work)
    if held:
        ctx.dispatcher.refresh(held)
    return result


def submit(ctx: Context, bulletin_id: str, actor: Actor, duration_override: str = "") -> BulletinPublic:
    """Send for approval. Audio outside the duration window needs an override with a reason."""
    window = approval.DurationWindow(ctx.settings.bulletin_min_s, ctx.settings.bulletin_max_s)
    with ctx.transaction() as session:
        bulletins.get_visible_bulletin(session, bulletin_id, actor)
        row = approval.submit(session, bulletin_id, actor, window=window, duration_override=duration_override)
        return bulletins.bulletin_public(row, ctx.base_url)


def approve(ctx: Context, bulletin_id: str, actor: Actor, comment: str) -> BulletinPublic:
    """A commune leader approves. Plays held by an earlier edit return with the approved audio."""
    with ctx.transaction() as session:
        bulletins.get_visible_bulletin(session, bulletin_id, actor)
        released = approval.approve(session, bulletin_id, actor, ctx.now(), comment)
        result = bulletins.bulletin_public(bulletins.get_bulletin(session, bulletin_id), ctx.base_url)
    if released:
        ctx.dispatcher.refresh(released)
    return result


def reject(ctx: Context, bulletin_id: str, actor: Actor, comment: str) -> BulletinPublic:
    """A commune leader sends it back with a comment."""
    with ctx.transaction() as session:
        bulletins.get_visible_bulletin(session, bulletin_id, actor)
        return bulletins.bulletin_public(approval.reject(session, bulletin_id, actor, comment), ctx.base_url)


def pin_reading(ctx: Context, bulletin_id: str, written: str, spoken: str, actor: Actor) -> None:
    """Pin how a span is read. Like an edit, it sends the bulletin back to draft and holds its plays."""
    with ctx.transaction() as session:
        bulletins.get_visible_bulletin(session, bulletin_id, actor)
        _, held = readings.pin_reading(session, bulletin_id, written, spoken, actor, ctx.now())
    if held:
        ctx.dispatcher.refresh(held)


def unpin_reading(ctx: Context, bulletin_id: str, written: str, actor: Actor) -> None:
    """Let the normaliser read the span again."""
    with ctx.transaction() as session:
        bulletins.get_visible_bulletin(session, bulletin_id, actor)
        _, held = readings.unpin_reading(session, bulletin_id, written, actor, ctx.now())
    if held:
        ctx.dispatcher.refresh(held)


def topics_for(session: Session, commune_id: int | None) -> dict[str, str]:
    """The default topics, plus those the commune added."""
    topics = dict(DEFAULT_TOPICS)
    mine = Topic.commune_id.is_(None) if commune_id is None else Topic.commune_id == commune_id
    stmt = select(Topic.code, Topic.name).where(mine | Topic.commune_id.is_(None))
    topics.update({code: name for code, name in session.execute(stmt)})
    return topics
