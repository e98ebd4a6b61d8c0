"""Bulletins: create, read, render to audio, and import from Markdown files."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.audio import MediaStore, RenderedAudio, Voice, render_text
from controller.db.models import AudioAsset, Bulletin
from controller.errors import InvalidInput, NotFound
from controller.schemas import AudioAssetPublic, BulletinCreate, BulletinPublic, VoiceSpec
from controller.services.geo import add_unique, get_commune
from controller.text.normalize import normalize
from protocol.messages import Priority


def create_bulletin(session: Session, data: BulletinCreate) -> Bulletin:
    if data.commune_id is not None:
        get_commune(session, data.commune_id)
    row = Bulletin(
        id=data.id or uuid.uuid4().hex[:12],
        commune_id=data.commune_id,
        title=data.title,
        topic=data.topic,
        body=data.body,
        legal_references="\n".join(data.legal_references),
        priority=data.priority.value,
        language=data.language,
        voice_engine=data.voice.engine,
        voice_name=data.voice.name,
    )
    add_unique(session, row, f"bulletin {row.id}", f"Bản tin {row.id}")
    return row


def get_bulletin(session: Session, bulletin_id: str) -> Bulletin:
    row = session.get(Bulletin, bulletin_id)
    if row is None:
        raise NotFound(f"bulletin {bulletin_id} not found", "Không tìm thấy bản tin.")
    return row


def list_bulletins(session: Session, topic: str | None = None) -> Sequence[Bulletin]:
    stmt = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id)
    if topic:
        stmt = stmt.where(Bulletin.topic == topic)
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
    )


def bulletin_public(row: Bulletin, base_url: str) -> BulletinPublic:
    return BulletinPublic(
        id=row.id,
        commune_id=row.commune_id,
        title=row.title,
        topic=row.topic,
        body=row.body,
        legal_references=[r for r in row.legal_references.split("\n") if r],
        priority=Priority(row.priority),
        language=row.language,
        voice=VoiceSpec(engine=row.voice_engine, name=row.voice_name),
        audio=asset_public(row.audio_asset, base_url) if row.audio_asset else None,
        created_at=row.created_at,
    )


def spoken_text(row: Bulletin) -> str:
    """What the voice reads: the normalised title, a pause, then the normalised body.

    Dates, numbers, document numbers and abbreviations are spelled out the way a speaker says them.
    """
    return f"{normalize(row.title)}.\n\n{normalize(row.body)}"


# Bump when synthesis or mastering changes what identical input produces.
RENDER_PIPELINE = "espeak-peak-mp3-32k/1"


def render_key(text: str, voice: Voice) -> str:
    """Identifies a render by its input: spoken text, engine, voice, rate, pitch and pipeline."""
    parts = [RENDER_PIPELINE, voice.engine, voice.name, str(voice.rate_wpm), str(voice.pitch), text]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def render_bulletin(session: Session, store: MediaStore, bulletin_id: str) -> AudioAsset:
    """Make the bulletin's current audio, synthesising only if this exact input was never rendered.

    espeak-ng's output drifts by a few samples between calls, so without this cache every click on
    "render" would store a new file for unchanged text.
    """
    row = get_bulletin(session, bulletin_id)
    voice = Voice(engine=row.voice_engine, name=row.voice_name)
    text = spoken_text(row)
    key = render_key(text, voice)
    cached = session.scalars(
        select(AudioAsset).where(AudioAsset.input_key == key).order_by(AudioAsset.id.desc())
    ).first()
    source: AudioAsset | RenderedAudio
    if cached is not None and store.exists(cached.sha256):
        if cached.bulletin_id == row.id:
            row.audio_asset_id = cached.id
            session.flush()
            session.refresh(row)
            return cached
        source = cached  # same input rendered for another bulletin: share the file
    else:
        source = render_text(text, voice, store)
    asset = AudioAsset(
        bulletin_id=row.id,
        sha256=source.sha256,
        size_bytes=source.size_bytes,
        duration_s=source.duration_s,
        engine=source.engine,
        voice=source.voice,
        input_key=key,
    )
    session.add(asset)
    session.flush()
    row.audio_asset_id = asset.id
    session.flush()
    session.refresh(row)
    return asset


def parse_bulletin_file(path: Path) -> BulletinCreate:
    """Read a Markdown bulletin with YAML front matter (see bulletins/README.md)."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise InvalidInput(f"{path}: missing YAML front matter", f"Tệp {path.name} thiếu phần khai báo (front matter).")
    try:
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: bad front matter: {exc}", f"Tệp {path.name}: phần khai báo bị lỗi.") from exc
    if not isinstance(meta, dict):
        raise InvalidInput(f"{path}: front matter is not a mapping", f"Tệp {path.name}: khai báo sai dạng.")
    meta.setdefault("id", path.stem)
    meta["body"] = body.strip()
    try:
        return BulletinCreate.model_validate(meta)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(
            f"{path}: field {field}: {err['msg']}", f"Tệp {path.name}: trường '{field}' không hợp lệ."
        ) from None
