"""SQLAlchemy 2 models. All instants are stored in UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controller.db.base import Base, UtcDateTime
from loa.clock import utcnow


class Province(Base):
    """A province (tỉnh / thành phố)."""

    __tablename__ = "province"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Commune(Base):
    """A commune or ward (xã / phường), the unit that runs a station."""

    __tablename__ = "commune"
    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("province.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    province: Mapped[Province] = relationship()


class Village(Base):
    """A village or residential group (thôn / tổ dân phố)."""

    __tablename__ = "village"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    name: Mapped[str] = mapped_column(String(200))


class Agent(Base):
    """A loudspeaker cluster (cụm loa): one edge agent with an amplifier."""

    __tablename__ = "agent"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[str] = mapped_column(String(40), default="")
    manifest_revision: Mapped[int] = mapped_column(Integer, default=0)
    manifest_digest: Mapped[str] = mapped_column(String(64), default="")
    manifest_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AudioAsset(Base):
    """A rendered or uploaded audio file, stored content-addressed by SHA-256."""

    __tablename__ = "audio_asset"
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(40))
    voice: Mapped[str] = mapped_column(String(80))
    input_key: Mapped[str | None] = mapped_column(String(64), index=True)
    """SHA-256 of what produced it (spoken text, engine, voice, settings): equal keys reuse the asset."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Bulletin(Base):
    """A legal-education bulletin (bản tin): script, topic, voice and current audio."""

    __tablename__ = "bulletin"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    legal_references: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    language: Mapped[str] = mapped_column(String(16), default="vi")
    voice_engine: Mapped[str] = mapped_column(String(40), default="espeak-ng")
    voice_name: Mapped[str] = mapped_column(String(80), default="vi")
    audio_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("audio_asset.id", use_alter=True, name="fk_bulletin_audio_asset_id_audio_asset")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    audio_asset: Mapped[AudioAsset | None] = relationship(foreign_keys=[audio_asset_id])


class Schedule(Base):
    """A broadcast booking (lịch phát): one bulletin at one instant for a set of clusters.

    Recurring slots and programmes build on this in the scheduling issue.
    """

    __tablename__ = "schedule"
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"))
    slot_name: Mapped[str] = mapped_column(String(80), default="")
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    target: Mapped[str] = mapped_column(Text, default="commune")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Play(Base):
    """One scheduled occurrence of a bulletin on one cluster. Its id is the wire `play_id`."""

    __tablename__ = "play"
    __table_args__ = (
        UniqueConstraint("schedule_id", "agent_id", "starts_at"),
        Index("ix_play_agent_starts", "agent_id", "starts_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedule.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agent.id"))
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"), index=True)
    audio_asset_id: Mapped[int] = mapped_column(ForeignKey("audio_asset.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="planned")
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_played_s: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(500))
    agent: Mapped[Agent] = relationship()
    bulletin: Mapped[Bulletin] = relationship()
    audio_asset: Mapped[AudioAsset] = relationship()


class PlayEvent(Base):
    """A play confirmation as received. Unique on msg_id and on (play_id, event): never counted twice."""

    __tablename__ = "play_event"
    __table_args__ = (UniqueConstraint("play_id", "event"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    play_id: Mapped[str] = mapped_column(ForeignKey("play.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_played_s: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
