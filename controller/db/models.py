"""SQLAlchemy 2 models. All instants are stored in UTC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.clock import utcnow
from controller.db.base import Base, UtcDateTime
from controller.db.status import PlayStatus


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
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    """Local wall-clock start of quiet hours (HH:MM): no normal or priority broadcast until `quiet_end`."""
    quiet_end: Mapped[str] = mapped_column(String(5), default="05:00")
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
    state_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """The `at` of the online/offline state `status` came from; an older state (a past session's Will) is ignored."""
    version: Mapped[str] = mapped_column(String(40), default="")
    manifest_revision: Mapped[int] = mapped_column(Integer, default=0)
    manifest_digest: Mapped[str] = mapped_column(String(64), default="")
    manifest_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    """Agent clock minus controller clock, from the last telemetry. Beyond ±1 s neighbours echo."""
    volume: Mapped[int | None] = mapped_column(Integer)
    current_play_id: Mapped[str | None] = mapped_column(String(64))
    telemetry: Mapped[str] = mapped_column(Text, default="")
    """The last telemetry message as JSON, for the cluster page."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    public_key: Mapped[str | None] = mapped_column(String(64))
    """The agent's own Ed25519 public key (base64 of 32 bytes), registered at enrolment. With it, every report
    must be signed by that key (protocol v1.2); without it (an agent never enrolled) reports travel unsigned."""
    key_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the post was retired: its broker login is removed (Mosquitto dynamic security) and it gets no plays."""


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
    lufs: Mapped[float | None] = mapped_column(Float)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float)
    fallback_from: Mapped[str | None] = mapped_column(String(120))
    """The engine/voice that was asked for but failed, when another engine made this audio."""
    fallback_reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16), default="tts")
    """tts or upload."""
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
    voice_rate_wpm: Mapped[int | None] = mapped_column(Integer)
    voice_pitch: Mapped[int | None] = mapped_column(Integer)
    intro_jingle: Mapped[str | None] = mapped_column(String(200))
    outro_jingle: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    """draft -> submitted -> approved, or rejected (back to draft on edit). Only approved bulletins air."""
    review_comment: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_override: Mapped[str] = mapped_column(Text, default="")
    """The officer's reason for airing audio outside the 3-5 minute window, if any."""
    pinned_readings: Mapped[str] = mapped_column(Text, default="")
    """The officer's pinned readings, JSON `[[written, spoken], ...]`: every engine says `spoken` for `written`."""
    created_by: Mapped[str | None] = mapped_column(String(80))
    audio_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("audio_asset.id", use_alter=True, name="fk_bulletin_audio_asset_id_audio_asset")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    audio_asset: Mapped[AudioAsset | None] = relationship(foreign_keys=[audio_asset_id])


class User(Base):
    """A person who signs in: admin, province viewer, commune officer or commune leader."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), index=True)
    province_id: Mapped[int | None] = mapped_column(ForeignKey("province.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEvent(Base):
    """Who did what, when: bulletin transitions, schedules, emergencies, kill switches."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"))
    detail: Mapped[str] = mapped_column(Text, default="")


class Topic(Base):
    """A topic (chuyên đề) a commune added to the default list."""

    __tablename__ = "topic"
    __table_args__ = (UniqueConstraint("commune_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))


class Slot(Base):
    """A named daily broadcast session (khung giờ) of a commune, in its local time."""

    __tablename__ = "slot"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    start_time: Mapped[str] = mapped_column(String(5))
    length_min: Mapped[int] = mapped_column(Integer)


class AgentGroup(Base):
    """A named set of clusters in one commune, as a programme target."""

    __tablename__ = "agent_group"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    agent_ids: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of agent ids."""


class Programme(Base):
    """An ordered playlist placed in a slot, with a recurrence and a target."""

    __tablename__ = "programme"
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16), default="commune")
    """commune, province or central: which tier issued it."""
    recurrence: Mapped[str] = mapped_column(Text)
    """JSON of `controller.scheduling.recurrence.Recurrence`."""
    target: Mapped[str] = mapped_column(Text)
    """JSON of `controller.schemas.Target`."""
    bulletin_ids: Mapped[str] = mapped_column(Text)
    """JSON list, in playing order (priority items are moved first when expanded)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    slot: Mapped[Slot] = relationship()


class Emergency(Base):
    """An emergency play-now (khẩn cấp) and, if used, its stop-all."""

    __tablename__ = "emergency"
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"))
    target: Mapped[str] = mapped_column(Text)
    interrupted: Mapped[str] = mapped_column(String(8), default="resume")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_by: Mapped[str | None] = mapped_column(String(80))


class SecurityEventRecord(Base):
    """A message an agent refused, as it reported it: an alert for the dashboard."""

    __tablename__ = "security_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")
    topic: Mapped[str] = mapped_column(String(300), default="")


class SchedulerLease(Base):
    """The single-scheduler guard: one row per lease, held by one process at a time."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


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
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"), index=True)
    emergency_id: Mapped[int | None] = mapped_column(ForeignKey("emergency.id"), index=True)
    slot_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """End of the slot it belongs to: after this plus a grace period, an unconfirmed play is missed."""
    agent_id: Mapped[str] = mapped_column(ForeignKey("agent.id"))
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"), index=True)
    audio_asset_id: Mapped[int] = mapped_column(ForeignKey("audio_asset.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default=PlayStatus.PLANNED.value)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_played_s: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(500))
    stale_schedule: Mapped[bool] = mapped_column(Boolean, default=False)
    """Played from a manifest revision that a later one held or cancelled ("phát theo lịch cũ"): counted apart."""
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
    seq: Mapped[int | None] = mapped_column(Integer)
    """The agent's sequence number of this confirmation (v1.2)."""
    manifest_revision: Mapped[int | None] = mapped_column(Integer)
    """The manifest revision the agent played it from (v1.2)."""


class PublicHold(Base):
    """A bulletin the officer keeps off the public page and the feeds, although it was approved and broadcast."""

    __tablename__ = "public_hold"
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"), primary_key=True)
    held_by: Mapped[str] = mapped_column(String(80))
    held_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(500), default="")


class ReachCount(Base):
    """Page views or listens of one public bulletin on one local day (YYYY-MM-DD), each visitor once a day."""

    __tablename__ = "reach_count"
    __table_args__ = (UniqueConstraint("day", "bulletin_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    bulletin_id: Mapped[str] = mapped_column(ForeignKey("bulletin.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """view or listen."""
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReachSalt(Base):
    """Today's random salt for the de-duplication hashes. Deleted, with every hash made from it, the next day."""

    __tablename__ = "reach_salt"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))


class ReachSeen(Base):
    """A salted hash of (visitor, bulletin, kind) counted today. It holds no address and cannot be reversed."""

    __tablename__ = "reach_seen"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)


class PublicRefusal(Base):
    """What the public pages refused on one local day (flood, honeypot, commune cap): counted, never stored."""

    __tablename__ = "public_refusal"
    __table_args__ = (UniqueConstraint("day", "reason"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)


class CitizenQuestion(Base):
    """A citizen's question from the public page: plain text only, and the officer's answer."""

    __tablename__ = "citizen_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    bulletin_id: Mapped[str | None] = mapped_column(ForeignKey("bulletin.id"), index=True)
    topic: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(120), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    """Given only by a citizen who wants a private answer; never shown on the public page."""
    body: Mapped[str] = mapped_column(Text)
    consent_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")
    """new, answered (in writing) or session (answered at a dialogue session)."""
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str | None] = mapped_column(String(80))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class ReportSequence(Base):
    """Every confirmation sequence number received from an agent, kept to find the ones that never arrived."""

    __tablename__ = "report_seq"
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, the database only its SHA-256 (the id)."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginThrottle(Base):
    """Recent failed logins for one key (`user:NAME` or `addr:IP`): delays grow, then the key is locked."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A per-user bearer token for API clients; only its SHA-256 is stored, and it can be revoked."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
