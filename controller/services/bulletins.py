"""Bulletins: create, edit, read, and render to audio. Approval lives in `approval`, files in `bulletin_files`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.clock import utcnow
from controller.audio import MediaStore, RenderedAudio, Voice, render_key, render_text, render_upload
from controller.audio.engine import DEFAULT_PITCH, DEFAULT_RATE_WPM
from controller.audio.master import JINGLES_DIR, LoudnessMastering
from controller.db.models import AudioAsset, Bulletin, Play
from controller.db.status import PlayStatus
from controller.errors import NotFound
from controller.schemas import (
    AudioAssetPublic,
    BulletinCreate,
    BulletinPublic,
    BulletinStatus,
    BulletinUpdate,
    PinnedReading,
    VoiceSpec,
)
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.geo import add_unique, get_commune
from controller.services.references import check_bulletin_fields
from controller.text.pinned import normalize_pinned
from protocol.messages import Priority

"""A future play of a bulletin that was edited after approval: kept off manifests until it is approved again."""


def create_bulletin(
    session: Session, data: BulletinCreate, actor: Actor, *, jingles_dir: Path | None = None
) -> Bulletin:
    """A new bulletin, always as a draft. A commune login's bulletin belongs to its commune."""
    check_bulletin_fields(data.model_dump(), jingles_dir)
    commune_id = data.commune_id
    if commune_id is None and actor.commune_id is not None:
        commune_id = actor.commune_id
    require_commune(session, actor, commune_id, write=True)
    if commune_id is not None:
        get_commune(session, commune_id)
    row = Bulletin(
        id=data.id or uuid.uuid4().hex[:12],
        commune_id=commune_id,
        status=BulletinStatus.DRAFT.value,
        created_by=actor.username,
    )
    _apply(row, data.model_dump(exclude={"id", "commune_id"}))
    add_unique(session, row, f"bulletin {row.id}", f"Bản tin {row.id}")
    audit.record(session, actor, "create", "bulletin", row.id, commune_id=commune_id, detail=row.title)
    return row


def _apply(row: Bulletin, fields: dict[str, object]) -> bool:
    """Copy schema fields onto the row. Returns whether anything changed."""
    changed = False

    def put(attr: str, value: object) -> None:
        nonlocal changed
        if getattr(row, attr, None) != value:
            setattr(row, attr, value)
            changed = True

    for key, value in fields.items():
        if key == "voice" and isinstance(value, dict):
            put("voice_engine", value["engine"])
            put("voice_name", value["name"])
            put("voice_rate_wpm", value.get("rate_wpm"))
            put("voice_pitch", value.get("pitch"))
        elif key == "legal_references" and isinstance(value, list):
            put("legal_references", "\n".join(str(v) for v in value))
        elif key == "priority" and value is not None:
            put("priority", Priority(str(value)).value)
        elif key == "pinned_readings" and isinstance(value, list):
            put("pinned_readings", encode_pinned([(str(r["written"]), str(r["spoken"])) for r in value]))
        else:
            put(key, value)
    return changed


def update_bulletin(
    session: Session,
    bulletin_id: str,
    data: BulletinUpdate,
    actor: Actor,
    now: datetime,
    *,
    jingles_dir: Path | None = None,
) -> tuple[Bulletin, set[str]]:
    """Edit a bulletin. A change to a submitted or approved bulletin sends it back to draft and holds
    its future plays. Returns the bulletin and the clusters whose manifests changed."""
    row = get_bulletin(session, bulletin_id)
    require_commune(session, actor, row.commune_id, write=True)
    fields = data.model_dump(exclude_unset=True)
    if data.voice is not None:
        fields["voice"] = data.voice.model_dump()  # the whole voice, defaults included, not only what was sent
    check_bulletin_fields(fields, jingles_dir)
    if not _apply(row, fields):
        return row, set()
    held = return_to_draft(session, row, actor, now, reason="edited")
    audit.record(
        session, actor, "edit", "bulletin", row.id, commune_id=row.commune_id, detail=", ".join(sorted(fields))
    )
    session.flush()
    return row, held


def return_to_draft(session: Session, row: Bulletin, actor: Actor, now: datetime, *, reason: str) -> set[str]:
    """After a change: back to draft, approval cleared, future plays held. Returns the affected clusters."""
    if row.status == BulletinStatus.DRAFT.value:
        return set()
    was = row.status
    row.status = BulletinStatus.DRAFT.value
    row.approved_by = None
    row.approved_at = None
    audit.record(session, actor, "to-draft", "bulletin", row.id, commune_id=row.commune_id, detail=f"{was}: {reason}")
    return hold_future_plays(session, row.id, now) if was == BulletinStatus.APPROVED.value else set()


def hold_future_plays(session: Session, bulletin_id: str, now: datetime) -> set[str]:
    agents = set(
        session.scalars(
            update(Play)
            .where(Play.bulletin_id == bulletin_id, Play.status == PlayStatus.PLANNED, Play.starts_at > now)
            .values(status=PlayStatus.HELD)
            .returning(Play.agent_id)
        )
    )
    return agents


def get_bulletin(session: Session, bulletin_id: str) -> Bulletin:
    row = session.get(Bulletin, bulletin_id)
    if row is None:
        raise NotFound(f"bulletin {bulletin_id} not found", "Không tìm thấy bản tin.")
    return row


def get_visible_bulletin(session: Session, bulletin_id: str, actor: Actor) -> Bulletin:
    """The bulletin, if the actor may see it; another commune's bulletin is reported as not found."""
    row = get_bulletin(session, bulletin_id)
    if row.commune_id is not None and actor.commune_id is not None and row.commune_id != actor.commune_id:
        raise NotFound(f"bulletin {bulletin_id} not visible to {actor.username}", "Không tìm thấy bản tin.")
    require_commune(session, actor, row.commune_id)
    return row


def list_bulletins(
    session: Session,
    topic: str | None = None,
    *,
    status: str | None = None,
    commune_ids: list[int] | None = None,
) -> Sequence[Bulletin]:
    """Bulletins, newest first. `commune_ids` limits to those communes plus province-wide bulletins."""
    stmt = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id)
    if topic:
        stmt = stmt.where(Bulletin.topic == topic)
    if status:
        stmt = stmt.where(Bulletin.status == status)
    if commune_ids is not None:
        stmt = stmt.where(Bulletin.commune_id.in_(commune_ids) | Bulletin.commune_id.is_(None))
    return session.scalars(stmt).all()


def media_url(base_url: str, sha256: str) -> str:
    return f"{base_url.rstrip('/')}/media/{sha256}.mp3"


def asset_public(asset: AudioAsset, base_url: str) -> AudioAssetPublic:
    return AudioAssetPublic(
        sha256=asset.sha256,
        size_bytes=asset.size_bytes,
        duration_s=asset.duration_s,
        engine=asset.engine,
        voice=asset.voice,
        url=media_url(base_url, asset.sha256),
        lufs=asset.lufs,
        true_peak_dbtp=asset.true_peak_dbtp,
        source=asset.source,
        fallback_from=asset.fallback_from,
        fallback_reason=asset.fallback_reason,
    )


def voice_spec(row: Bulletin) -> VoiceSpec:
    return VoiceSpec(engine=row.voice_engine, name=row.voice_name, rate_wpm=row.voice_rate_wpm, pitch=row.voice_pitch)


def bulletin_public(row: Bulletin, base_url: str) -> BulletinPublic:
    return BulletinPublic(
        id=row.id,
        commune_id=row.commune_id,
        title=row.title,
        topic=row.topic,
        body=row.body,
        legal_references=legal_references(row),
        priority=Priority(row.priority),
        language=row.language,
        voice=voice_spec(row),
        intro_jingle=row.intro_jingle,
        outro_jingle=row.outro_jingle,
        pinned_readings=[PinnedReading(written=w, spoken=s) for w, s in pinned_readings(row)],
        audio=asset_public(row.audio_asset, base_url) if row.audio_asset else None,
        status=BulletinStatus(row.status),
        review_comment=row.review_comment,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        duration_override=row.duration_override,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def encode_pinned(pins: Sequence[tuple[str, str]]) -> str:
    """The `bulletin.pinned_readings` column: JSON `[[written, spoken], ...]`, or "" when there is none."""
    return json.dumps([list(pin) for pin in pins], ensure_ascii=False) if pins else ""


def pinned_readings(row: Bulletin) -> list[tuple[str, str]]:
    """The officer's pinned readings of this bulletin, in the order they were pinned."""
    return [(str(w), str(s)) for w, s in json.loads(row.pinned_readings)] if row.pinned_readings else []


def legal_references(row: Bulletin) -> list[str]:
    return [r for r in row.legal_references.split("\n") if r]


def spoken_text(row: Bulletin) -> str:
    """What the voice reads: the normalised title, a pause, then the normalised body.

    Dates, numbers, document numbers and abbreviations are spelled out the way a speaker says them, and
    the officer's pinned readings replace the normaliser's where they apply. Every engine gets this text.
    """
    return spoken(row.title, row.body, pinned_readings(row))


def spoken(title: str, body: str, pins: Sequence[tuple[str, str]] = ()) -> str:
    body_words = normalize_pinned(body, pins)
    return f"{normalize_pinned(title, pins)}.\n\n{body_words}" if title else body_words


def bulletin_voice(row: Bulletin) -> Voice:
    return Voice(
        engine=row.voice_engine,
        name=row.voice_name,
        rate_wpm=row.voice_rate_wpm or DEFAULT_RATE_WPM,
        pitch=row.voice_pitch if row.voice_pitch is not None else DEFAULT_PITCH,
    )


def render_bulletin(
    session: Session,
    store: MediaStore,
    bulletin_id: str,
    actor: Actor | None = None,
    now: datetime | None = None,
    *,
    jingles_dir: Path | None = None,
) -> tuple[AudioAsset, set[str]]:
    """Make the bulletin's current audio, synthesising only if this exact input was never rendered.

    New audio for a submitted or approved bulletin sends it back to draft (the leader approves what they
    heard). Returns the asset and the clusters whose plays were held as a result.
    """
    actor = actor or Actor.system()
    row = get_bulletin(session, bulletin_id)
    require_commune(session, actor, row.commune_id, write=True)
    voice = bulletin_voice(row)
    text = spoken_text(row)
    mastering = LoudnessMastering(intro=row.intro_jingle, outro=row.outro_jingle, jingle_dir=jingles_dir or JINGLES_DIR)
    key = render_key(text, voice, mastering)
    cached = session.scalars(
        select(AudioAsset).where(AudioAsset.input_key == key).order_by(AudioAsset.id.desc())
    ).first()
    if cached is not None and store.exists(cached.sha256) and cached.fallback_from is None:
        # A fallback render is not cached: the next attempt should try the engine that was asked for.
        if cached.bulletin_id == row.id:
            return _make_current(session, row, cached, actor, now)
        source: AudioAsset | RenderedAudio = cached  # same input rendered for another bulletin: share the file
    else:
        source = render_text(text, voice, store, mastering=mastering)
    asset = AudioAsset(
        bulletin_id=row.id,
        sha256=source.sha256,
        size_bytes=source.size_bytes,
        duration_s=source.duration_s,
        engine=source.engine,
        voice=source.voice,
        input_key=key,
        lufs=source.lufs,
        true_peak_dbtp=source.true_peak_dbtp,
        fallback_from=source.fallback_from,
        fallback_reason=source.fallback_reason,
        source="tts",
    )
    session.add(asset)
    session.flush()
    detail = f"{asset.engine}/{asset.voice} {asset.duration_s:.0f}s"
    if asset.fallback_from:
        detail += f" (fallback from {asset.fallback_from}: {asset.fallback_reason})"
    audit.record(session, actor, "render", "bulletin", row.id, commune_id=row.commune_id, detail=detail)
    return _make_current(session, row, asset, actor, now)


def attach_asset(
    session: Session, row: Bulletin, asset: AudioAsset, actor: Actor, now: datetime | None
) -> tuple[AudioAsset, set[str]]:
    """Make `asset` the bulletin's audio (an upload, say), sending a reviewed bulletin back to draft."""
    return _make_current(session, row, asset, actor, now)


def _make_current(
    session: Session, row: Bulletin, asset: AudioAsset, actor: Actor, now: datetime | None
) -> tuple[AudioAsset, set[str]]:
    held: set[str] = set()
    if row.audio_asset_id != asset.id:
        previous = row.audio_asset
        if previous is None or previous.sha256 != asset.sha256:
            held = return_to_draft(session, row, actor, now or utcnow(), reason="new audio")
        row.audio_asset_id = asset.id
        session.flush()
        session.refresh(row)
    return asset, held


def upload_recording(
    session: Session,
    store: MediaStore,
    bulletin_id: str,
    data: bytes,
    filename: str,
    actor: Actor,
    now: datetime,
    *,
    jingles_dir: Path | None = None,
) -> tuple[AudioAsset, set[str]]:
    """A human recording (MP3, WAV, M4A, OGG) as the bulletin's audio, mastered like synthesised speech.

    For ethnic-minority-language bulletins and human announcers. Like new TTS audio, it sends a reviewed
    bulletin back to draft.
    """
    row = get_bulletin(session, bulletin_id)
    require_commune(session, actor, row.commune_id, write=True)
    mastering = LoudnessMastering(intro=row.intro_jingle, outro=row.outro_jingle, jingle_dir=jingles_dir or JINGLES_DIR)
    rendered = render_upload(data, filename, store, mastering=mastering)
    asset = AudioAsset(
        bulletin_id=row.id,
        sha256=rendered.sha256,
        size_bytes=rendered.size_bytes,
        duration_s=rendered.duration_s,
        engine=rendered.engine,
        voice=rendered.voice,
        input_key=None,
        lufs=rendered.lufs,
        true_peak_dbtp=rendered.true_peak_dbtp,
        source="upload",
    )
    session.add(asset)
    session.flush()
    detail = f"upload {filename} {rendered.duration_s:.0f}s"
    audit.record(session, actor, "upload", "bulletin", row.id, commune_id=row.commune_id, detail=detail)
    return _make_current(session, row, asset, actor, now)
