"""API schemas, kept apart from the ORM models: `XCreate` in, `XPublic` out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from protocol.messages import Priority, UtcInstant
from protocol.topics import AGENT_ID_PATTERN

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("thời điểm phải có múi giờ, ví dụ 2026-05-27T17:00:00+07:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class ProvinceCreate(Schema):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class ProvincePublic(ProvinceCreate):
    id: int


class CommuneCreate(Schema):
    province_id: int
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class CommunePublic(CommuneCreate):
    id: int


class VillageCreate(Schema):
    commune_id: int
    name: str = Field(min_length=1, max_length=200)


class VillagePublic(VillageCreate):
    id: int


class AgentCreate(Schema):
    id: str = Field(pattern=AGENT_ID_PATTERN)
    commune_id: int
    village_id: int | None = None
    name: str = Field(default="", max_length=200)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class AgentPublic(AgentCreate):
    status: str
    last_seen_at: datetime | None
    version: str
    manifest_revision: int


class VoiceSpec(Schema):
    engine: str = Field(default="espeak-ng", max_length=40)
    name: str = Field(default="vi", max_length=80)


class BulletinCreate(Schema):
    id: Slug | None = None
    commune_id: int | None = None
    title: str = Field(min_length=1, max_length=300)
    topic: Slug
    body: str = Field(min_length=1, max_length=50_000)
    legal_references: list[str] = Field(default_factory=list)
    priority: Priority = Priority.NORMAL
    language: str = Field(default="vi", max_length=16)
    voice: VoiceSpec = Field(default_factory=VoiceSpec)


class AudioAssetPublic(Schema):
    sha256: str
    size_bytes: int
    duration_s: float
    engine: str
    voice: str
    url: str


class BulletinPublic(Schema):
    id: str
    commune_id: int | None
    title: str
    topic: str
    body: str
    legal_references: list[str]
    priority: Priority
    language: str
    voice: VoiceSpec
    audio: AudioAssetPublic | None
    created_at: datetime


class SpokenText(Schema):
    """A bulletin's script after normalisation: what the TTS voice actually reads."""

    bulletin_id: str
    text: str


class ScheduleCreate(Schema):
    """Book a bulletin at one instant. No villages and no agents means the whole commune."""

    bulletin_id: str
    commune_id: int
    starts_at: AwareDatetime
    slot_name: str = Field(default="", max_length=80)
    village_ids: list[int] = Field(default_factory=list)
    agent_ids: list[str] = Field(default_factory=list)


class SchedulePublic(Schema):
    id: int
    bulletin_id: str
    commune_id: int
    slot_name: str
    starts_at: datetime
    target: str
    play_count: int


class PlayPublic(Schema):
    id: str
    schedule_id: int | None
    agent_id: str
    bulletin_id: str
    starts_at: datetime
    priority: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_played_s: float | None
    reason: str | None


class ReportRow(Schema):
    commune_id: int
    commune_code: str
    commune_name: str
    topic: str
    topic_name: str
    planned_plays: int
    confirmed_plays: int
    confirmed_minutes: float
    bulletins_broadcast: int


class QuarterlyReport(Schema):
    year: int
    quarter: int
    timezone: str
    period_start: datetime
    period_end: datetime
    rows: list[ReportRow]
    total_planned_plays: int
    total_confirmed_plays: int
    total_confirmed_minutes: float


class BroadcastLogEntry(Schema):
    play_id: str
    agent_id: str
    commune_name: str
    village_name: str | None
    bulletin_id: str
    title: str
    topic: str
    scheduled_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_played_s: float | None
    status: str


class ErrorPublic(Schema):
    detail: str = Field(description="Thông báo cho cán bộ (tiếng Việt)")
    error: str = Field(description="English message for logs")


__all__ = ["UtcInstant"]
