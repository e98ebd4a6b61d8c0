"""API schemas, kept apart from the ORM models: `XCreate` in, `XPublic` out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from controller.scheduling.recurrence import Recurrence
from protocol.messages import Priority, UtcInstant
from protocol.topics import AGENT_ID_PATTERN

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]

MAX_ID = 2**31 - 1
"""The largest id both databases hold (PostgreSQL INTEGER; SQLite takes more, but the two must agree)."""

RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""A database id in a JSON body: a whole number from 1 to 2³¹−1; `true` is not an id."""


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
    province_id: RowId
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class CommunePublic(CommuneCreate):
    id: int


class VillageCreate(Schema):
    commune_id: RowId
    name: str = Field(min_length=1, max_length=200)


class VillagePublic(VillageCreate):
    id: int


class AgentCreate(Schema):
    id: str = Field(pattern=AGENT_ID_PATTERN)
    commune_id: RowId
    village_id: RowId | None = None
    name: str = Field(default="", max_length=200)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    public_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9+/]{43}=$",
        description="the post's own Ed25519 public key (base64 of 32 bytes), as enrolment registers it (v1.2)",
    )


CLOCK_SKEW_LIMIT_S = 1.0
"""Neighbouring horns more than this far apart echo."""


class AgentPublic(AgentCreate):
    status: str
    last_seen_at: datetime | None
    version: str
    manifest_revision: int
    clock_offset_s: float | None = None
    volume: int | None = None
    current_play_id: str | None = None
    retired_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def clock_skewed(self) -> bool:
        """Flagged when the agent's clock is more than 1 s from the controller's."""
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > CLOCK_SKEW_LIMIT_S


class VoiceSpec(Schema):
    """Engine and voice. The voice carries the accent: espeak-ng `vi` (Bắc), `vi-vn-x-central` (Trung),
    `vi-vn-x-south` (Nam); edge-tts `vi-VN-HoaiMyNeural` (nữ), `vi-VN-NamMinhNeural` (nam)."""

    engine: str = Field(default="espeak-ng", max_length=40)
    name: str = Field(default="vi", max_length=80)
    rate_wpm: int | None = Field(default=None, ge=60, le=300)
    pitch: int | None = Field(default=None, ge=0, le=99)


JingleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")]


class BulletinStatus(StrEnum):
    """Approval state. Only `approved` bulletins can be scheduled."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


def _one_line(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


def _spoken_words(value: str) -> str:
    value = _one_line(value)
    if any(c.isdigit() for c in value) or any(c in value for c in "<>{}"):
        raise ValueError("a reading is written in words: no digits, no markup")
    return value


class PinnedReading(Schema):
    """The officer's reading of one span of a bulletin: every engine says `spoken` wherever `written` is."""

    written: Annotated[str, AfterValidator(_one_line)] = Field(min_length=1, max_length=200)
    spoken: Annotated[str, AfterValidator(_spoken_words)] = Field(min_length=1, max_length=400)


class BulletinCreate(Schema):
    id: Slug | None = None
    commune_id: RowId | None = None
    title: str = Field(min_length=1, max_length=300)
    topic: Slug
    body: str = Field(min_length=1, max_length=50_000)
    legal_references: list[str] = Field(default_factory=list)
    priority: Priority = Priority.NORMAL
    language: str = Field(default="vi", max_length=16)
    voice: VoiceSpec = Field(default_factory=VoiceSpec)
    intro_jingle: JingleName | None = None
    outro_jingle: JingleName | None = None
    pinned_readings: list[PinnedReading] = Field(default_factory=list, max_length=200)


class BulletinUpdate(Schema):
    """A change to a bulletin. Any change to a submitted or approved bulletin returns it to draft."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    topic: Slug | None = None
    body: str | None = Field(default=None, min_length=1, max_length=50_000)
    legal_references: list[str] | None = None
    priority: Priority | None = None
    language: str | None = Field(default=None, max_length=16)
    voice: VoiceSpec | None = None
    intro_jingle: JingleName | None = None
    outro_jingle: JingleName | None = None
    pinned_readings: list[PinnedReading] | None = Field(default=None, max_length=200)


class SubmitRequest(Schema):
    duration_override: str = Field(
        default="", max_length=1000, description="Lý do phát bản tin ngoài khoảng 3–5 phút, nếu có"
    )


class ReviewRequest(Schema):
    comment: str = Field(default="", max_length=2000)


class EstimateRequest(Schema):
    """Text as the officer types it, for a live duration estimate."""

    title: str = Field(default="", max_length=300)
    body: str = Field(default="", max_length=50_000)
    voice: VoiceSpec = Field(default_factory=VoiceSpec)
    priority: Priority = Priority.NORMAL
    pinned_readings: list[PinnedReading] = Field(default_factory=list, max_length=200)


class EstimatePublic(Schema):
    spoken_text: str
    estimated_s: float
    problems: list[str]


class AudioAssetPublic(Schema):
    sha256: str
    size_bytes: int
    duration_s: float
    engine: str
    voice: str
    url: str
    lufs: float | None = None
    true_peak_dbtp: float | None = None
    source: str = "tts"
    fallback_from: str | None = None
    fallback_reason: str | None = None


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
    intro_jingle: str | None = None
    outro_jingle: str | None = None
    pinned_readings: list[PinnedReading] = Field(default_factory=list)
    audio: AudioAssetPublic | None
    status: BulletinStatus = BulletinStatus.DRAFT
    review_comment: str = ""
    approved_by: str | None = None
    approved_at: datetime | None = None
    duration_override: str = ""
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


class AuditEventPublic(Schema):
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: str


class SpokenText(Schema):
    """A bulletin's script after normalisation: what the TTS voice actually reads."""

    bulletin_id: str
    text: str


class ScheduleCreate(Schema):
    """Book a bulletin at one instant. No villages and no agents means the whole commune."""

    bulletin_id: str
    commune_id: RowId
    starts_at: AwareDatetime
    slot_name: str = Field(default="", max_length=80)
    village_ids: list[RowId] = Field(default_factory=list)
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
    stale_plays: int = 0
    """Played from a schedule a later revision held or cancelled ("phát theo lịch cũ"): not in the counts above."""


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
    total_stale_plays: int = 0


class BroadcastLogEntry(Schema):
    play_id: str
    agent_id: str
    agent_name: str | None = None
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


HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="GG:PP, giờ địa phương")]


class SlotCreate(Schema):
    """A daily broadcast session (khung giờ), e.g. Sáng 05:30 for 30 minutes."""

    commune_id: RowId
    name: str = Field(min_length=1, max_length=80)
    start_time: HHMM
    length_min: int = Field(ge=1, le=240)


class SlotPublic(SlotCreate):
    id: int


class GroupCreate(Schema):
    """A named set of clusters, as a programme target."""

    commune_id: RowId
    name: str = Field(min_length=1, max_length=120)
    agent_ids: list[str] = Field(min_length=1)


class GroupPublic(GroupCreate):
    id: int


class Target(Schema):
    """Where a programme plays. All empty means the whole commune; otherwise the union of what is named."""

    village_ids: list[RowId] = Field(default_factory=list)
    agent_ids: list[str] = Field(default_factory=list)
    group_ids: list[RowId] = Field(default_factory=list)

    @property
    def whole_commune(self) -> bool:
        return not (self.village_ids or self.agent_ids or self.group_ids)


class Origin(StrEnum):
    """Which tier issued a programme's content."""

    COMMUNE = "commune"
    PROVINCE = "province"
    CENTRAL = "central"


class ProgrammeCreate(Schema):
    """An ordered playlist of approved bulletins, placed in a slot, with a recurrence and a target.

    `acknowledged` lists the codes of conflicts the officer has seen and accepts (see `ProgrammeIssue`).
    """

    commune_id: RowId
    slot_id: RowId
    name: str = Field(min_length=1, max_length=200)
    bulletin_ids: list[str] = Field(min_length=1, max_length=50)
    recurrence: Recurrence = Field(default_factory=Recurrence)
    target: Target = Field(default_factory=Target)
    origin: Origin = Origin.COMMUNE
    acknowledged: list[str] = Field(default_factory=list)


class ProgrammePublic(Schema):
    id: int
    commune_id: int
    slot_id: int
    slot_name: str
    name: str
    bulletin_ids: list[str]
    recurrence: Recurrence
    recurrence_vi: str
    target: Target
    origin: Origin
    active: bool
    created_by: str | None


class IssueKind(StrEnum):
    """A conflict must be acknowledged before saving; a warning is shown but does not block."""

    CONFLICT = "conflict"
    WARNING = "warning"
    REFUSAL = "refusal"
    """Cannot be acknowledged away: quiet hours, unapproved bulletins."""


class ProgrammeIssue(Schema):
    """One problem found before saving, with a stable `code` the officer acknowledges."""

    code: str
    kind: IssueKind
    message_vi: str
    message: str


class ProgrammeCheck(Schema):
    issues: list[ProgrammeIssue]
    plays_in_horizon: int
    clusters: int

    @property
    def blocking(self) -> list[ProgrammeIssue]:
        return [i for i in self.issues if i.kind is not IssueKind.WARNING]


class InterruptPolicyName(StrEnum):
    RESUME = "resume"
    SKIP = "skip"


class EmergencyRequest(Schema):
    """A play-now of an approved bulletin to chosen clusters, preempting whatever plays there."""

    commune_id: RowId
    bulletin_id: str
    target: Target = Field(default_factory=Target)
    interrupted: InterruptPolicyName = InterruptPolicyName.RESUME


class EmergencyPreview(Schema):
    """What an emergency would do, and the token that confirms it (valid for two minutes)."""

    bulletin_title: str
    clusters: list[str]
    confirm_token: str


class EmergencyConfirm(Schema):
    confirm_token: str


class EmergencyPublic(Schema):
    id: int
    commune_id: int
    bulletin_id: str
    clusters: list[str]
    interrupted: str
    created_by: str
    created_at: datetime
    stopped_at: datetime | None


class StopAllRequest(Schema):
    """The kill switch: silence every cluster of a commune (or the listed ones) now."""

    commune_id: RowId
    agent_ids: list[str] = Field(default_factory=list)


class StopAllResult(Schema):
    clusters: list[str]
    stopped_at: datetime


class QuietHours(Schema):
    start: HHMM = "21:00"
    end: HHMM = "05:00"


class ErrorPublic(BaseModel):
    """Every refusal the API makes: a Vietnamese message, an English one, and sometimes details (extra keys)."""

    model_config = ConfigDict(extra="allow")
    detail: str = Field(description="Thông báo cho cán bộ (tiếng Việt)")
    error: str = Field(default="", description="English message for logs")


class FieldErrorsPublic(BaseModel):
    """A request that does not fit the schema (FastAPI's validation answer): one entry per wrong field."""

    detail: list[dict[str, Any]]


class PasswordChange(Schema):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200)


class SessionPublic(Schema):
    """A live sign-in of a user (a browser), without its secret token."""

    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    user_agent: str
    address: str


class ApiTokenCreate(Schema):
    name: str = Field(min_length=1, max_length=80, description="Tên để nhận ra mã, ví dụ 'máy chủ báo cáo'")


class ApiTokenPublic(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None


class ApiTokenSecret(ApiTokenPublic):
    token: str = Field(description="The bearer token; shown only once, keep it secret")


class LoginLockPublic(Schema):
    key: str = Field(description="user:NAME or addr:IP")
    failures: int
    locked_until: datetime | None


class RevokedCount(Schema):
    revoked: int


__all__ = ["UtcInstant"]


class QuestionStatus(StrEnum):
    """Where a citizen's question stands: not answered, answered in writing, or at a dialogue session."""

    NEW = "new"
    ANSWERED = "answered"
    SESSION = "session"

    @property
    def label_vi(self) -> str:
        return {
            QuestionStatus.NEW: "Chưa trả lời",
            QuestionStatus.ANSWERED: "Đã trả lời",
            QuestionStatus.SESSION: "Đã trả lời tại buổi đối thoại",
        }[self]
